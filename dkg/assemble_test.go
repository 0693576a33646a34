package dkg

import (
	"bytes"
	"testing"

	bdkg "github.com/bytemare/dkg"
	"github.com/bytemare/ecc"
	secretsharing "github.com/bytemare/secret-sharing"

	"github.com/frostd/frostd/protocol"
)

// runKeep runs a ceremony like Sim.Keygen / Sim.Refresh but keeps the
// state machines for inspection.
func runKeep(t *testing.T, th, n uint16, old *protocol.Group, shares []protocol.KeyShare) ([]*Ceremony, *Outcome) {
	t.Helper()
	cfgs, err := Sim{}.configs(th, n)
	if err != nil {
		t.Fatal(err)
	}
	cs := make([]*Ceremony, n)
	for i, cfg := range cfgs {
		if old == nil {
			cs[i], err = NewKeygen(cfg)
		} else {
			cs[i], err = NewRefresh(cfg, old, shares[i])
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	out, err := Sim{}.run(cs)
	if err != nil {
		t.Fatal(err)
	}
	return cs, out
}

func TestPublicSharesMatchBytemare(t *testing.T) {
	// assemble sums the commitments before evaluating them; bytemare's
	// ComputeParticipantPublicKey evaluates each; the results must agree.
	cs, out := runKeep(t, 4, 7, nil, nil)
	coms := make([][]*ecc.Element, len(cs[0].set))
	for i, p := range cs[0].set {
		coms[i] = p.coms
	}
	vk, err := bdkg.VerificationKeyFromCommitments(bdkg.Edwards25519Sha512, coms)
	if err != nil || !bytes.Equal(vk.Encode(), out.Group.PublicKey) {
		t.Fatalf("group key differs from bytemare's: %v", err)
	}
	for _, m := range out.Group.Members {
		y, err := bdkg.ComputeParticipantPublicKey(bdkg.Edwards25519Sha512, m.ID, coms)
		if err != nil || !bytes.Equal(y.Encode(), m.PublicShare[:]) {
			t.Fatalf("public share of %d differs from bytemare's: %v", m.ID, err)
		}
	}

	// A refresh adds every dealer's zero-sharing, evaluated on its own.
	rs, rout := runKeep(t, 4, 7, out.Group, out.Shares)
	for _, m := range rout.Group.Members {
		old, _ := out.Group.Member(m.ID)
		y := group.NewElement()
		if err := y.Decode(old.PublicShare[:]); err != nil {
			t.Fatal(err)
		}
		for _, p := range rs[0].set {
			if !p.coms[0].IsIdentity() {
				t.Fatal("a refresh dealing commits to a non-zero constant")
			}
			d, err := secretsharing.PubKeyForCommitment(group, m.ID, p.coms)
			if err != nil {
				t.Fatal(err)
			}
			y.Add(d)
		}
		if !bytes.Equal(y.Encode(), m.PublicShare[:]) {
			t.Fatalf("refreshed public share of %d is not the old one plus the dealt zero-shares", m.ID)
		}
	}
}

func TestZeroPolynomialIsRefusedByBytemare(t *testing.T) {
	// Why the refresh does not go through bytemare/dkg or Shard: both
	// refuse a zero constant term. If a later version accepts it, the
	// refresh could use it instead.
	p := zeroPolynomial(3)
	if _, err := bdkg.Edwards25519Sha512.NewParticipant(1, 3, 5, p...); err == nil {
		t.Error("bytemare/dkg now accepts a polynomial with a zero constant term")
	}
	if _, err := secretsharing.Shard(group, group.NewScalar().Zero(), 3, 5); err == nil {
		t.Error("secret-sharing now shards a zero secret")
	}
	if _, err := secretsharing.Shard(group, nil, 3, 5, p...); err == nil {
		t.Error("secret-sharing now accepts a given polynomial with a zero coefficient")
	}
	// What the refresh uses works with it: shares on the polynomial verify
	// against its commitment, and interpolate to zero.
	com := secretsharing.Commit(group, p)
	if !com[0].IsIdentity() {
		t.Fatal("the commitment to a zero constant is not the identity")
	}
	for id := uint16(1); id <= 5; id++ {
		s := p.Evaluate(group.NewScalar().SetUInt64(uint64(id)))
		if !secretsharing.Verify(group, id, group.Base().Multiply(s), com) {
			t.Fatalf("zero-share %d does not verify", id)
		}
		s.Add(group.NewScalar().One())
		if secretsharing.Verify(group, id, group.Base().Multiply(s), com) {
			t.Fatalf("a wrong zero-share %d verifies", id)
		}
	}
}
