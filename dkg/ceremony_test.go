package dkg_test

import (
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/protocol"
)

func TestKeygen(t *testing.T) {
	for _, tc := range []struct{ t, n uint16 }{{3, 5}, {7, 10}, {34, 50}} {
		t.Run(fmt.Sprintf("%d-of-%d", tc.t, tc.n), func(t *testing.T) {
			if tc.n > 10 && testing.Short() {
				t.Skip("34-of-50 takes about 10 s on two cores, over a minute under -race; run without -short")
			}
			start := time.Now()
			out, err := dkg.RunLocal(tc.t, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d-of-%d ceremony: %v for all %d participants in one process (GOMAXPROCS %d), %d messages",
				tc.t, tc.n, time.Since(start).Round(time.Millisecond), tc.n, runtime.GOMAXPROCS(0), out.Messages)

			g := out.Group
			if g.Threshold != tc.t || g.MaxSigners != tc.n || len(out.Shares) != int(tc.n) {
				t.Fatalf("group is %d-of-%d with %d shares", g.Threshold, g.MaxSigners, len(out.Shares))
			}
			if err := g.Validate(); err != nil {
				t.Fatal(err)
			}
			seen := make(map[[32]byte]bool)
			for i, ks := range out.Shares {
				if ks.ID != protocol.ParticipantID(i+1) {
					t.Fatalf("share %d has id %d", i, ks.ID)
				}
				if seen[ks.Secret] {
					t.Fatal("two participants hold the same share")
				}
				seen[ks.Secret] = true
			}
			checkThreshold(t, g, out.Shares)
			signAndVerify(t, g, out.Shares)
		})
	}
}

func TestKeygenShuffled(t *testing.T) {
	// Messages arrive in any order: early echoes, shares before the last
	// echo, confirmations before shares.
	for seed := uint64(1); seed <= 8; seed++ {
		out, err := dkg.Sim{Seed: seed}.Keygen(3, 5)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		checkThreshold(t, out.Group, out.Shares)
	}
}

func TestKeysDiffer(t *testing.T) {
	a, err := dkg.RunLocal(2, 3)
	if err != nil {
		t.Fatal(err)
	}
	b, err := dkg.RunLocal(2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if a.Group.PublicKey.Equal(b.Group.PublicKey) {
		t.Fatal("two ceremonies made the same key")
	}
	if id52.Encode(a.Group.PublicKey) == id52.Encode(b.Group.PublicKey) {
		t.Fatal("two ceremonies made the same ID52")
	}
}

func TestConcurrentCeremonies(t *testing.T) {
	// bytemare/frost hashes through one package-level SHA-512 state;
	// bytemare/dkg makes a fresh hash state per call (hash.Hash.New). Run
	// ceremonies in parallel so that the race detector would catch shared
	// state anywhere in bytemare/dkg, secret-sharing, ecc or hash.
	const k = 4
	errs := make(chan error, k)
	for range k {
		go func() {
			out, err := dkg.RunLocal(3, 5)
			if err == nil {
				_, err = out.Shares[0].Frost(out.Group)
			}
			errs <- err
		}()
	}
	for range k {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestResultOnlyAfterConfirmation(t *testing.T) {
	h := newHarness(t, 2, 3)
	if _, _, err := h.cs[0].Result(); !errors.Is(err, dkg.ErrNotFinished) {
		t.Fatalf("Result before Start: %v, want ErrNotFinished", err)
	}
	// Hold back every confirmation to participant 1.
	h.deliver = func(to protocol.ParticipantID, m *dkg.Message) bool {
		return !(to == 1 && m.Round == dkg.RoundConfirm)
	}
	h.start()
	h.run()
	if g, ks, err := h.cs[0].Result(); !errors.Is(err, dkg.ErrNotFinished) || g != nil || ks != (protocol.KeyShare{}) {
		t.Fatalf("Result before the confirmations: %v, %v; want nothing and ErrNotFinished", g, err)
	}
	if w := h.cs[0].Waiting(); fmt.Sprint(w) != "[2 3]" {
		t.Fatalf("Waiting() = %v, want [2 3]", w)
	}
	// The others have all confirmations, including participant 1's.
	for _, c := range h.cs[1:] {
		if _, _, err := c.Result(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDuplicatesAreHarmless(t *testing.T) {
	h := newHarness(t, 3, 4)
	h.start()
	dup := make(map[string]bool)
	h.deliver = func(to protocol.ParticipantID, m *dkg.Message) bool {
		k := fmt.Sprint(to, m.Round, m.From)
		if !dup[k] {
			dup[k] = true
			h.queue = append(h.queue, envelope{to, *m}) // again, later
		}
		return true
	}
	h.run()
	var first *protocol.Group
	for i, c := range h.cs {
		g, _, err := c.Result()
		if err != nil {
			t.Fatalf("participant %d: %v", i+1, err)
		}
		if first == nil {
			first = g
		} else if !first.Equal(g) {
			t.Fatal("participants disagree")
		}
	}
}

func TestStepRejects(t *testing.T) {
	h := newHarness(t, 2, 3)
	h.start()
	// A message in flight from 2 to 1, and an outsider's ceremony.
	var m dkg.Message
	for _, e := range h.queue {
		if e.to == 1 && e.m.From == 2 {
			m = e.m
			break
		}
	}
	other := newHarness(t, 2, 3)
	otherMsgs, _ := other.cs[1].Start()

	for name, bad := range map[string]func(dkg.Message) dkg.Message{
		"other ceremony": func(m dkg.Message) dkg.Message { return otherMsgs[0] },
		"wrong id":       func(m dkg.Message) dkg.Message { m.Ceremony[0] ^= 1; return m },
		"altered": func(m dkg.Message) dkg.Message {
			m.Payload = append([]byte{}, m.Payload...)
			m.Payload[40] ^= 1
			return m
		},
		"other sender":   func(m dkg.Message) dkg.Message { m.From = 3; return m },
		"unknown sender": func(m dkg.Message) dkg.Message { m.From = 9; return m },
		"redirected":     func(m dkg.Message) dkg.Message { m.To = 3; return m },
		"short sig":      func(m dkg.Message) dkg.Message { m.Signature = m.Signature[:10]; return m },
	} {
		out, err := h.cs[0].Step(bad(m))
		if !errors.Is(err, dkg.ErrRejected) || out != nil {
			t.Errorf("%s: Step = %v, %v; want ErrRejected and nothing to send", name, out, err)
		}
	}
	// The ceremony goes on.
	h.run()
	for i, c := range h.cs {
		if _, _, err := c.Result(); err != nil {
			t.Fatalf("participant %d after rejected messages: %v", i+1, err)
		}
	}
}

func TestStartTwice(t *testing.T) {
	h := newHarness(t, 2, 3)
	h.start()
	if _, err := h.cs[0].Start(); err == nil {
		t.Fatal("a second Start was accepted")
	}
}

func TestConfigErrors(t *testing.T) {
	base := configs(t, 2, 3)[0]
	for name, mod := range map[string]func(*dkg.Config){
		"threshold 0":      func(c *dkg.Config) { c.Threshold = 0 },
		"threshold 1":      func(c *dkg.Config) { c.Threshold = 1 },
		"threshold over n": func(c *dkg.Config) { c.Threshold = 4 },
		"self 0":           func(c *dkg.Config) { c.Self = 0 },
		"self over n":      func(c *dkg.Config) { c.Self = 4 },
		"no identity":      func(c *dkg.Config) { c.Identity = nil },
		"wrong identity":   func(c *dkg.Config) { c.Self = 2 },
		"one participant":  func(c *dkg.Config) { c.Roster = c.Roster[:1]; c.Threshold = 1 },
		"short key":        func(c *dkg.Config) { c.Roster = append(c.Roster[:1:1], c.Roster[1][:31], c.Roster[2]) },
		"duplicate key":    func(c *dkg.Config) { c.Roster = append(c.Roster[:2:2], c.Roster[1]) },
	} {
		cfg := base
		mod(&cfg)
		if _, err := dkg.NewKeygen(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := dkg.NewKeygen(base); err != nil {
		t.Fatal(err)
	}
}

func TestMessageEncoding(t *testing.T) {
	m := dkg.Message{Ceremony: dkg.CeremonyID{1, 2}, Round: dkg.RoundShare, From: 2, To: 3, Payload: []byte("payload"), Signature: make([]byte, 64)}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got dkg.Message
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(m) || string(got.Payload) != "payload" || got.Ceremony != m.Ceremony || got.To != 3 {
		t.Fatalf("round trip: %+v, want %+v", got, m)
	}
	for _, cut := range []int{0, 10, len(b) - 1} {
		if err := got.UnmarshalBinary(b[:cut]); !errors.Is(err, dkg.ErrMalformedMessage) {
			t.Errorf("%d of %d bytes: %v", cut, len(b), err)
		}
	}
	if err := got.UnmarshalBinary(append(b, 0)); !errors.Is(err, dkg.ErrMalformedMessage) {
		t.Errorf("a trailing byte: %v", err)
	}
}
