package participant_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/protocol"
)

const peer = "coordinator-1"

type group struct {
	g     *protocol.Group
	parts []*participant.Participant
}

func newGroup(t testing.TB, th, n uint16, policy participant.Policy) *group {
	t.Helper()
	g, shares, err := dkg.DealRandom(th, n)
	if err != nil {
		t.Fatal(err)
	}
	out := &group{g: g}
	for _, ks := range shares {
		p, err := participant.New(participant.Config{Group: g, KeyShare: ks, Store: participant.NewMemoryStore(), Policy: policy})
		if err != nil {
			t.Fatal(err)
		}
		out.parts = append(out.parts, p)
	}
	return out
}

// commit returns one fresh commitment from each listed participant (1-based).
func (g *group) commit(t testing.TB, ids ...int) []protocol.Commitment {
	t.Helper()
	var out []protocol.Commitment
	for _, id := range ids {
		resp, err := g.parts[id-1].Commit(peer, protocol.CommitRequest{Count: 1})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, resp.Commitments[0])
	}
	return out
}

func item(session byte, msg string, cs []protocol.Commitment) protocol.SignItem {
	return protocol.SignItem{Session: protocol.SessionID{session}, Message: []byte(msg), Commitments: cs}
}

func sign(p *participant.Participant, items ...protocol.SignItem) error {
	_, err := p.Sign(peer, protocol.SignRequest{Items: items})
	return err
}

func TestNew(t *testing.T) {
	g, shares, err := dkg.DealRandom(2, 3)
	if err != nil {
		t.Fatal(err)
	}
	bad := shares[0]
	bad.Secret[0] ^= 1
	if _, err := participant.New(participant.Config{Group: g, KeyShare: bad, Store: participant.NewMemoryStore()}); err == nil {
		t.Fatal("New accepted a key share that does not match its public share")
	}
	stranger := shares[0]
	stranger.ID = 9
	if _, err := participant.New(participant.Config{Group: g, KeyShare: stranger, Store: participant.NewMemoryStore()}); err == nil {
		t.Fatal("New accepted a key share of a non-member")
	}
	if _, err := participant.New(participant.Config{Group: g, KeyShare: shares[0]}); err == nil {
		t.Fatal("New accepted a config without a store")
	}
}

func TestReplayRefused(t *testing.T) {
	g := newGroup(t, 2, 3, participant.Policy{})
	cs := g.commit(t, 1, 2)
	it := item(1, "hello", cs)
	if err := sign(g.parts[0], it); err != nil {
		t.Fatalf("first sign: %v", err)
	}
	if err := sign(g.parts[0], it); !errors.Is(err, protocol.ErrNonceSpent) {
		t.Fatalf("replayed request: got %v, want ErrNonceSpent", err)
	}
	// Same commitment, another message and session: still spent.
	if err := sign(g.parts[0], item(2, "other", cs)); !errors.Is(err, protocol.ErrNonceSpent) {
		t.Fatalf("reused commitment: got %v, want ErrNonceSpent", err)
	}
	// Same session, fresh commitment: the session was signed.
	if err := sign(g.parts[0], item(1, "hello", g.commit(t, 1, 2))); !errors.Is(err, protocol.ErrSessionReplayed) {
		t.Fatalf("replayed session: got %v, want ErrSessionReplayed", err)
	}
}

func TestMalformedRequests(t *testing.T) {
	g := newGroup(t, 2, 3, participant.Policy{})
	own := g.commit(t, 1)[0]
	other := g.commit(t, 2)[0]
	tampered := own
	tampered.Hiding = other.Hiding
	stranger := other
	stranger.Signer = 7
	unknown := own
	unknown.ID++
	badPoint := other
	badPoint.Binding = [32]byte{} // not a valid point encoding... or the identity
	for _, tc := range []struct {
		name string
		req  protocol.SignRequest
		want error
	}{
		{"no items", protocol.SignRequest{}, protocol.ErrMalformed},
		{"too few commitments", protocol.SignRequest{Items: []protocol.SignItem{item(1, "m", []protocol.Commitment{own})}}, protocol.ErrMalformed},
		{"own missing", protocol.SignRequest{Items: []protocol.SignItem{item(1, "m", g.commit(t, 2, 3))}}, protocol.ErrMalformed},
		{"own twice", protocol.SignRequest{Items: []protocol.SignItem{item(1, "m", []protocol.Commitment{own, own})}}, protocol.ErrMalformed},
		{"tampered own", protocol.SignRequest{Items: []protocol.SignItem{item(1, "m", []protocol.Commitment{tampered, other})}}, protocol.ErrMalformed},
		{"non-member", protocol.SignRequest{Items: []protocol.SignItem{item(1, "m", []protocol.Commitment{own, stranger})}}, protocol.ErrMalformed},
		{"bad point", protocol.SignRequest{Items: []protocol.SignItem{item(1, "m", []protocol.Commitment{own, badPoint})}}, protocol.ErrMalformed},
		{"unknown commitment", protocol.SignRequest{Items: []protocol.SignItem{item(1, "m", []protocol.Commitment{unknown, other})}}, protocol.ErrUnknownCommitment},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := g.parts[0].Sign(peer, tc.req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// None of the refusals spent the nonce.
	if err := sign(g.parts[0], item(9, "finally", []protocol.Commitment{own, other})); err != nil {
		t.Fatalf("after refusals, a valid request failed: %v", err)
	}
}

func TestPolicy(t *testing.T) {
	g := newGroup(t, 2, 3, participant.Policy{
		Coordinators:   []string{peer},
		MaxMessageSize: 16,
		Allow: func(_ string, m []byte) error {
			if string(m) == "forbidden" {
				return errors.New("messages saying forbidden are not signed here")
			}
			return nil
		},
	})
	cs := g.commit(t, 1, 2)
	if _, err := g.parts[0].Sign("intruder", protocol.SignRequest{Items: []protocol.SignItem{item(1, "m", cs)}}); !errors.Is(err, protocol.ErrPolicy) {
		t.Fatalf("unknown coordinator: got %v, want ErrPolicy", err)
	}
	if _, err := g.parts[0].Commit("intruder", protocol.CommitRequest{Count: 1}); !errors.Is(err, protocol.ErrPolicy) {
		t.Fatalf("unknown coordinator asking for commitments: got %v, want ErrPolicy", err)
	}
	if err := sign(g.parts[0], item(1, "a message longer than sixteen bytes", cs)); !errors.Is(err, protocol.ErrPolicy) {
		t.Fatalf("oversized message: got %v, want ErrPolicy", err)
	}
	if err := sign(g.parts[0], item(1, "forbidden", cs)); !errors.Is(err, protocol.ErrPolicy) {
		t.Fatalf("predicate: got %v, want ErrPolicy", err)
	}
	if err := sign(g.parts[0], item(1, "fine", cs)); err != nil {
		t.Fatalf("allowed request after refusals: %v", err)
	}
}

func TestCommitLimits(t *testing.T) {
	g := newGroup(t, 2, 3, participant.Policy{MaxCommit: 8})
	for _, n := range []int{0, -1, 9} {
		if _, err := g.parts[0].Commit(peer, protocol.CommitRequest{Count: n}); !errors.Is(err, protocol.ErrMalformed) {
			t.Errorf("Commit(%d): got %v, want ErrMalformed", n, err)
		}
	}
	resp, err := g.parts[0].Commit(peer, protocol.CommitRequest{Count: 8})
	if err != nil || len(resp.Commitments) != 8 {
		t.Fatalf("Commit(8): %d commitments, %v", len(resp.Commitments), err)
	}
	ids := map[uint64]bool{}
	for _, c := range resp.Commitments {
		if c.Signer != 1 || ids[c.ID] {
			t.Fatalf("bad or duplicate commitment %+v", c)
		}
		ids[c.ID] = true
	}
}

func TestBatchAllOrNothing(t *testing.T) {
	g := newGroup(t, 2, 3, participant.Policy{})
	good := g.commit(t, 1, 2)
	spent := g.commit(t, 1, 2)
	if err := sign(g.parts[0], item(1, "spend it", spent)); err != nil {
		t.Fatal(err)
	}
	err := sign(g.parts[0], item(2, "good", good), item(3, "replay", spent))
	if !errors.Is(err, protocol.ErrNonceSpent) {
		t.Fatalf("batch with a spent item: got %v, want ErrNonceSpent", err)
	}
	if err := sign(g.parts[0], item(2, "good", good)); err != nil {
		t.Fatalf("the good item's nonce was spent by a refused batch: %v", err)
	}
}

func TestConcurrentDuplicatesSignOnce(t *testing.T) {
	g := newGroup(t, 2, 3, participant.Policy{})
	cs := g.commit(t, 1, 2)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if sign(g.parts[0], item(byte(i), fmt.Sprint("message ", i), cs)) == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := ok.Load(); n != 1 {
		t.Fatalf("%d of 32 concurrent requests with one commitment got a share, want exactly 1", n)
	}
}
