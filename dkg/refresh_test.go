package dkg_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/bytemare/frost"

	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/protocol"
)

func TestRefresh(t *testing.T) {
	for name, mk := range map[string]func() (*protocol.Group, []protocol.KeyShare, error){
		"after keygen": func() (*protocol.Group, []protocol.KeyShare, error) {
			out, err := dkg.RunLocal(3, 5)
			if err != nil {
				return nil, nil, err
			}
			return out.Group, out.Shares, nil
		},
		"after Deal": func() (*protocol.Group, []protocol.KeyShare, error) {
			return dkg.Deal(bytes.Repeat([]byte{7}, 32), 3, 5)
		},
	} {
		t.Run(name, func(t *testing.T) {
			old, oldShares, err := mk()
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			out, err := dkg.RefreshLocal(old, oldShares)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("3-of-5 refresh: %v", time.Since(start).Round(time.Millisecond))
			g, shares := out.Group, out.Shares

			if !g.PublicKey.Equal(old.PublicKey) || id52.Encode(g.PublicKey) != id52.Encode(old.PublicKey) {
				t.Fatalf("the refresh changed the group key (ID52 %s -> %s)", id52.Encode(old.PublicKey), id52.Encode(g.PublicKey))
			}
			if g.Threshold != old.Threshold || g.MaxSigners != old.MaxSigners {
				t.Fatal("the refresh changed the threshold or size")
			}
			for i := range shares {
				if shares[i].Secret == oldShares[i].Secret || g.Members[i].PublicShare == old.Members[i].PublicShare {
					t.Fatalf("participant %d's share or public key share did not change", i+1)
				}
			}
			checkThreshold(t, g, shares)
			signAndVerify(t, g, shares)

			// Old and new shares do not mix: neither by interpolation ...
			mixed := append(frostShares(t, old, oldShares[:2]), frostShares(t, g, shares[2:3])...)
			if recovers(t, g, mixed) {
				t.Fatal("two old shares and one new recombine to the key")
			}
			// ... nor in a FROST signature, each signer using its own share.
			msg := []byte("mixed quorum")
			if sig := rawSign(t, g, msg, signerOf(t, old, oldShares[0]), signerOf(t, old, oldShares[1]), signerOf(t, g, shares[2])); ed25519.Verify(g.PublicKey, msg, sig) {
				t.Fatal("a quorum mixing old and new shares made a valid signature")
			}
			if sig := rawSign(t, g, msg, signerOf(t, g, shares[0]), signerOf(t, g, shares[1]), signerOf(t, g, shares[2])); !ed25519.Verify(g.PublicKey, msg, sig) {
				t.Fatal("a quorum of new shares made an invalid signature")
			}
			// ... nor through the coordinator, which names the old shares.
			parts := []*participant.Participant{
				newParticipant(t, old, oldShares[0]), newParticipant(t, old, oldShares[1]),
				newParticipant(t, g, shares[2]), newParticipant(t, g, shares[3]), newParticipant(t, g, shares[4]),
			}
			svc := service(t, g, parts...)
			svc.SetReachable(4, false)
			svc.SetReachable(5, false)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			if _, err := svc.Sign(ctx, msg); err == nil {
				t.Fatal("the coordinator signed with a quorum of two old shares and one new")
			}
			if c := svc.Stats().Cheaters; !slices.Equal(c, []protocol.ParticipantID{1, 2}) {
				t.Fatalf("coordinator names %v, want the old shares 1 and 2", c)
			}
		})
	}
}

// signerOf is a FROST signer using share ks as group g knows it.
func signerOf(t *testing.T, g *protocol.Group, ks protocol.KeyShare) *frost.Signer {
	t.Helper()
	conf, err := g.Frost()
	if err != nil {
		t.Fatal(err)
	}
	fk, err := ks.Frost(g)
	if err != nil {
		t.Fatal(err)
	}
	s, err := conf.Signer(fk)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rawSign runs FROST with these signers and aggregates under g without
// checking the shares, as a coordinator that trusted them would.
func rawSign(t *testing.T, g *protocol.Group, msg []byte, signers ...*frost.Signer) []byte {
	t.Helper()
	conf, err := g.Frost()
	if err != nil {
		t.Fatal(err)
	}
	var sig []byte
	protocol.Serialize(func() {
		list := make(frost.CommitmentList, len(signers))
		for i, s := range signers {
			list[i] = s.Commit()
		}
		list.Sort()
		shares := make([]*frost.SignatureShare, len(signers))
		for i, s := range signers {
			if shares[i], err = s.Sign(msg, list); err != nil {
				return
			}
		}
		var fs *frost.Signature
		if fs, err = conf.AggregateSignatures(msg, shares, list, false); err == nil {
			sig = protocol.SignatureBytes(fs)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func TestRefreshNeedsEveryone(t *testing.T) {
	g, shares, err := dkg.DealRandom(3, 5)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string][]protocol.KeyShare{
		"one missing":   shares[:4],
		"a quorum only": shares[1:4],
		"one twice":     append(slices.Clone(shares[:4]), shares[0]),
	} {
		if _, err := dkg.RefreshLocal(g, s); !errors.Is(err, dkg.ErrAllMustTakePart) {
			t.Errorf("%s: %v, want ErrAllMustTakePart", name, err)
		}
	}
	// A roster shorter than the group is refused by the state machine too.
	cfgs := configs(t, 3, 4)
	if _, err := dkg.NewRefresh(cfgs[0], g, shares[0]); !errors.Is(err, dkg.ErrAllMustTakePart) {
		t.Errorf("NewRefresh with 4 of 5: %v, want ErrAllMustTakePart", err)
	}
	cfgs = configs(t, 3, 5)
	for name, f := range map[string]func() error{
		"wrong share":     func() error { _, err := dkg.NewRefresh(cfgs[0], g, shares[1]); return err },
		"other threshold": func() error { c := cfgs[0]; c.Threshold = 2; _, err := dkg.NewRefresh(c, g, shares[0]); return err },
		"no group":        func() error { _, err := dkg.NewRefresh(cfgs[0], nil, shares[0]); return err },
		"tampered share": func() error {
			ks := shares[0]
			ks.Secret[0] ^= 1
			_, err := dkg.NewRefresh(cfgs[0], g, ks)
			return err
		},
	} {
		if err := f(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRefreshFaults(t *testing.T) {
	g, shares, err := dkg.DealRandom(3, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f       dkg.Fault
		culprit protocol.ParticipantID
		o       dkg.Offence
	}{
		{dkg.CorruptShare(3, 1), 3, dkg.OffenceBadShare},
		{dkg.Equivocate(2), 2, dkg.OffenceEquivocation},
		{dkg.BadConfirm(5), 5, dkg.OffenceDisagreement},
		{dkg.FalseComplaint(4, 2), 4, dkg.OffenceFalseComplaint},
	} {
		t.Run(tc.o.String(), func(t *testing.T) {
			out, err := dkg.RefreshLocal(g, shares, tc.f)
			expectCulprit(t, out, err, tc.culprit, tc.o)
		})
	}
	if _, err := dkg.RefreshLocal(g, shares, dkg.BadProof(1)); err == nil {
		t.Error("a BadProof fault was accepted for a refresh, which has no proof")
	}
}

func TestRefreshTwice(t *testing.T) {
	g, shares, err := dkg.Deal(bytes.Repeat([]byte{9}, 32), 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := id52.Encode(g.PublicKey)
	for range 2 {
		out, err := dkg.RefreshLocal(g, shares)
		if err != nil {
			t.Fatal(err)
		}
		g, shares = out.Group, out.Shares
	}
	if id52.Encode(g.PublicKey) != want {
		t.Fatal("the ID52 changed")
	}
	signAndVerify(t, g, shares)
}
