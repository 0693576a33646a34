package dkg_test

import (
	"bytes"
	"crypto/ed25519"
	"testing"

	"github.com/bytemare/secret-sharing/keys"

	secretsharing "github.com/bytemare/secret-sharing"

	"github.com/frostd/frostd/dkg"
)

func TestDealKeepsPublicKey(t *testing.T) {
	for _, seed := range [][]byte{bytes.Repeat([]byte{0}, 32), bytes.Repeat([]byte{0xff}, 32), []byte("0123456789abcdef0123456789abcdef")} {
		g, shares, err := dkg.Deal(seed, 3, 5)
		if err != nil {
			t.Fatal(err)
		}
		want := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
		if !bytes.Equal(g.PublicKey, want) {
			t.Fatalf("group key %x, want the seed's public key %x", g.PublicKey, want)
		}
		// Any t shares recombine to a key with the same public key; t-1 do not.
		ks := make([]*keys.KeyShare, len(shares))
		for i, s := range shares {
			if ks[i], err = s.Frost(g); err != nil {
				t.Fatal(err)
			}
		}
		secret, err := secretsharing.RecoverFromKeyShares(ks[1:4])
		if err != nil {
			t.Fatal(err)
		}
		pub := ks[0].Group().Base().Multiply(secret).Encode()
		if !bytes.Equal(pub, want) {
			t.Fatal("three shares do not recombine to the original key")
		}
		secret2, err := secretsharing.RecoverFromKeyShares(ks[:2])
		if err == nil && bytes.Equal(ks[0].Group().Base().Multiply(secret2).Encode(), want) {
			t.Fatal("two shares of a 3-of-5 key recombine to it")
		}
	}
}

func TestDealBadInput(t *testing.T) {
	if _, _, err := dkg.Deal(make([]byte, 31), 2, 3); err == nil {
		t.Error("a 31-byte seed was accepted")
	}
	for _, tn := range [][2]uint16{{0, 3}, {4, 3}} {
		if _, _, err := dkg.DealRandom(tn[0], tn[1]); err == nil {
			t.Errorf("threshold %d of %d was accepted", tn[0], tn[1])
		}
	}
}
