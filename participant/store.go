package participant

import (
	"github.com/frostd/frostd/protocol"
)

// Nonce is one secret nonce pair (RFC 9591 hiding and binding nonces) and
// the public commitment to it. The secrets must never leave the
// participant, and must be used for at most one signature share.
type Nonce struct {
	Commitment protocol.Commitment
	Hiding     [32]byte // secret scalar, little-endian
	Binding    [32]byte // secret scalar, little-endian
}

// Spend asks a NonceStore to spend one nonce for one session.
type Spend struct {
	CommitmentID uint64
	Session      protocol.SessionID
}

// Tombstone is what a NonceStore keeps of a spent nonce: enough to recognise
// a replay, nothing secret.
type Tombstone struct {
	Commitment protocol.Commitment
	Session    protocol.SessionID
}

// NonceStore keeps a participant's nonces and remembers which were spent.
//
// It is the participant's only state that changes while signing, and the one
// that keeps the promise "a nonce is used once, ever": Spend must make the
// spent mark durable (in the sense of the store: fsync for a disk store)
// before it returns the secrets, and no later Spend of the same nonce,
// even after a crash and reopen, may succeed.
//
// Implementations are safe for concurrent use.
type NonceStore interface {
	// Put stores fresh nonces durably. It fails, storing none, if any
	// commitment id is already known to the store, spent or not.
	Put(nonces []Nonce) error

	// Lookup returns the public commitment of an unspent nonce. For a spent
	// one it returns an error wrapping protocol.ErrNonceSpent, for an unknown
	// one protocol.ErrUnknownCommitment.
	Lookup(commitmentID uint64) (protocol.Commitment, error)

	// Spend atomically marks the nonces spent, records each one's session in
	// a tombstone, erases their secrets, and returns the secrets. Either all
	// are spent or none: if any nonce is spent or unknown, or any session was
	// already recorded, Spend spends nothing and returns an error wrapping
	// protocol.ErrNonceSpent, protocol.ErrUnknownCommitment or
	// protocol.ErrSessionReplayed.
	Spend(spends []Spend) ([]Nonce, error)

	// Unspent returns the commitments of all unspent nonces, for pushing to
	// a coordinator after a restart.
	Unspent() ([]protocol.Commitment, error)

	// Close releases the store. Secrets still in memory are erased.
	Close() error
}
