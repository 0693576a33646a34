package coordinator

import (
	"context"
	"fmt"
	"sync"

	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/protocol"
)

// MemoryTransport delivers requests to participants in the same process,
// for tests, simulations and the embedded examples. Fault hooks make a
// participant silent or make it tamper with its answers.
type MemoryTransport struct {
	// Peer is the identity participants see as the asking coordinator.
	Peer string

	mu     sync.RWMutex
	parts  map[protocol.ParticipantID]*participant.Participant
	faults map[protocol.ParticipantID]Fault
}

// Fault changes how one participant behaves on a MemoryTransport.
type Fault struct {
	// Silent makes the participant never answer: calls block until ctx ends.
	Silent bool
	// TamperShare, if set, rewrites every signature share it returns.
	TamperShare func(*protocol.SignatureShare)
}

// NewMemoryTransport returns a transport to the given participants.
func NewMemoryTransport(parts ...*participant.Participant) *MemoryTransport {
	t := &MemoryTransport{Peer: "coordinator", parts: make(map[protocol.ParticipantID]*participant.Participant), faults: make(map[protocol.ParticipantID]Fault)}
	for _, p := range parts {
		t.parts[p.ID()] = p
	}
	return t
}

// SetParticipant adds or replaces a participant (as after a restart); nil
// removes it, so calls to it fail as unreachable.
func (t *MemoryTransport) SetParticipant(id protocol.ParticipantID, p *participant.Participant) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p == nil {
		delete(t.parts, id)
		return
	}
	t.parts[id] = p
}

// SetFault sets a participant's fault; the zero Fault clears it.
func (t *MemoryTransport) SetFault(id protocol.ParticipantID, f Fault) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults[id] = f
}

func (t *MemoryTransport) get(ctx context.Context, id protocol.ParticipantID) (*participant.Participant, Fault, error) {
	t.mu.RLock()
	p, f := t.parts[id], t.faults[id]
	t.mu.RUnlock()
	if p == nil {
		return nil, f, fmt.Errorf("participant %d is not running: %w", id, protocol.ErrUnavailable)
	}
	if f.Silent {
		<-ctx.Done()
		return nil, f, fmt.Errorf("participant %d: %w", id, ctx.Err())
	}
	return p, f, ctx.Err()
}

// Commit implements Transport.
func (t *MemoryTransport) Commit(ctx context.Context, to protocol.ParticipantID, req protocol.CommitRequest) (protocol.CommitResponse, error) {
	p, _, err := t.get(ctx, to)
	if err != nil {
		return protocol.CommitResponse{}, err
	}
	return p.Commit(t.Peer, req)
}

// Sign implements Transport.
func (t *MemoryTransport) Sign(ctx context.Context, to protocol.ParticipantID, req protocol.SignRequest) (protocol.SignResponse, error) {
	p, f, err := t.get(ctx, to)
	if err != nil {
		return protocol.SignResponse{}, err
	}
	resp, err := p.Sign(t.Peer, req)
	if err == nil && f.TamperShare != nil {
		for i := range resp.Shares {
			f.TamperShare(&resp.Shares[i])
		}
	}
	return resp, err
}
