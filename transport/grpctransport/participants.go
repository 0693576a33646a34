package grpctransport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"

	"google.golang.org/grpc"

	"github.com/frostd/frostd/coordinator"
	"github.com/frostd/frostd/pki"
	frostdv1 "github.com/frostd/frostd/proto/frostd/v1"
	"github.com/frostd/frostd/protocol"
)

// Participants is a coordinator.Transport that calls participants over
// gRPC with mutual TLS. It knows participants by id: membership (or the
// configuration of a static cluster) tells it their addresses with
// SetAddress. It dials a participant on the first call to it, keeps one
// connection per participant and reuses it, and checks on every
// handshake that the server's certificate is that participant's.
//
// Participants is safe for concurrent use.
type Participants struct {
	tls  *tls.Config
	opts []grpc.DialOption

	mu     sync.Mutex
	addrs  map[protocol.ParticipantID]string
	conns  map[protocol.ParticipantID]*participantConn
	closed bool
}

type participantConn struct {
	addr string
	cc   *grpc.ClientConn
	rpc  frostdv1.ParticipantClient
}

var _ coordinator.Transport = (*Participants)(nil)

// ParticipantsOptions adjusts NewParticipants.
type ParticipantsOptions struct {
	// DialOptions are added to the transport's own (credentials and
	// reconnection backoff), for example interceptors for metrics.
	DialOptions []grpc.DialOption
}

// NewParticipants returns a transport that presents the coordinator
// certificate of tlsConf (from pki.ClientTLS) to participants.
func NewParticipants(tlsConf *tls.Config, opts ParticipantsOptions) *Participants {
	return &Participants{
		tls:   tlsConf,
		opts:  opts.DialOptions,
		addrs: make(map[protocol.ParticipantID]string),
		conns: make(map[protocol.ParticipantID]*participantConn),
	}
}

// SetAddress sets the address (host:port) participant id is reached at.
// A changed address closes the connection to the old one; calls on it
// fail as unavailable.
func (t *Participants) SetAddress(id protocol.ParticipantID, addr string) {
	t.mu.Lock()
	var old *participantConn
	if t.addrs[id] != addr {
		t.addrs[id] = addr
		old = t.conns[id]
		delete(t.conns, id)
	}
	t.mu.Unlock()
	if old != nil {
		old.cc.Close()
	}
}

// RemoveAddress forgets participant id's address and closes the
// connection to it; calls to it fail with protocol.ErrUnavailable until
// SetAddress.
func (t *Participants) RemoveAddress(id protocol.ParticipantID) {
	t.mu.Lock()
	old := t.conns[id]
	delete(t.addrs, id)
	delete(t.conns, id)
	t.mu.Unlock()
	if old != nil {
		old.cc.Close()
	}
}

// Close closes every connection. Calls in flight fail, and later ones
// fail with protocol.ErrUnavailable.
func (t *Participants) Close() error {
	t.mu.Lock()
	conns := t.conns
	t.conns = map[protocol.ParticipantID]*participantConn{}
	t.closed = true
	t.mu.Unlock()
	var errs []error
	for _, c := range conns {
		errs = append(errs, c.cc.Close())
	}
	return errors.Join(errs...)
}

// conn returns the connection to participant id, making it if needed.
// grpc.NewClient does not dial: the first call does.
func (t *Participants) conn(id protocol.ParticipantID) (*participantConn, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, fmt.Errorf("participant %d: the transport is closed: %w", id, protocol.ErrUnavailable)
	}
	if c := t.conns[id]; c != nil {
		return c, nil
	}
	addr, ok := t.addrs[id]
	if !ok {
		return nil, fmt.Errorf("participant %d has no known address (is it running and a member?): %w", id, protocol.ErrUnavailable)
	}
	tlsConf := pki.RequirePeer(t.tls, func(peer pki.Identity) error {
		if peer.Role != pki.RoleParticipant || peer.ParticipantID != id {
			return fmt.Errorf("dialled participant %d at %s but reached %s; fix the address", id, addr, peer)
		}
		return nil
	})
	cc, err := grpc.NewClient(addr, dialOptions(tlsConf, t.opts)...)
	if err != nil {
		return nil, fmt.Errorf("participant %d at %s: %v: %w", id, addr, err, protocol.ErrUnavailable)
	}
	c := &participantConn{addr: addr, cc: cc, rpc: frostdv1.NewParticipantClient(cc)}
	t.conns[id] = c
	return c, nil
}

// Commit implements coordinator.Transport.
func (t *Participants) Commit(ctx context.Context, to protocol.ParticipantID, req protocol.CommitRequest) (protocol.CommitResponse, error) {
	c, err := t.conn(to)
	if err != nil {
		return protocol.CommitResponse{}, err
	}
	resp, err := c.rpc.Commit(ctx, commitRequestToProto(req))
	if err != nil {
		return protocol.CommitResponse{}, participantError(ctx, to, c.addr, err)
	}
	out, err := commitResponseFromProto(resp)
	if err != nil {
		return protocol.CommitResponse{}, fmt.Errorf("participant %d at %s answered: %w", to, c.addr, err)
	}
	return out, nil
}

// Sign implements coordinator.Transport.
func (t *Participants) Sign(ctx context.Context, to protocol.ParticipantID, req protocol.SignRequest) (protocol.SignResponse, error) {
	c, err := t.conn(to)
	if err != nil {
		return protocol.SignResponse{}, err
	}
	resp, err := c.rpc.Sign(ctx, signRequestToProto(req))
	if err != nil {
		return protocol.SignResponse{}, participantError(ctx, to, c.addr, err)
	}
	out, err := signResponseFromProto(resp)
	if err != nil {
		return protocol.SignResponse{}, fmt.Errorf("participant %d at %s answered: %w", to, c.addr, err)
	}
	return out, nil
}
