// Package local is the simplest frostd backend: an Ed25519 private key held
// in this process's memory.
//
// Make a [LocalSigner] from a key you already have with [New] or
// [FromSeed], or a fresh one with [Generate]. To use keys kept on disk or in
// the environment, use a [Loader]:
//
//	l := local.Loader{Dir: keysDir}
//	s, err := l.Load("i66fo538") // a key name, an ID52 or an ID52 prefix
//	sig, err := s.Sign(ctx, message)
//
// # Key stores
//
// The formats are those of fastn-id52, so existing key stores work as they
// are. A directory holds, for a key named NAME, one of:
//
//   - NAME.private-key: the 32-byte Ed25519 seed in 64 lowercase hex
//     characters, an optional trailing newline, mode 0600;
//   - NAME.id52: the key's ID52 only; the seed is then looked up in the
//     environment, below.
//
// Having both is an error, as it is ambiguous which one is meant. Keys that
// [Loader.Generate] makes are saved as ID52.private-key.
//
// The environment chain, for seeds kept out of the key directory (in CI, or
// in a secrets manager that fills environment variables):
//
//   - FROSTD_SECRET_KEYS_FILE names a file of key lines, or
//   - FROSTD_SECRET_KEYS holds key lines inline.
//
// Setting both is an error. FASTN_SECRET_KEYS_FILE and FASTN_SECRET_KEYS
// work the same way and are read only when neither FROSTD_ variable is set.
// An empty variable counts as unset. Key lines look like
//
//	# RFC 8032's first test key
//	qtd9g0c2: 9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60
//
// that is, a prefix of the key's ID52, a colon, and its seed in hex. The
// first line whose prefix starts the wanted ID52 supplies the seed. Every
// line must be well formed, even lines for other keys, so a typo shows on
// first use.
//
// Whatever the source, a key is used only if it produces the ID52 that was
// asked for, so a mislabelled key file fails loudly instead of signing with
// the wrong identity. Key files readable by group or others work, with a
// warning on [Loader.Warnings].
//
// # Limits
//
// The key is one memory dump away from leaking. Where that matters, move
// the identity to signer/sshagent, signer/pkcs11 or a FROST cluster; code
// that depends on signer.Signer does not change.
package local

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/signer"
)

// DefaultMaxMessage is the largest message a LocalSigner signs unless
// WithMaxMessage says otherwise. Ed25519 hashes the message twice, so
// callers with bigger data should sign a digest of it.
const DefaultMaxMessage = 16 << 20

// Option configures a LocalSigner.
type Option func(*LocalSigner)

// WithMaxMessage sets the largest message Sign accepts; zero or less means
// no limit.
func WithMaxMessage(n int) Option { return func(s *LocalSigner) { s.maxMessage = n } }

// LocalSigner is a signer.Signer over an Ed25519 key in memory.
// It is safe for concurrent use.
type LocalSigner struct {
	priv       ed25519.PrivateKey
	pub        ed25519.PublicKey
	id52       string
	maxMessage int
}

var _ signer.Signer = (*LocalSigner)(nil)

// New returns a LocalSigner for priv, which it copies. It fails with an
// error wrapping signer.ErrBadKey if priv is not 64 bytes or its public
// half does not belong to its seed.
func New(priv ed25519.PrivateKey, opts ...Option) (*LocalSigner, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("local: private key is %d bytes, want %d (seed then public key, as crypto/ed25519 makes them): %w",
			len(priv), ed25519.PrivateKeySize, signer.ErrBadKey)
	}
	// ed25519.Sign trusts the public half; a wrong one yields signatures
	// that verify under no key.
	derived := ed25519.NewKeyFromSeed(priv.Seed())
	if !derived.Equal(priv) {
		return nil, fmt.Errorf("local: private key's public half does not match its seed (the key is corrupted; rebuild it with ed25519.NewKeyFromSeed): %w", signer.ErrBadKey)
	}
	return newSigner(derived, opts), nil
}

// FromSeed returns a LocalSigner for the 32-byte Ed25519 seed, the form
// RFC 8032 and .private-key files store.
func FromSeed(seed []byte, opts ...Option) (*LocalSigner, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("local: seed is %d bytes, want %d: %w", len(seed), ed25519.SeedSize, signer.ErrBadKey)
	}
	return newSigner(ed25519.NewKeyFromSeed(seed), opts), nil
}

// Generate returns a LocalSigner for a new random key. To keep the key, see
// Loader.Generate and Loader.Save.
func Generate(opts ...Option) (*LocalSigner, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("local: generating a key: %w", err)
	}
	return newSigner(priv, opts), nil
}

func newSigner(priv ed25519.PrivateKey, opts []Option) *LocalSigner {
	pub := priv.Public().(ed25519.PublicKey)
	s := &LocalSigner{priv: priv, pub: pub, id52: id52.Encode(pub), maxMessage: DefaultMaxMessage}
	for _, o := range opts {
		o(s)
	}
	return s
}

// PublicKey returns a copy of the public key.
func (s *LocalSigner) PublicKey() ed25519.PublicKey { return append(ed25519.PublicKey(nil), s.pub...) }

// ID52 returns the ID52 of the public key.
func (s *LocalSigner) ID52() string { return s.id52 }

// Seed returns a copy of the 32-byte seed, for saving the key or splitting
// it into FROST shares. Handle it as the private key it is.
func (s *LocalSigner) Seed() []byte { return append([]byte(nil), s.priv.Seed()...) }

// Sign signs message with Ed25519. It fails with an error wrapping ctx.Err()
// if ctx is already done, and one wrapping signer.ErrMessageTooLarge if
// message is over the limit.
func (s *LocalSigner) Sign(ctx context.Context, message []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("local: not signing: %w", err)
	}
	if err := signer.CheckMessageSize(message, s.maxMessage); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	return ed25519.Sign(s.priv, message), nil
}
