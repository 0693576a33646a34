package protocol

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"sync"

	"filippo.io/edwards25519"
	"github.com/bytemare/ecc"
	"github.com/bytemare/frost"
	"github.com/bytemare/secret-sharing/keys"
)

// Suite is the only ciphersuite frostd uses: FROST(Ed25519, SHA-512), whose
// signatures are ordinary Ed25519 signatures.
const Suite = frost.Ed25519

var curve = ecc.Edwards25519Sha512

// Validate checks that the group is well formed: threshold within 1..n,
// n members with distinct ids in 1..n sorted, and keys that are valid points.
func (g *Group) Validate() error {
	_, err := g.Frost()
	return err
}

func (g *Group) validateShape() error {
	if g.Threshold == 0 || g.Threshold > g.MaxSigners {
		return fmt.Errorf("threshold %d must be between 1 and the number of signers %d", g.Threshold, g.MaxSigners)
	}
	if len(g.PublicKey) != ed25519.PublicKeySize {
		return fmt.Errorf("group public key is %d bytes, want %d", len(g.PublicKey), ed25519.PublicKeySize)
	}
	if len(g.Members) != int(g.MaxSigners) {
		return fmt.Errorf("group lists %d members, want %d", len(g.Members), g.MaxSigners)
	}
	for i, m := range g.Members {
		if m.ID == 0 || m.ID > g.MaxSigners {
			return fmt.Errorf("member id %d is outside 1..%d", m.ID, g.MaxSigners)
		}
		if i > 0 && g.Members[i-1].ID >= m.ID {
			return fmt.Errorf("members must be sorted by id with no duplicates (id %d follows %d)", m.ID, g.Members[i-1].ID)
		}
	}
	return nil
}

// Frost validates the group and returns it as an initialised bytemare
// configuration.
func (g *Group) Frost() (*frost.Configuration, error) {
	if err := g.validateShape(); err != nil {
		return nil, err
	}
	vk := curve.NewElement()
	if err := vk.Decode(g.PublicKey); err != nil {
		return nil, fmt.Errorf("group public key is not a valid Ed25519 point: %w", err)
	}
	shares := make([]*keys.PublicKeyShare, len(g.Members))
	for i, m := range g.Members {
		pks, err := frost.NewPublicKeyShare(Suite, m.ID, m.PublicShare[:])
		if err != nil {
			return nil, fmt.Errorf("public key share of member %d: %w", m.ID, err)
		}
		shares[i] = pks
	}
	cfg := &frost.Configuration{
		Ciphersuite:           Suite,
		Threshold:             g.Threshold,
		MaxSigners:            g.MaxSigners,
		VerificationKey:       vk,
		SignerPublicKeyShares: shares,
	}
	if err := cfg.Init(); err != nil {
		return nil, fmt.Errorf("group configuration: %w", err)
	}
	return cfg, nil
}

// Equal reports whether two groups are the same.
func (g *Group) Equal(o *Group) bool {
	return g.Threshold == o.Threshold && g.MaxSigners == o.MaxSigners &&
		bytes.Equal(g.PublicKey, o.PublicKey) && slices.Equal(g.Members, o.Members)
}

// ToFrost converts a commitment to bytemare's form, checking its points.
func (c Commitment) ToFrost() (*frost.Commitment, error) {
	h, b := curve.NewElement(), curve.NewElement()
	if err := h.Decode(c.Hiding[:]); err != nil {
		return nil, fmt.Errorf("commitment %d of participant %d: hiding point: %w", c.ID, c.Signer, err)
	}
	if err := b.Decode(c.Binding[:]); err != nil {
		return nil, fmt.Errorf("commitment %d of participant %d: binding point: %w", c.ID, c.Signer, err)
	}
	return &frost.Commitment{
		HidingNonceCommitment:  h,
		BindingNonceCommitment: b,
		CommitmentID:           c.ID,
		SignerID:               c.Signer,
		Group:                  curve,
	}, nil
}

// CommitmentFromFrost converts bytemare's commitment to ours.
func CommitmentFromFrost(f *frost.Commitment) Commitment {
	c := Commitment{Signer: f.SignerID, ID: f.CommitmentID}
	copy(c.Hiding[:], f.HidingNonceCommitment.Encode())
	copy(c.Binding[:], f.BindingNonceCommitment.Encode())
	return c
}

// CommitmentList converts a list of commitments to bytemare's form, sorted
// by signer.
func CommitmentList(cs []Commitment) (frost.CommitmentList, error) {
	list := make(frost.CommitmentList, len(cs))
	for i, c := range cs {
		f, err := c.ToFrost()
		if err != nil {
			return nil, err
		}
		list[i] = f
	}
	list.Sort()
	return list, nil
}

// ToFrost converts a signature share to bytemare's form.
func (s SignatureShare) ToFrost() (*frost.SignatureShare, error) {
	z := curve.NewScalar()
	if err := z.Decode(s.Share[:]); err != nil {
		return nil, fmt.Errorf("signature share of participant %d: %w", s.Signer, err)
	}
	return &frost.SignatureShare{SignatureShare: z, SignerIdentifier: s.Signer, Group: curve}, nil
}

// ShareFromFrost converts bytemare's signature share to ours.
func ShareFromFrost(f *frost.SignatureShare) SignatureShare {
	s := SignatureShare{Signer: f.SignerIdentifier}
	copy(s.Share[:], f.SignatureShare.Encode())
	return s
}

// SignatureBytes returns the 64-byte Ed25519 encoding R ‖ S of a FROST
// signature. bytemare prefixes its encoding with a ciphersuite byte.
func SignatureBytes(sig *frost.Signature) []byte {
	return sig.Encode()[1:]
}

// KeyShare is one participant's secret share of the group key.
type KeyShare struct {
	ID     ParticipantID
	Secret [32]byte // scalar, little-endian
}

// Frost returns the share in bytemare's form, checking it against the group:
// the secret must match the member's public share.
func (k KeyShare) Frost(g *Group) (*keys.KeyShare, error) {
	m, ok := g.Member(k.ID)
	if !ok {
		return nil, fmt.Errorf("key share id %d is not a member of the group", k.ID)
	}
	ks, err := frost.NewKeyShare(Suite, k.ID, k.Secret[:], m.PublicShare[:], g.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("key share %d does not match the group: %w", k.ID, err)
	}
	return ks, nil
}

// libMu serialises the calls into github.com/bytemare/frost that hash. At
// the pinned version the library hashes through one package-level SHA-512
// state shared by every caller (internal/hashing.go), so two goroutines
// hashing at once corrupt each other's nonces, binding factors and
// challenges (the race detector and a "d.nx != 0" panic show it).
var libMu sync.Mutex

// Serialize runs f, which calls into bytemare/frost, while no other such
// call runs in this process. Every commit, share, aggregation and share
// verification must go through it.
func Serialize(f func()) {
	libMu.Lock()
	defer libMu.Unlock()
	f()
}

// Validate checks a commitment as RFC 9591 section 6.5 asks of every
// Ed25519 element: a canonical encoding of a point that is not the
// identity and lies in the prime-order subgroup. bytemare's decoder checks
// only the identity, so a small- or mixed-order point would pass it.
func (c Commitment) Validate() error {
	if c.Signer == 0 {
		return fmt.Errorf("commitment %d has signer 0; members are numbered from 1", c.ID)
	}
	if err := CheckElement(c.Hiding); err != nil {
		return fmt.Errorf("commitment %d of participant %d: hiding point %w", c.ID, c.Signer, err)
	}
	if err := CheckElement(c.Binding); err != nil {
		return fmt.Errorf("commitment %d of participant %d: binding point %w", c.ID, c.Signer, err)
	}
	return nil
}

// lMinusOne is the group order L minus one, as a scalar.
var lMinusOne = func() *edwards25519.Scalar {
	one := edwards25519.NewScalar()
	b := [32]byte{1}
	if _, err := one.SetCanonicalBytes(b[:]); err != nil {
		panic(err)
	}
	return edwards25519.NewScalar().Negate(one)
}()

// CheckElement checks what RFC 9591 section 6.5 asks of an Ed25519
// element received from a peer: a canonical point encoding, not the
// identity, in the prime-order subgroup. The error says which check failed.
func CheckElement(b [32]byte) error {
	p, err := new(edwards25519.Point).SetBytes(b[:])
	if err != nil {
		return fmt.Errorf("is not a valid point encoding: %w", err)
	}
	if !bytes.Equal(p.Bytes(), b[:]) {
		return errors.New("is not canonically encoded")
	}
	id := edwards25519.NewIdentityPoint()
	if p.Equal(id) == 1 {
		return errors.New("is the identity")
	}
	// [L]P = [L-1]P + P is the identity exactly when P has prime order.
	// P is public, so the faster variable-time multiplication is safe.
	q := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(lMinusOne, p, edwards25519.NewScalar())
	if q.Add(q, p).Equal(id) != 1 {
		return errors.New("is not in the prime-order subgroup")
	}
	return nil
}
