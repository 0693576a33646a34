// Package participant is the signing logic of one FROST participant, as a
// state machine with no I/O: requests in, responses out.
//
// A Participant holds one share of a group's Ed25519 key and a NonceStore.
// It answers two requests, both of which a transport (gRPC, or the
// in-memory transport of package coordinator) delivers along with the
// authenticated identity of the asking peer:
//
//   - Commit makes fresh nonce pairs, keeps their secrets in the store and
//     returns their public commitments. Coordinators keep pools of these so
//     that a signature needs a single round trip.
//   - Sign checks a request (the peer is allowed, messages are within
//     policy, every commitment list is well formed, its own commitment is
//     one it issued and has not spent), marks its nonces spent durably in
//     the store, and only then computes and returns its signature shares.
//
// The order in Sign is the safety argument of the whole system: a share
// leaves only after its nonce is recorded as spent, so no crash, restart,
// replay or concurrent duplicate can make a participant sign twice with
// one nonce (which would reveal its key share).
//
// The Participant does no I/O of its own; the NonceStore is the edge. Use
// NewMemoryStore in tests and simulations, and participant/boltstore in
// production.
package participant

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/bytemare/frost"
	"github.com/bytemare/secret-sharing/keys"

	"github.com/frostd/frostd/protocol"
)

// Defaults for Policy limits left at zero.
const (
	DefaultMaxMessageSize = 1 << 20
	DefaultMaxBatch       = 256
	DefaultMaxCommit      = 1024
)

// Policy is the operator's say over what this participant signs.
type Policy struct {
	// Coordinators lists the authenticated peer identities (as the
	// transport names them, e.g. a certificate's common name) allowed to
	// ask for commitments and shares. Empty allows any authenticated peer.
	Coordinators []string

	// MaxMessageSize is the largest message signed, in bytes.
	MaxMessageSize int

	// MaxBatch is the most signatures one SignRequest may ask for.
	MaxBatch int

	// MaxCommit is the most commitments one CommitRequest may ask for.
	MaxCommit int

	// Allow, if set, is asked about every message; a non-nil error refuses
	// the request and is passed back to the coordinator.
	Allow func(peer string, message []byte) error
}

// Config configures a Participant.
type Config struct {
	Group    *protocol.Group
	KeyShare protocol.KeyShare
	Store    NonceStore
	Policy   Policy
}

// Participant is one member of a signing group. It is safe for concurrent use.
type Participant struct {
	id     protocol.ParticipantID
	group  *protocol.Group
	conf   *frost.Configuration
	share  *keys.KeyShare
	store  NonceStore
	policy Policy

	commitMu sync.Mutex
	commit   *frost.Signer // makes nonces; guarded by commitMu
	signers  sync.Pool     // *frost.Signer, one per concurrent Sign
}

// New returns a Participant, checking the key share against the group.
func New(cfg Config) (*Participant, error) {
	if cfg.Group == nil || cfg.Store == nil {
		return nil, errors.New("participant: Config needs a Group and a Store")
	}
	conf, err := cfg.Group.Frost()
	if err != nil {
		return nil, fmt.Errorf("participant: %w", err)
	}
	share, err := cfg.KeyShare.Frost(cfg.Group)
	if err != nil {
		return nil, fmt.Errorf("participant: %w", err)
	}
	commit, err := conf.Signer(share)
	if err != nil {
		return nil, fmt.Errorf("participant: key share %d: %w", cfg.KeyShare.ID, err)
	}
	p := &Participant{
		id:     cfg.KeyShare.ID,
		group:  cfg.Group,
		conf:   conf,
		share:  share,
		store:  cfg.Store,
		policy: cfg.Policy,
		commit: commit,
	}
	if p.policy.MaxMessageSize <= 0 {
		p.policy.MaxMessageSize = DefaultMaxMessageSize
	}
	if p.policy.MaxBatch <= 0 {
		p.policy.MaxBatch = DefaultMaxBatch
	}
	if p.policy.MaxCommit <= 0 {
		p.policy.MaxCommit = DefaultMaxCommit
	}
	p.signers.New = func() any {
		s, err := conf.Signer(share) // checked above: cannot fail
		if err != nil {
			panic(err)
		}
		return s
	}
	return p, nil
}

// ID returns this participant's identifier in the group.
func (p *Participant) ID() protocol.ParticipantID { return p.id }

// Group returns the group this participant belongs to.
func (p *Participant) Group() *protocol.Group { return p.group }

// Store returns the participant's nonce store.
func (p *Participant) Store() NonceStore { return p.store }

func (p *Participant) checkPeer(peer string) error {
	if len(p.policy.Coordinators) == 0 || slices.Contains(p.policy.Coordinators, peer) {
		return nil
	}
	return protocol.Refuse(protocol.CodePolicy, "peer %q is not an allowed coordinator of participant %d (add it to the policy's coordinators)", peer, p.id)
}

// Commit makes req.Count fresh nonce pairs, stores them durably and returns
// their commitments.
func (p *Participant) Commit(peer string, req protocol.CommitRequest) (protocol.CommitResponse, error) {
	if err := p.checkPeer(peer); err != nil {
		return protocol.CommitResponse{}, err
	}
	if req.Count <= 0 || req.Count > p.policy.MaxCommit {
		return protocol.CommitResponse{}, protocol.Refuse(protocol.CodeMalformed, "asked for %d commitments; ask for 1 to %d", req.Count, p.policy.MaxCommit)
	}
	nonces := p.makeNonces(req.Count)
	defer func() {
		for i := range nonces {
			clear(nonces[i].Hiding[:])
			clear(nonces[i].Binding[:])
		}
	}()
	if err := p.store.Put(nonces); err != nil {
		return protocol.CommitResponse{}, fmt.Errorf("participant %d: storing nonces: %w", p.id, err)
	}
	out := make([]protocol.Commitment, len(nonces))
	for i, n := range nonces {
		out[i] = n.Commitment
	}
	return protocol.CommitResponse{Commitments: out}, nil
}

func (p *Participant) makeNonces(n int) []Nonce {
	p.commitMu.Lock()
	defer p.commitMu.Unlock()
	out := make([]Nonce, n)
	protocol.Serialize(func() {
		for i := range out {
			c := p.commit.Commit()
			fn := p.commit.NonceCommitments[c.CommitmentID]
			out[i].Commitment = protocol.CommitmentFromFrost(c)
			copy(out[i].Hiding[:], fn.HidingNonce.Encode())
			copy(out[i].Binding[:], fn.BindingNonce.Encode())
			p.commit.ClearNonceCommitment(c.CommitmentID) // zeroes the library's copy
		}
	})
	return out
}

// Sign checks req, spends the nonces it names and returns one signature
// share per item. It answers all items or refuses the whole request; a
// refusal is a *protocol.Refusal or wraps one of protocol's sentinels.
func (p *Participant) Sign(peer string, req protocol.SignRequest) (protocol.SignResponse, error) {
	if err := p.checkPeer(peer); err != nil {
		return protocol.SignResponse{}, err
	}
	if n := len(req.Items); n == 0 || n > p.policy.MaxBatch {
		return protocol.SignResponse{}, protocol.Refuse(protocol.CodeMalformed, "request has %d items; send 1 to %d", n, p.policy.MaxBatch)
	}
	lists := make([]frost.CommitmentList, len(req.Items))
	spends := make([]Spend, len(req.Items))
	for i, item := range req.Items {
		list, own, err := p.checkItem(peer, item)
		if err != nil {
			return protocol.SignResponse{}, fmt.Errorf("item %d (session %s): %w", i, item.Session, err)
		}
		lists[i] = list
		spends[i] = Spend{CommitmentID: own.ID, Session: item.Session}
	}

	// The point of no return: after Spend the nonces are gone for good.
	nonces, err := p.store.Spend(spends)
	if err != nil {
		return protocol.SignResponse{}, fmt.Errorf("participant %d: %w", p.id, err)
	}
	defer func() {
		for i := range nonces {
			clear(nonces[i].Hiding[:])
			clear(nonces[i].Binding[:])
		}
	}()

	fs := p.signers.Get().(*frost.Signer)
	defer p.signers.Put(fs)
	out := make([]protocol.SignatureShare, len(req.Items))
	for i, item := range req.Items {
		share, err := p.signOne(fs, item.Message, lists[i], nonces[i])
		if err != nil {
			return protocol.SignResponse{}, fmt.Errorf("participant %d, item %d: %w", p.id, i, err)
		}
		out[i] = share
	}
	return protocol.SignResponse{Shares: out}, nil
}

// checkItem validates one item and returns its commitment list and the
// participant's own commitment in it.
func (p *Participant) checkItem(peer string, item protocol.SignItem) (frost.CommitmentList, protocol.Commitment, error) {
	if len(item.Message) > p.policy.MaxMessageSize {
		return nil, protocol.Commitment{}, protocol.Refuse(protocol.CodePolicy, "message is %d bytes, over this participant's %d-byte limit", len(item.Message), p.policy.MaxMessageSize)
	}
	if p.policy.Allow != nil {
		if err := p.policy.Allow(peer, item.Message); err != nil {
			return nil, protocol.Commitment{}, protocol.Refuse(protocol.CodePolicy, "%v", err)
		}
	}
	if len(item.Commitments) < int(p.group.Threshold) || len(item.Commitments) > int(p.group.MaxSigners) {
		return nil, protocol.Commitment{}, protocol.Refuse(protocol.CodeMalformed, "%d commitments; a session needs %d to %d", len(item.Commitments), p.group.Threshold, p.group.MaxSigners)
	}
	var own protocol.Commitment
	found := false
	for _, c := range item.Commitments {
		if c.Signer == p.id {
			if found {
				return nil, own, protocol.Refuse(protocol.CodeMalformed, "participant %d has two commitments in the list", p.id)
			}
			own, found = c, true
		}
	}
	if !found {
		return nil, own, protocol.Refuse(protocol.CodeMalformed, "the commitment list has no commitment of participant %d", p.id)
	}
	for _, c := range item.Commitments {
		if c.Signer == p.id {
			continue // compared byte for byte with the one it issued, below
		}
		if err := c.Validate(); err != nil {
			return nil, own, protocol.Refuse(protocol.CodeMalformed, "%v", err)
		}
	}
	list, err := protocol.CommitmentList(item.Commitments)
	if err != nil {
		return nil, own, protocol.Refuse(protocol.CodeMalformed, "%v", err)
	}
	if err := p.conf.ValidateCommitmentList(list); err != nil {
		return nil, own, protocol.Refuse(protocol.CodeMalformed, "%v", err)
	}
	issued, err := p.store.Lookup(own.ID)
	if err != nil {
		return nil, own, err
	}
	if issued.Signer != p.id || !bytes.Equal(issued.Hiding[:], own.Hiding[:]) || !bytes.Equal(issued.Binding[:], own.Binding[:]) {
		return nil, own, protocol.Refuse(protocol.CodeMalformed, "commitment %d does not match the one participant %d issued", own.ID, p.id)
	}
	return list, own, nil
}

func (p *Participant) signOne(fs *frost.Signer, message []byte, list frost.CommitmentList, n Nonce) (protocol.SignatureShare, error) {
	hiding, binding := p.conf.Ciphersuite.Group().NewScalar(), p.conf.Ciphersuite.Group().NewScalar()
	if err := hiding.Decode(n.Hiding[:]); err != nil {
		return protocol.SignatureShare{}, fmt.Errorf("stored nonce %d is corrupt: %w", n.Commitment.ID, err)
	}
	if err := binding.Decode(n.Binding[:]); err != nil {
		return protocol.SignatureShare{}, fmt.Errorf("stored nonce %d is corrupt: %w", n.Commitment.ID, err)
	}
	com, err := n.Commitment.ToFrost()
	if err != nil {
		return protocol.SignatureShare{}, err
	}
	fs.NonceCommitments[com.CommitmentID] = &frost.Nonce{HidingNonce: hiding, BindingNonce: binding, Commitment: com}
	var share *frost.SignatureShare
	protocol.Serialize(func() { share, err = fs.Sign(message, list) })
	fs.ClearNonceCommitment(com.CommitmentID) // Sign clears on success only
	if err != nil {
		return protocol.SignatureShare{}, err
	}
	return protocol.ShareFromFrost(share), nil
}
