package dkg

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"errors"
	"fmt"

	"filippo.io/edwards25519"
	"github.com/bytemare/ecc"
	secretsharing "github.com/bytemare/secret-sharing"

	"github.com/frostd/frostd/protocol"
)

// Deal splits an existing Ed25519 private key, given by its 32-byte seed,
// into n shares of which any t sign. The group public key equals the key's
// own public key, so an identity keeps its ID52 when it moves into a
// threshold cluster.
//
// This is a trusted dealer: the machine that runs Deal holds the whole key.
// Use it to migrate an existing identity, then destroy the seed; use the
// DKG for a new identity, so that no machine ever holds it.
func Deal(seed []byte, t, n uint16) (*protocol.Group, []protocol.KeyShare, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, nil, fmt.Errorf("dkg: an Ed25519 seed is %d bytes, got %d", ed25519.SeedSize, len(seed))
	}
	// RFC 8032 section 5.1.5: the secret scalar is the clamped first half of
	// SHA-512(seed), here reduced mod L.
	h := sha512.Sum512(seed)
	s, err := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	clear(h[:])
	if err != nil {
		return nil, nil, fmt.Errorf("dkg: deriving the secret scalar: %w", err)
	}
	return deal(s.Bytes(), t, n)
}

// DealRandom makes a fresh random group key and splits it into n shares of
// which any t sign. The dealer sees the key; prefer the DKG.
func DealRandom(t, n uint16) (*protocol.Group, []protocol.KeyShare, error) {
	var wide [64]byte
	if _, err := rand.Read(wide[:]); err != nil {
		return nil, nil, fmt.Errorf("dkg: reading randomness: %w", err)
	}
	s, err := edwards25519.NewScalar().SetUniformBytes(wide[:])
	clear(wide[:])
	if err != nil {
		return nil, nil, err
	}
	return deal(s.Bytes(), t, n)
}

func deal(secret []byte, t, n uint16) (*protocol.Group, []protocol.KeyShare, error) {
	defer clear(secret)
	if t == 0 || t > n {
		return nil, nil, fmt.Errorf("dkg: threshold %d must be between 1 and the number of participants %d", t, n)
	}
	g := ecc.Edwards25519Sha512
	sk := g.NewScalar()
	if err := sk.Decode(secret); err != nil {
		return nil, nil, fmt.Errorf("dkg: secret scalar: %w", err)
	}
	if sk.IsZero() {
		return nil, nil, errors.New("dkg: the secret scalar is zero")
	}
	shares, err := secretsharing.Shard(g, sk, t, n)
	sk.Zero()
	if err != nil {
		return nil, nil, fmt.Errorf("dkg: splitting the key: %w", err)
	}
	group := &protocol.Group{
		Threshold:  t,
		MaxSigners: n,
		PublicKey:  ed25519.PublicKey(shares[0].VerificationKey.Encode()),
		Members:    make([]protocol.Member, n),
	}
	out := make([]protocol.KeyShare, n)
	for i, ks := range shares {
		group.Members[i].ID = ks.ID
		copy(group.Members[i].PublicShare[:], ks.PublicKey.Encode())
		out[i].ID = ks.ID
		copy(out[i].Secret[:], ks.Secret.Encode())
		ks.Secret.Zero()
	}
	if err := group.Validate(); err != nil {
		return nil, nil, fmt.Errorf("dkg: dealt group does not validate: %w", err)
	}
	return group, out, nil
}
