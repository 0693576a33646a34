package participant_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/protocol"
)

// storeKind opens a nonce store for the property test. reopen simulates a
// crash and restart: the old handle is abandoned and the store reopened
// from what it made durable.
type storeKind struct {
	name string
	open func(t *rapid.T, dir string, member uint16) (store participant.NonceStore, reopen func() participant.NonceStore)
}

var memoryKind = storeKind{"memory", func(*rapid.T, string, uint16) (participant.NonceStore, func() participant.NonceStore) {
	s := participant.NewMemoryStore()
	// A memory store does not survive a process; "restart" keeps the
	// store and replaces the participant, which is what the test can say.
	return s, func() participant.NonceStore { return s }
}}

// storeKinds lists the stores the property runs against;
// bolt_property_test.go adds the bbolt store.
var storeKinds = []storeKind{memoryKind}

// TestNonceNeverSignsTwice drives random interleavings of preprocessing,
// signing, crash-and-reopen, replayed and duplicated requests against a
// 2-of-3 group, and checks that no nonce ever produces two different
// signature shares.
func TestNonceNeverSignsTwice(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			g, shares, err := dkg.DealRandom(2, 3)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			round := 0
			shareCount = 0
			rapid.Check(t, func(rt *rapid.T) {
				round++
				runNonceModel(rt, kind, fmt.Sprintf("%s/%d", dir, round), g, shares)
			})
			if shareCount == 0 {
				t.Fatal("no run produced a single share: the model exercises nothing")
			}
			t.Logf("%d shares released across all runs", shareCount)
		})
	}
}

// shareCount counts the shares released, to show the model signs at all.
var shareCount int

type sentShare struct {
	session protocol.SessionID
	message []byte
	share   [32]byte
}

func runNonceModel(t *rapid.T, kind storeKind, dir string, g *protocol.Group, shares []protocol.KeyShare) {
	type node struct {
		p      *participant.Participant
		store  participant.NonceStore
		reopen func() participant.NonceStore
	}
	nodes := make([]*node, len(shares))
	start := func(i int, store participant.NonceStore) *participant.Participant {
		p, err := participant.New(participant.Config{Group: g, KeyShare: shares[i], Store: store})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for i := range shares {
		s, reopen := kind.open(t, fmt.Sprintf("%s-%d", dir, i+1), uint16(i+1))
		nodes[i] = &node{p: start(i, s), store: s, reopen: reopen}
	}
	defer func() {
		for _, n := range nodes {
			n.store.Close() // the latest handle; earlier ones were closed by reopen
		}
	}()

	issued := map[uint16][]protocol.Commitment{} // every commitment ever issued
	used := map[[2]uint64]sentShare{}            // (member, commitment id) -> the share it made
	var sent []protocol.SignRequest              // for replays
	var sessionSeq byte

	pick := func(t *rapid.T, member uint16, label string) (protocol.Commitment, bool) {
		cs := issued[member]
		if len(cs) == 0 {
			return protocol.Commitment{}, false
		}
		return cs[rapid.IntRange(0, len(cs)-1).Draw(t, label)], true
	}

	t.Repeat(map[string]func(*rapid.T){
		"preprocess": func(t *rapid.T) {
			i := rapid.IntRange(0, len(nodes)-1).Draw(t, "member")
			n := rapid.IntRange(1, 4).Draw(t, "count")
			resp, err := nodes[i].p.Commit(peer, protocol.CommitRequest{Count: n})
			if err != nil {
				t.Fatalf("Commit: %v", err)
			}
			issued[uint16(i+1)] = append(issued[uint16(i+1)], resp.Commitments...)
		},
		"sign": func(t *rapid.T) {
			// A quorum of two, commitments drawn from everything ever
			// issued: fresh, spent and duplicated ones alike.
			a := uint16(rapid.IntRange(1, 3).Draw(t, "a"))
			b := uint16(rapid.IntRange(1, 3).Draw(t, "b"))
			ca, ok1 := pick(t, a, "ca")
			cb, ok2 := pick(t, b, "cb")
			if !ok1 || !ok2 {
				t.Skip("no commitments yet")
			}
			items := rapid.IntRange(1, 2).Draw(t, "items")
			var req protocol.SignRequest
			for range items {
				sessionSeq++
				if rapid.Bool().Draw(t, "reuse session") && sessionSeq > 1 {
					sessionSeq--
				}
				msg := []byte(rapid.SampledFrom([]string{"alpha", "beta", "gamma"}).Draw(t, "message"))
				req.Items = append(req.Items, protocol.SignItem{Session: protocol.SessionID{sessionSeq}, Message: msg, Commitments: []protocol.Commitment{ca, cb}})
			}
			sent = append(sent, req)
			target := rapid.SampledFrom([]uint16{a, b}).Draw(t, "target")
			deliver(t, nodes[target-1].p, target, req, used)
		},
		"replay": func(t *rapid.T) {
			if len(sent) == 0 {
				t.Skip("nothing sent yet")
			}
			req := sent[rapid.IntRange(0, len(sent)-1).Draw(t, "request")]
			target := uint16(rapid.IntRange(1, 3).Draw(t, "target"))
			deliver(t, nodes[target-1].p, target, req, used)
		},
		"crash": func(t *rapid.T) {
			i := rapid.IntRange(0, len(nodes)-1).Draw(t, "member")
			n := nodes[i]
			n.store = n.reopen()
			n.p = start(i, n.store)
		},
	})
}

// deliver sends req to participant id and records every share it returns,
// failing if a commitment ever yields a second, different share.
func deliver(t *rapid.T, p *participant.Participant, id uint16, req protocol.SignRequest, used map[[2]uint64]sentShare) {
	resp, err := p.Sign(peer, req)
	if err != nil {
		var r *protocol.Refusal
		if !errors.As(err, &r) && !errors.Is(err, protocol.ErrNonceSpent) && !errors.Is(err, protocol.ErrSessionReplayed) && !errors.Is(err, protocol.ErrUnknownCommitment) {
			t.Fatalf("unexpected failure kind: %v", err)
		}
		return
	}
	for i, item := range req.Items {
		var own protocol.Commitment
		for _, c := range item.Commitments {
			if c.Signer == id {
				own = c
			}
		}
		key := [2]uint64{uint64(id), own.ID}
		s := sentShare{session: item.Session, message: item.Message, share: resp.Shares[i].Share}
		if prev, ok := used[key]; ok {
			t.Fatalf("participant %d used nonce %d twice: session %s (%q) and session %s (%q), shares equal: %v",
				id, own.ID, prev.session, prev.message, s.session, s.message, bytes.Equal(prev.share[:], s.share[:]))
		}
		used[key] = s
		shareCount++
	}
}
