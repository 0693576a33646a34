package coordinator_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"testing"
	"time"

	"filippo.io/edwards25519"

	"github.com/frostd/frostd/coordinator"
	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/protocol"
)

// The FROST(Ed25519, SHA-512) test vector of RFC 9591, appendix E.1,
// driven through our participants and the coordinator state machine by
// hand: the nonces are the vector's, placed in the participants' stores.
var rfc9591 = struct {
	groupKey, message, sig string
	shares                 map[uint16]string
	hiding, binding        map[uint16]string
	sigShares              map[uint16]string
}{
	groupKey: "15d21ccd7ee42959562fc8aa63224c8851fb3ec85a3faf66040d380fb9738673",
	message:  "74657374",
	sig:      "36282629c383bb820a88b71cae937d41f2f2adfcc3d02e55507e2fb9e2dd3cbebd9d2b0844e49ae0f3fa935161e1419aab7b47d21a37ebeae1f17d4987b3160b",
	shares: map[uint16]string{
		1: "929dcc590407aae7d388761cddb0c0db6f5627aea8e217f4a033f2ec83d93509",
		2: "a91e66e012e4364ac9aaa405fcafd370402d9859f7b6685c07eed76bf409e80d",
		3: "d3cb090a075eb154e82fdb4b3cb507f110040905468bb9c46da8bdea643a9a02",
	},
	hiding: map[uint16]string{
		1: "812d6104142944d5a55924de6d49940956206909f2acaeedecda2b726e630407",
		3: "c256de65476204095ebdc01bd11dc10e57b36bc96284595b8215222374f99c0e",
	},
	binding: map[uint16]string{
		1: "b1110165fc2334149750b28dd813a39244f315cff14d4e89e6142f262ed83301",
		3: "243d71944d929063bc51205714ae3c2218bd3451d0214dfb5aeec2a90c35180d",
	},
	sigShares: map[uint16]string{
		1: "001719ab5a53ee1a12095cd088fd149702c0720ce5fd2f29dbecf24b7281b603",
		3: "bd86125de990acc5e1f13781d8e32c03a9bbd4c53539bbc106058bfd14326007",
	},
}

func unhex32(t *testing.T, s string) (out [32]byte) {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad hex %q", s)
	}
	copy(out[:], b)
	return out
}

func basePoint(t *testing.T, scalar [32]byte) [32]byte {
	t.Helper()
	s, err := edwards25519.NewScalar().SetCanonicalBytes(scalar[:])
	if err != nil {
		t.Fatal(err)
	}
	var out [32]byte
	copy(out[:], new(edwards25519.Point).ScalarBaseMult(s).Bytes())
	return out
}

func TestRFC9591Vector(t *testing.T) {
	v := rfc9591
	gk := unhex32(t, v.groupKey)
	g := &protocol.Group{Threshold: 2, MaxSigners: 3, PublicKey: ed25519.PublicKey(gk[:])}
	for id := uint16(1); id <= 3; id++ {
		g.Members = append(g.Members, protocol.Member{ID: id, PublicShare: basePoint(t, unhex32(t, v.shares[id]))})
	}
	parts := map[uint16]*participant.Participant{}
	commitments := map[uint16]protocol.Commitment{}
	for _, id := range []uint16{1, 3} {
		store := participant.NewMemoryStore()
		n := participant.Nonce{Hiding: unhex32(t, v.hiding[id]), Binding: unhex32(t, v.binding[id])}
		n.Commitment = protocol.Commitment{Signer: id, ID: uint64(100 + id), Hiding: basePoint(t, n.Hiding), Binding: basePoint(t, n.Binding)}
		if err := store.Put([]participant.Nonce{n}); err != nil {
			t.Fatal(err)
		}
		p, err := participant.New(participant.Config{Group: g, KeyShare: protocol.KeyShare{ID: id, Secret: unhex32(t, v.shares[id])}, Store: store})
		if err != nil {
			t.Fatal(err)
		}
		parts[id], commitments[id] = p, n.Commitment
	}

	c, err := coordinator.New(coordinator.Config{Group: g, PoolLow: 1})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(0, 0)
	for _, id := range []uint16{1, 3} {
		if err := c.AddCommitments(id, []protocol.Commitment{commitments[id]}); err != nil {
			t.Fatal(err)
		}
		c.SetReachable(now, id, true)
	}
	msg, _ := hex.DecodeString(v.message)
	req := c.Sign(now, [][]byte{msg})

	// Run the state machine until the request finishes, delivering sign
	// requests to the participants and checking their shares.
	for step := 0; step < 10; step++ {
		out, done := c.Ready()
		for _, r := range done {
			if r.Request != req {
				continue
			}
			if r.Err != nil {
				t.Fatalf("request failed: %v", r.Err)
			}
			if got := hex.EncodeToString(r.Signatures[0]); got != v.sig {
				t.Fatalf("signature\n got %s\nwant %s", got, v.sig)
			}
			if !ed25519.Verify(g.PublicKey, msg, r.Signatures[0]) {
				t.Fatal("vector signature does not verify with crypto/ed25519")
			}
			return
		}
		for _, o := range out {
			if o.Sign == nil {
				continue // pool refills: not part of the vector
			}
			resp, err := parts[o.To].Sign("coordinator", *o.Sign)
			if err != nil {
				t.Fatalf("participant %d: %v", o.To, err)
			}
			if got := hex.EncodeToString(resp.Shares[0].Share[:]); got != v.sigShares[o.To] {
				t.Fatalf("share of participant %d\n got %s\nwant %s", o.To, got, v.sigShares[o.To])
			}
			c.Deliver(now, coordinator.Reply{From: o.To, Tag: o.Tag, Sign: &resp})
		}
	}
	t.Fatal("request did not finish")
}

func TestAddCommitmentsSkipsDuplicates(t *testing.T) {
	g := &protocol.Group{Threshold: 1, MaxSigners: 1}
	var secret [32]byte
	secret[0] = 5
	g.PublicKey = func() ed25519.PublicKey { p := basePoint(t, secret); return p[:] }()
	g.Members = []protocol.Member{{ID: 1, PublicShare: basePoint(t, secret)}}
	c, err := coordinator.New(coordinator.Config{Group: g})
	if err != nil {
		t.Fatal(err)
	}
	var h, b [32]byte
	h[0], b[0] = 7, 9
	cm := protocol.Commitment{Signer: 1, ID: 42, Hiding: basePoint(t, h), Binding: basePoint(t, b)}
	for range 3 {
		if err := c.AddCommitments(1, []protocol.Commitment{cm}); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.PoolSizes()[1]; n != 1 {
		t.Fatalf("pool holds %d commitments after three pushes of one, want 1", n)
	}
	other := cm
	other.Signer = 2
	if err := c.AddCommitments(1, []protocol.Commitment{other}); err == nil {
		t.Fatal("a commitment of another participant was pooled")
	}
}

func TestSetGroupAcceptsOnlyARefresh(t *testing.T) {
	g, shares, err := dkg.DealRandom(2, 3)
	if err != nil {
		t.Fatal(err)
	}
	c, err := coordinator.New(coordinator.Config{Group: g})
	if err != nil {
		t.Fatal(err)
	}
	out, err := dkg.RefreshLocal(g, shares)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetGroup(out.Group); err != nil {
		t.Fatalf("a refreshed group was refused: %v", err)
	}
	if !c.Group().Equal(out.Group) {
		t.Fatal("SetGroup did not install the new public shares")
	}
	other, _, _ := dkg.DealRandom(2, 3)
	if err := c.SetGroup(other); err == nil {
		t.Fatal("a group with another key was installed")
	}
	wider, _, _ := dkg.DealRandom(3, 3)
	wider.PublicKey = g.PublicKey
	if err := c.SetGroup(wider); err == nil {
		t.Fatal("a group with another threshold was installed")
	}
}
