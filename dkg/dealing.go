package dkg

import (
	"crypto/ed25519"
	"fmt"

	bdkg "github.com/bytemare/dkg"
	"github.com/bytemare/ecc"
	secretsharing "github.com/bytemare/secret-sharing"

	"github.com/frostd/frostd/protocol"
)

// A ceremony deals in one of two ways; the rounds around the dealing are
// the same.
type kind uint8

const (
	// kindKeygen: every participant deals a random secret with a proof of
	// knowledge (bytemare/dkg); the group key is the sum of the secrets.
	kindKeygen kind = 1
	// kindRefresh: every participant deals a sharing of zero
	// (bytemare/secret-sharing) and adds what it receives to its share.
	kindRefresh kind = 2
)

func (k kind) String() string {
	if k == kindRefresh {
		return "refresh"
	}
	return "keygen"
}

// commitmentLen is the number of points in a round-1 commitment. A refresh
// leaves out the constant term: it is the identity (a commitment to zero),
// and leaving it out makes "the dealt secret is zero" hold by construction.
func (k kind) commitmentLen(t uint16) uint16 {
	if k == kindRefresh {
		return t - 1
	}
	return t
}

var group = ecc.Edwards25519Sha512

// peer is a participant's round-1 package, parsed and checked.
type peer struct {
	msg  Message
	r1   round1
	coms []*ecc.Element // the whole commitment, constant term first (identity for a refresh)
}

// verifyShare reports whether share, sent by p to participant to, lies on
// p's committed polynomial (bytemare's Feldman check).
func (p *peer) verifyShare(to protocol.ParticipantID, share *ecc.Scalar) bool {
	return secretsharing.Verify(group, to, group.Base().Multiply(share), p.coms)
}

// dealer is one kind of dealing, seen from one participant.
type dealer interface {
	// round1 returns this participant's commitment and proof. With alt it
	// returns another, equally valid one (to inject equivocation).
	round1(alt bool, f *faults) (coms [][pointSize]byte, proof []byte, err error)
	// checkProof checks a peer's proof of knowledge, if the kind has one.
	checkProof(from protocol.ParticipantID, p *peer) *CulpritError
	// shares returns the share for every other participant, once the
	// round-1 set is agreed.
	shares(set []*peer, f *faults) (map[protocol.ParticipantID]*ecc.Scalar, error)
	// finish checks the received shares and returns the group and this
	// participant's share. A bad share is reported as a *CulpritError
	// without evidence.
	finish(set []*peer, got map[protocol.ParticipantID]*ecc.Scalar) (*protocol.Group, protocol.KeyShare, error)
	wipe()
}

// keygen deals with bytemare/dkg: a Pedersen DKG in which every dealer
// proves knowledge of its secret: the DKG of the FROST paper (Komlo and
// Goldberg, 2020, figure 1).
type keygen struct {
	self protocol.ParticipantID
	t, n uint16
	p    *bdkg.Participant
}

func newKeygen(self protocol.ParticipantID, t, n uint16) (*keygen, error) {
	p, err := bdkg.Edwards25519Sha512.NewParticipant(self, t, n)
	if err != nil {
		return nil, fmt.Errorf("dkg: starting bytemare/dkg participant %d: %w", self, err)
	}
	return &keygen{self: self, t: t, n: n, p: p}, nil
}

func (k *keygen) round1(alt bool, f *faults) ([][pointSize]byte, []byte, error) {
	p := k.p
	if alt {
		q, err := bdkg.Edwards25519Sha512.NewParticipant(k.self, k.t, k.n)
		if err != nil {
			return nil, nil, err
		}
		p = q
	}
	d := p.Start()
	if f.badProof {
		d.ProofOfKnowledge.Z.Add(group.NewScalar().One())
	}
	coms := make([][pointSize]byte, len(d.Commitment))
	for i, c := range d.Commitment {
		copy(coms[i][:], c.Encode())
	}
	proof := append(d.ProofOfKnowledge.R.Encode(), d.ProofOfKnowledge.Z.Encode()...)
	return coms, proof, nil
}

func (k *keygen) checkProof(from protocol.ParticipantID, p *peer) *CulpritError {
	var rb [pointSize]byte
	copy(rb[:], p.r1.proof)
	if err := checkPoint(rb); err != nil {
		return culprit(from, OffenceBadProof, []Message{p.msg}, "the proof's commitment R %v", err)
	}
	r, z := group.NewElement(), group.NewScalar()
	if err := r.Decode(rb[:]); err != nil {
		return culprit(from, OffenceBadProof, []Message{p.msg}, "the proof's commitment R: %v", err)
	}
	if err := z.Decode(p.r1.proof[pointSize:]); err != nil {
		return culprit(from, OffenceBadProof, []Message{p.msg}, "the proof's response z is not a canonical scalar: %v", err)
	}
	ok, err := bdkg.FrostVerifyZeroKnowledgeProof(bdkg.Edwards25519Sha512, from, p.coms[0], &bdkg.Signature{Group: group, R: r, Z: z})
	if err != nil || !ok {
		return culprit(from, OffenceBadProof, []Message{p.msg}, "its proof of knowledge of its secret does not verify")
	}
	return nil
}

func (k *keygen) round1Data(set []*peer) []*bdkg.Round1Data {
	out := make([]*bdkg.Round1Data, len(set))
	for i, p := range set {
		r, z := group.NewElement(), group.NewScalar()
		// Checked by checkProof for peers; our own is what we encoded.
		_ = r.Decode(p.r1.proof[:pointSize])
		_ = z.Decode(p.r1.proof[pointSize:])
		out[i] = &bdkg.Round1Data{
			Group:            group,
			SenderIdentifier: protocol.ParticipantID(i + 1),
			Commitment:       p.coms,
			ProofOfKnowledge: &bdkg.Signature{Group: group, R: r, Z: z},
		}
	}
	return out
}

func (k *keygen) shares(set []*peer, f *faults) (map[protocol.ParticipantID]*ecc.Scalar, error) {
	r2, err := k.p.Continue(k.round1Data(set))
	if err != nil {
		// Every proof was checked one by one before; this is not a peer's fault.
		return nil, fmt.Errorf("dkg: bytemare/dkg round 2: %w", err)
	}
	out := make(map[protocol.ParticipantID]*ecc.Scalar, len(r2))
	for id, d := range r2 {
		out[id] = d.SecretShare
	}
	if to := f.corruptShareTo; to != 0 && out[to] != nil {
		out[to].Add(group.NewScalar().One())
	}
	return out, nil
}

func (k *keygen) finish(set []*peer, got map[protocol.ParticipantID]*ecc.Scalar) (*protocol.Group, protocol.KeyShare, error) {
	r2 := make([]*bdkg.Round2Data, 0, len(got))
	for i := range set {
		id := protocol.ParticipantID(i + 1)
		if id == k.self {
			continue
		}
		r2 = append(r2, &bdkg.Round2Data{Group: group, SenderIdentifier: id, RecipientIdentifier: k.self, SecretShare: got[id]})
	}
	ks, err := k.p.Finalize(k.round1Data(set), r2)
	if err != nil {
		// bytemare names the sender only inside its error text; find it
		// with the check Finalize makes.
		for i, p := range set {
			id := protocol.ParticipantID(i + 1)
			if id != k.self && !p.verifyShare(k.self, got[id]) {
				return nil, protocol.KeyShare{}, culprit(id, OffenceBadShare, nil, "its share for participant %d does not match its commitment", k.self)
			}
		}
		return nil, protocol.KeyShare{}, fmt.Errorf("dkg: bytemare/dkg finalize: %w", err)
	}
	defer ks.Secret.Zero()
	return assemble(k.self, k.t, set, ks.VerificationKey, nil, ks.Secret)
}

func (k *keygen) wipe() {
	// bytemare zeroes its polynomial in Continue and its own share in
	// Finalize; drop the participant either way.
	k.p = nil
}

// refresh deals a sharing of zero: a random polynomial of degree t-1 whose
// constant term is zero, so adding the shares it yields to the current
// shares changes every share but not the secret.
//
// bytemare/dkg cannot do this: NewParticipant's optional polynomial goes
// through checkPolynomial, which rejects any zero coefficient, and its
// proof of knowledge is meaningless for a known secret. bytemare/
// secret-sharing's Shard refuses a zero secret too (errSecretIsZero), and
// a zero coefficient in a given polynomial (errPolyHasZeroCoeff). What it
// does offer works for a zero constant: Polynomial.Evaluate, Commit and
// Verify / PubKeyForCommitment are plain arithmetic with no such check. So
// the dealing builds the polynomial [0, r1, ..., r(t-1)] with bytemare's
// random scalars and uses those; the constant's commitment, the identity,
// is never sent, so every dealing verified against it deals zero.
type refresh struct {
	self  protocol.ParticipantID
	t, n  uint16
	old   *protocol.Group
	share *ecc.Scalar // the current share
	poly  secretsharing.Polynomial
}

func newRefresh(self protocol.ParticipantID, g *protocol.Group, ks protocol.KeyShare) (*refresh, error) {
	s := group.NewScalar()
	if err := s.Decode(ks.Secret[:]); err != nil {
		return nil, fmt.Errorf("dkg: current key share: %w", err)
	}
	return &refresh{self: self, t: g.Threshold, n: g.MaxSigners, old: g, share: s, poly: zeroPolynomial(g.Threshold)}, nil
}

func zeroPolynomial(t uint16) secretsharing.Polynomial {
	p := secretsharing.NewPolynomial(t)
	p[0] = group.NewScalar().Zero()
	for i := 1; i < int(t); i++ {
		p[i] = group.NewScalar().Random()
	}
	return p
}

func (r *refresh) round1(alt bool, f *faults) ([][pointSize]byte, []byte, error) {
	p := r.poly
	if alt {
		p = zeroPolynomial(r.t)
	}
	c := secretsharing.Commit(group, p)[1:]
	coms := make([][pointSize]byte, len(c))
	for i, e := range c {
		copy(coms[i][:], e.Encode())
	}
	return coms, nil, nil
}

func (r *refresh) checkProof(protocol.ParticipantID, *peer) *CulpritError { return nil }

func (r *refresh) shares(set []*peer, f *faults) (map[protocol.ParticipantID]*ecc.Scalar, error) {
	out := make(map[protocol.ParticipantID]*ecc.Scalar, r.n-1)
	for j := protocol.ParticipantID(1); j <= r.n; j++ {
		if j != r.self {
			out[j] = r.poly.Evaluate(group.NewScalar().SetUInt64(uint64(j)))
		}
	}
	if to := f.corruptShareTo; to != 0 && out[to] != nil {
		out[to].Add(group.NewScalar().One())
	}
	return out, nil
}

func (r *refresh) finish(set []*peer, got map[protocol.ParticipantID]*ecc.Scalar) (*protocol.Group, protocol.KeyShare, error) {
	sum := r.poly.Evaluate(group.NewScalar().SetUInt64(uint64(r.self)))
	defer sum.Zero()
	for i, p := range set {
		id := protocol.ParticipantID(i + 1)
		if id == r.self {
			continue
		}
		if !p.verifyShare(r.self, got[id]) {
			return nil, protocol.KeyShare{}, culprit(id, OffenceBadShare, nil, "its zero-share for participant %d does not match its commitment", r.self)
		}
		sum.Add(got[id])
	}
	sum.Add(r.share)
	vk := group.NewElement()
	if err := vk.Decode(r.old.PublicKey); err != nil {
		return nil, protocol.KeyShare{}, fmt.Errorf("dkg: group key being refreshed: %w", err)
	}
	return assemble(r.self, r.t, set, vk, r.old, sum)
}

func (r *refresh) wipe() {
	for _, c := range r.poly {
		c.Zero()
	}
	r.share.Zero()
}

// assemble builds the group from the agreed round-1 set: member j's public
// share is the sum over dealers of their committed polynomial at j (added
// to its old public share, for a refresh). It sums the commitments first
// and evaluates once per member, n·t point multiplications in all; bytemare's
// ComputeParticipantPublicKey evaluates every dealer's commitment for every
// member, n·n·t, which is minutes for 50 participants. The results are the
// same (the map is linear; a test checks it against bytemare's).
func assemble(self protocol.ParticipantID, t uint16, set []*peer, vk *ecc.Element, old *protocol.Group, secret *ecc.Scalar) (*protocol.Group, protocol.KeyShare, error) {
	agg := make([]*ecc.Element, len(set[0].coms))
	for i := range agg {
		agg[i] = group.NewElement()
		for _, p := range set {
			agg[i].Add(p.coms[i])
		}
	}
	g := &protocol.Group{
		Threshold:  t,
		MaxSigners: uint16(len(set)),
		PublicKey:  ed25519.PublicKey(vk.Encode()),
		Members:    make([]protocol.Member, len(set)),
	}
	for i := range set {
		id := protocol.ParticipantID(i + 1)
		y, err := secretsharing.PubKeyForCommitment(group, id, agg)
		if err != nil {
			return nil, protocol.KeyShare{}, fmt.Errorf("dkg: public key share of participant %d: %w", id, err)
		}
		if old != nil {
			m, _ := old.Member(id)
			prev := group.NewElement()
			if err := prev.Decode(m.PublicShare[:]); err != nil {
				return nil, protocol.KeyShare{}, fmt.Errorf("dkg: old public key share of participant %d: %w", id, err)
			}
			y.Add(prev)
		}
		g.Members[i].ID = id
		copy(g.Members[i].PublicShare[:], y.Encode())
	}
	if !group.Base().Multiply(secret).Equal(mustElement(g.Members[self-1].PublicShare)) {
		return nil, protocol.KeyShare{}, fmt.Errorf("dkg: own share does not match own public key share (internal error; every share was verified)")
	}
	if err := g.Validate(); err != nil {
		return nil, protocol.KeyShare{}, fmt.Errorf("dkg: resulting group does not validate: %w", err)
	}
	for _, m := range g.Members {
		if err := checkPoint(m.PublicShare); err != nil {
			return nil, protocol.KeyShare{}, fmt.Errorf("dkg: public key share of participant %d %w", m.ID, err)
		}
	}
	ks := protocol.KeyShare{ID: self}
	copy(ks.Secret[:], secret.Encode())
	if _, err := ks.Frost(g); err != nil {
		clear(ks.Secret[:])
		return nil, protocol.KeyShare{}, fmt.Errorf("dkg: resulting key share: %w", err)
	}
	return g, ks, nil
}

func mustElement(b [pointSize]byte) *ecc.Element {
	e := group.NewElement()
	if err := e.Decode(b[:]); err != nil {
		return group.NewElement() // the identity: matches no share
	}
	return e
}
