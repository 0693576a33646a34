package dkg

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sync"

	"github.com/frostd/frostd/protocol"
)

// This file drives whole ceremonies in memory, for tests, benchmarks and
// simulations: the same Ceremony state machines a network driver runs, with
// a router in place of the network and faults injected into chosen
// participants.

// Fault makes one participant of an in-memory ceremony misbehave.
type Fault struct {
	act     act
	by, arg protocol.ParticipantID
}

type act uint8

const (
	actBadProof act = iota + 1
	actCorruptShare
	actEquivocate
	actBadEcho
	actBadConfirm
	actFalseComplaint
	actSilent
)

// faults is how one Ceremony misbehaves; the zero value is honest.
type faults struct {
	badProof              bool
	equivocate            bool
	badEcho, badConfirm   bool
	corruptShareTo        protocol.ParticipantID
	falseComplaintAgainst protocol.ParticipantID
}

// BadProof makes a key generation participant send a round-1 proof of
// knowledge that does not verify.
func BadProof(by protocol.ParticipantID) Fault { return Fault{act: actBadProof, by: by} }

// CorruptShare makes a participant send participant to a share (validly
// encrypted and signed) that does not match its commitment.
func CorruptShare(by, to protocol.ParticipantID) Fault {
	return Fault{act: actCorruptShare, by: by, arg: to}
}

// Equivocate makes a participant send two different, each valid, round-1
// packages: one to the participants with odd ids, one to those with even.
func Equivocate(by protocol.ParticipantID) Fault { return Fault{act: actEquivocate, by: by} }

// BadEcho makes a participant echo a hash that is not that of the round-1
// set it received.
func BadEcho(by protocol.ParticipantID) Fault { return Fault{act: actBadEcho, by: by} }

// BadConfirm makes a participant confirm a transcript other than its own.
func BadConfirm(by protocol.ParticipantID) Fault { return Fault{act: actBadConfirm, by: by} }

// FalseComplaint makes a participant claim that the (good) share it got
// from against is bad.
func FalseComplaint(by, against protocol.ParticipantID) Fault {
	return Fault{act: actFalseComplaint, by: by, arg: against}
}

// Silent makes a participant send nothing at all.
func Silent(by protocol.ParticipantID) Fault { return Fault{act: actSilent, by: by} }

// Outcome is how an in-memory ceremony ended for every participant.
type Outcome struct {
	// Group is the group every participant ended with; nil unless all
	// succeeded and agree.
	Group *protocol.Group
	// Shares holds participant i's key share at index i-1; nil unless
	// Group is set.
	Shares []protocol.KeyShare
	// Errs holds participant i's error at index i-1, nil if it succeeded.
	// A participant that still waited when no message was left in flight
	// has an error wrapping ErrStalled.
	Errs []error
	// Messages counts the messages delivered.
	Messages int
}

// Sim runs ceremonies in memory.
type Sim struct {
	Faults []Fault
	// Seed, if not zero, delivers the messages in flight in an order
	// drawn from it instead of first in, first out.
	Seed uint64
	// Trace, if set, sees every message as it is delivered.
	Trace func(to protocol.ParticipantID, m Message)
}

// RunLocal runs a t-of-n key generation in memory, with optional faults.
// It returns an error, wrapping the first honest participant's, unless
// every participant succeeded with the same group.
func RunLocal(t, n uint16, faults ...Fault) (*Outcome, error) {
	return Sim{Faults: faults}.Keygen(t, n)
}

// RefreshLocal refreshes the shares of a group in memory: shares must hold
// the current share of every one of its members.
func RefreshLocal(g *protocol.Group, shares []protocol.KeyShare, faults ...Fault) (*Outcome, error) {
	return Sim{Faults: faults}.Refresh(g, shares)
}

// Keygen runs a t-of-n key generation in memory.
func (s Sim) Keygen(t, n uint16) (*Outcome, error) {
	cfgs, err := s.configs(t, n)
	if err != nil {
		return nil, err
	}
	cs := make([]*Ceremony, n)
	for i, cfg := range cfgs {
		if cs[i], err = NewKeygen(cfg); err != nil {
			return nil, err
		}
	}
	return s.run(cs)
}

// Refresh refreshes a group's shares in memory; every member takes part.
func (s Sim) Refresh(g *protocol.Group, shares []protocol.KeyShare) (*Outcome, error) {
	if g == nil {
		return nil, errors.New("dkg: Refresh needs the current group")
	}
	byID := make(map[protocol.ParticipantID]protocol.KeyShare, len(shares))
	for _, ks := range shares {
		byID[ks.ID] = ks
	}
	var missing []protocol.ParticipantID
	for _, id := range g.IDs() {
		if _, ok := byID[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 || len(byID) != len(g.Members) {
		return nil, fmt.Errorf("%w: missing the shares of %v (got %d shares for %d members); bring every holder, or make a new group with a key generation", ErrAllMustTakePart, missing, len(byID), len(g.Members))
	}
	for _, f := range s.Faults {
		if f.act == actBadProof {
			return nil, errors.New("dkg: BadProof applies to key generation; a refresh deals zero and proves nothing")
		}
	}
	cfgs, err := s.configs(g.Threshold, g.MaxSigners)
	if err != nil {
		return nil, err
	}
	cs := make([]*Ceremony, len(cfgs))
	for i, cfg := range cfgs {
		if cs[i], err = NewRefresh(cfg, g, byID[cfg.Self]); err != nil {
			return nil, err
		}
	}
	return s.run(cs)
}

// configs makes fresh identities and a roster for n participants.
func (s Sim) configs(t, n uint16) ([]Config, error) {
	if n < 2 || n > MaxParticipants {
		return nil, fmt.Errorf("dkg: a ceremony needs 2 to %d participants, not %d", MaxParticipants, n)
	}
	id, err := NewCeremonyID()
	if err != nil {
		return nil, err
	}
	roster := make([]ed25519.PublicKey, n)
	keys := make([]ed25519.PrivateKey, n)
	for i := range keys {
		if roster[i], keys[i], err = ed25519.GenerateKey(rand.Reader); err != nil {
			return nil, fmt.Errorf("dkg: making identity keys: %w", err)
		}
	}
	cfgs := make([]Config, n)
	for i := range cfgs {
		cfgs[i] = Config{ID: id, Threshold: t, Self: protocol.ParticipantID(i + 1), Identity: keys[i], Roster: roster}
	}
	for _, f := range s.Faults {
		if f.by == 0 || f.by > n || (f.arg != 0 && (f.arg > n || f.arg == f.by)) {
			return nil, fmt.Errorf("dkg: fault names participants %d and %d of %d", f.by, f.arg, n)
		}
	}
	return cfgs, nil
}

type envelope struct {
	to protocol.ParticipantID
	m  Message
}

func (s Sim) run(cs []*Ceremony) (*Outcome, error) {
	n := protocol.ParticipantID(len(cs))
	silent := make(map[protocol.ParticipantID]bool)
	faulty := make(map[protocol.ParticipantID]bool)
	for _, f := range s.Faults {
		c := cs[f.by-1]
		faulty[f.by] = true
		switch f.act {
		case actBadProof:
			c.fault.badProof = true
		case actCorruptShare:
			c.fault.corruptShareTo = f.arg
		case actEquivocate:
			c.fault.equivocate = true
		case actBadEcho:
			c.fault.badEcho = true
		case actBadConfirm:
			c.fault.badConfirm = true
		case actFalseComplaint:
			c.fault.falseComplaintAgainst = f.arg
		case actSilent:
			silent[f.by] = true
		}
	}

	var queue []envelope
	route := func(from protocol.ParticipantID, msgs []Message) {
		if silent[from] {
			return
		}
		commits := 0
		for _, m := range msgs {
			if m.Round == RoundCommit {
				commits++
			}
		}
		seen := 0
		for _, m := range msgs {
			if m.To != 0 {
				queue = append(queue, envelope{m.To, m})
				continue
			}
			half := -1 // to everyone
			if commits == 2 && m.Round == RoundCommit {
				// An equivocator's two packages: the first to odd ids,
				// the second to even ones.
				half = seen
				seen++
			}
			for to := protocol.ParticipantID(1); to <= n; to++ {
				if to != from && (half < 0 || int(to%2) == 1-half) {
					queue = append(queue, envelope{to, m})
				}
			}
		}
	}

	for i, c := range cs {
		msgs, _ := c.Start() // a failure shows in the outcome
		route(protocol.ParticipantID(i+1), msgs)
	}
	var rng *mrand.Rand
	if s.Seed != 0 {
		rng = mrand.New(mrand.NewPCG(s.Seed, s.Seed^0x9e3779b97f4a7c15))
	}
	out := &Outcome{Errs: make([]error, n)}
	// Deliver in waves: every message in flight (with Seed, a random half
	// of them; the rest wait) goes to its recipient, each recipient
	// stepping its messages in order on its own goroutine. The ceremonies
	// share nothing, so this is as deterministic as one queue, and uses
	// every core.
	outs := make([][]Message, n)
	rejected := make([]error, n)
	for len(queue) > 0 {
		var wave []envelope
		if rng == nil {
			wave, queue = queue, nil
		} else {
			var later []envelope
			for _, e := range queue {
				if rng.IntN(2) == 0 {
					wave = append(wave, e)
				} else {
					later = append(later, e)
				}
			}
			if len(wave) == 0 {
				wave, later = later[:1], later[1:]
			}
			rng.Shuffle(len(wave), func(i, j int) { wave[i], wave[j] = wave[j], wave[i] })
			queue = later
		}
		inbox := make([][]Message, n)
		for _, e := range wave {
			if s.Trace != nil {
				s.Trace(e.to, e.m)
			}
			inbox[e.to-1] = append(inbox[e.to-1], e.m)
		}
		out.Messages += len(wave)
		var wg sync.WaitGroup
		for i, msgs := range inbox {
			if len(msgs) == 0 {
				continue
			}
			wg.Go(func() {
				for _, m := range msgs {
					sent, err := cs[i].Step(m)
					if errors.Is(err, ErrRejected) && rejected[i] == nil {
						rejected[i] = fmt.Errorf("dkg: in-memory ceremony: participant %d rejected %v (a bug: the router only delivers signed messages): %w", i+1, m, err)
					}
					outs[i] = append(outs[i], sent...)
				}
			})
		}
		wg.Wait()
		if err := errors.Join(rejected...); err != nil {
			return nil, err
		}
		for i := range outs {
			route(protocol.ParticipantID(i+1), outs[i])
			outs[i] = outs[i][:0]
		}
	}

	var first error
	for i, c := range cs {
		id := protocol.ParticipantID(i + 1)
		g, ks, err := c.Result()
		if errors.Is(err, ErrNotFinished) {
			err = fmt.Errorf("%w: participant %d still waits for a message from %v", ErrStalled, id, c.Waiting())
		}
		out.Errs[i] = err
		if err != nil {
			if first == nil && !faulty[id] {
				first = fmt.Errorf("dkg: in-memory ceremony failed: participant %d: %w", id, err)
			}
			continue
		}
		if out.Group == nil {
			out.Group = g
		} else if !out.Group.Equal(g) {
			first = errors.Join(first, fmt.Errorf("dkg: participants 1 and %d ended with different groups (a bug: the confirmation round should have caught it)", id))
		}
		out.Shares = append(out.Shares, ks)
	}
	if first == nil && len(out.Shares) != int(n) {
		first = errors.New("dkg: in-memory ceremony failed, at faulty participants only")
	}
	if first != nil {
		for i := range out.Shares {
			clear(out.Shares[i].Secret[:])
		}
		out.Group, out.Shares = nil, nil
		return out, first
	}
	return out, nil
}
