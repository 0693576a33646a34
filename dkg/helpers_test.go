package dkg_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	secretsharing "github.com/bytemare/secret-sharing"
	"github.com/bytemare/secret-sharing/keys"

	"github.com/frostd/frostd/coordinator"
	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/protocol"
)

// service starts a coordinator over in-memory participants built, with
// participant.New, from these shares, each checked against group g.
func service(t *testing.T, g *protocol.Group, parts ...*participant.Participant) *coordinator.Service {
	t.Helper()
	// The race detector slows the curve arithmetic about tenfold; this
	// bounds a round, it is not a timing assertion.
	cfg := coordinator.ServiceConfig{Config: coordinator.Config{Group: g, AttemptTimeout: time.Minute}}
	svc, err := coordinator.NewService(cfg, coordinator.NewMemoryTransport(parts...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	svc.MarkAllReachable()
	return svc
}

func newParticipant(t *testing.T, g *protocol.Group, ks protocol.KeyShare) *participant.Participant {
	t.Helper()
	p, err := participant.New(participant.Config{Group: g, KeyShare: ks, Store: participant.NewMemoryStore()})
	if err != nil {
		t.Fatalf("participant.New(share %d): %v", ks.ID, err)
	}
	return p
}

// signAndVerify signs with a cluster made from the shares and checks the
// signature with crypto/ed25519.
func signAndVerify(t *testing.T, g *protocol.Group, shares []protocol.KeyShare) {
	t.Helper()
	parts := make([]*participant.Participant, len(shares))
	for i, ks := range shares {
		parts[i] = newParticipant(t, g, ks)
	}
	svc := service(t, g, parts...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	msg := []byte("signed by a key no machine ever held")
	sig, err := svc.Sign(ctx, msg)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if !ed25519.Verify(g.PublicKey, msg, sig) {
		t.Fatal("the signature does not verify under the group key")
	}
}

func frostShares(t *testing.T, g *protocol.Group, shares []protocol.KeyShare) []*keys.KeyShare {
	t.Helper()
	out := make([]*keys.KeyShare, len(shares))
	for i, s := range shares {
		ks, err := s.Frost(g)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = ks
	}
	return out
}

// recovers reports whether these shares interpolate to the group's key.
func recovers(t *testing.T, g *protocol.Group, ks []*keys.KeyShare) bool {
	t.Helper()
	s, err := secretsharing.RecoverFromKeyShares(ks)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ks[0].Group().Base().Multiply(s).Encode(), g.PublicKey)
}

// checkThreshold checks that t shares make the key and t-1 do not.
func checkThreshold(t *testing.T, g *protocol.Group, shares []protocol.KeyShare) {
	t.Helper()
	ks := frostShares(t, g, shares)
	n, th := len(ks), int(g.Threshold)
	if !recovers(t, g, ks[:th]) || !recovers(t, g, ks[n-th:]) {
		t.Fatalf("%d shares do not recombine to the group key", th)
	}
	if th > 1 && recovers(t, g, ks[:th-1]) {
		t.Fatalf("%d shares recombine to a %d-of-%d key", th-1, th, n)
	}
}

// harness drives ceremonies by hand, as a network driver would.
type harness struct {
	t     *testing.T
	cfgs  []dkg.Config
	cs    []*dkg.Ceremony
	queue []envelope
	// deliver, if set, may drop or rewrite a message; false drops it.
	deliver func(to protocol.ParticipantID, m *dkg.Message) bool
}

type envelope struct {
	to protocol.ParticipantID
	m  dkg.Message
}

func configs(t *testing.T, th, n uint16) []dkg.Config {
	t.Helper()
	id, err := dkg.NewCeremonyID()
	if err != nil {
		t.Fatal(err)
	}
	roster := make([]ed25519.PublicKey, n)
	keys := make([]ed25519.PrivateKey, n)
	for i := range keys {
		roster[i], keys[i], _ = ed25519.GenerateKey(rand.Reader)
	}
	cfgs := make([]dkg.Config, n)
	for i := range cfgs {
		cfgs[i] = dkg.Config{ID: id, Threshold: th, Self: protocol.ParticipantID(i + 1), Identity: keys[i], Roster: roster}
	}
	return cfgs
}

func newHarness(t *testing.T, th, n uint16) *harness {
	t.Helper()
	h := &harness{t: t, cfgs: configs(t, th, n)}
	for _, cfg := range h.cfgs {
		c, err := dkg.NewKeygen(cfg)
		if err != nil {
			t.Fatal(err)
		}
		h.cs = append(h.cs, c)
	}
	return h
}

func (h *harness) route(from protocol.ParticipantID, msgs []dkg.Message) {
	for _, m := range msgs {
		for to := protocol.ParticipantID(1); int(to) <= len(h.cs); to++ {
			if to != from && (m.To == 0 || m.To == to) {
				h.queue = append(h.queue, envelope{to, m})
			}
		}
	}
}

func (h *harness) start() {
	for i, c := range h.cs {
		msgs, err := c.Start()
		if err != nil {
			h.t.Fatalf("participant %d Start: %v", i+1, err)
		}
		h.route(protocol.ParticipantID(i+1), msgs)
	}
}

// run delivers until nothing is in flight; Step errors other than a
// CulpritError fail the test.
func (h *harness) run() {
	for len(h.queue) > 0 {
		e := h.queue[0]
		h.queue = h.queue[1:]
		if h.deliver != nil && !h.deliver(e.to, &e.m) {
			continue
		}
		msgs, err := h.cs[e.to-1].Step(e.m)
		var ce *dkg.CulpritError
		if err != nil && !errors.As(err, &ce) {
			h.t.Fatalf("participant %d stepping %v: %v", e.to, e.m, err)
		}
		h.route(e.to, msgs)
	}
}
