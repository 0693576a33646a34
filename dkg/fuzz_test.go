package dkg

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/frostd/frostd/protocol"
)

// seedMessages runs a 2-of-3 ceremony with an injected fault, so that
// every round, a reveal and a complaint occur, and returns every message.
func seedMessages(f *testing.F) []Message {
	var all []Message
	for _, faults := range [][]Fault{nil, {Equivocate(2)}, {CorruptShare(1, 3)}} {
		s := Sim{Faults: faults, Trace: func(_ protocol.ParticipantID, m Message) { all = append(all, m) }}
		s.Keygen(2, 3)
	}
	return all
}

func FuzzMessageUnmarshal(f *testing.F) {
	for _, m := range seedMessages(f) {
		b, err := m.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		if err := m.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, ErrMalformedMessage) {
				t.Fatalf("error %v does not wrap ErrMalformedMessage", err)
			}
			return
		}
		out, err := m.MarshalBinary()
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("decoded %v but it re-encodes differently (%v): one encoding per message", m, err)
		}
	})
}

func FuzzPayloads(f *testing.F) {
	for _, m := range seedMessages(f) {
		f.Add(uint8(m.Round), uint16(2), m.Payload)
	}
	f.Fuzz(func(t *testing.T, round uint8, th uint16, b []byte) {
		switch Round(round) {
		case RoundCommit:
			th = th%MaxParticipants + 2
			for _, k := range []kind{kindKeygen, kindRefresh} {
				if r, err := decodeRound1(b, k, th); err == nil && !bytes.Equal(r.encode(), b) {
					t.Fatalf("%s commit payload re-encodes differently", k)
				}
			}
		case RoundReveal:
			if ms, err := decodeReveal(b); err == nil {
				if out, err := encodeReveal(ms); err != nil || !bytes.Equal(out, b) {
					t.Fatalf("reveal re-encodes differently (%v)", err)
				}
			}
		case RoundComplaint:
			if c, err := decodeComplaint(b); err == nil {
				if out, err := c.encode(); err != nil || !bytes.Equal(out, b) {
					t.Fatalf("complaint re-encodes differently (%v)", err)
				}
			}
		}
	})
}

// FuzzStep feeds participant 1 of a 2-of-3 key generation messages that
// participant 2 really signed, with fuzzed round, recipient and payload: a
// malicious but authenticated peer. Step must not panic, and may only
// accept, reject, or name participant 2: nothing 2 signs can convict
// another participant.
func FuzzStep(f *testing.F) {
	for _, m := range seedMessages(f) {
		f.Add(uint8(m.Round), uint8(m.To), m.Payload)
	}
	f.Fuzz(func(t *testing.T, round, to uint8, payload []byte) {
		cfgs, err := Sim{}.configs(2, 3)
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewKeygen(cfgs[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Start(); err != nil {
			t.Fatal(err)
		}
		key := cfgs[1].Identity.(ed25519.PrivateKey)
		m := Message{Ceremony: cfgs[0].ID, Round: Round(round), From: 2, To: protocol.ParticipantID(to), Payload: payload}
		m.Signature = ed25519.Sign(key, signedBytes(c.ctx, m.Round, m.From, m.To, m.Payload))
		_, err = c.Step(m)
		var ce *CulpritError
		switch {
		case err == nil, errors.Is(err, ErrRejected):
		case errors.As(err, &ce):
			if ce.ID != 2 {
				t.Fatalf("a message signed by 2 convicted participant %d: %v", ce.ID, err)
			}
		default:
			t.Fatalf("Step: %v", err)
		}
	})
}
