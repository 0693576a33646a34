// Package signer defines the one interface every frostd backend implements:
// something that holds an Ed25519 identity and signs with it, without the
// caller ever touching the private key.
//
// # Choosing a backend
//
// All backends produce ordinary RFC 8032 Ed25519 signatures that
// crypto/ed25519.Verify, OpenSSH and iroh accept. They differ only in where
// the private key lives:
//
//   - signer/local: in this process's memory, loaded from a key file or the
//     FROSTD_SECRET_KEYS environment chain. Simple, and the key is one
//     memory dump away from leaking.
//   - signer/sshagent: inside a running ssh-agent.
//   - signer/pkcs11: inside an HSM token.
//   - signer/frost: nowhere. A FROST cluster of n participants holds shares
//     of the key; any t of them produce a signature together.
//
// Code that signs should depend on [Signer] only, so the operator can move
// an identity from a key file to a threshold cluster without a code change.
//
// # Using a Signer
//
//	sig, err := s.Sign(ctx, message)
//	switch {
//	case errors.Is(err, signer.ErrUnavailable):
//		// retry later: the backend (or enough participants) is unreachable
//	case errors.Is(err, signer.ErrRefused):
//		// the backend declined, e.g. by policy; retrying will not help
//	case err != nil:
//		// other failure
//	}
//
// Sign signs exactly message (Ed25519 has no prehash), is safe for concurrent
// use, and returns promptly with an error wrapping ctx.Err() when ctx is
// cancelled or its deadline passes.
//
// # Standard library interop
//
// [CryptoSigner] turns any Signer into a crypto.Signer, which
// crypto/x509.CreateCertificate, crypto/tls and
// golang.org/x/crypto/ssh.NewSignerFromSigner accept as they are.
//
// # Testing a backend
//
// Package signer/signertest checks any implementation with one call; every
// backend in frostd runs it.
package signer

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
)

// Signer signs messages with an Ed25519 key it does not reveal.
//
// Implementations are safe for concurrent use.
type Signer interface {
	// PublicKey returns the Ed25519 public key that verifies this signer's
	// signatures. It never changes for the life of the Signer.
	PublicKey() ed25519.PublicKey

	// Sign returns a 64-byte Ed25519 signature over exactly message.
	// It returns an error wrapping ctx.Err() if ctx ends first.
	Sign(ctx context.Context, message []byte) ([]byte, error)
}

// Errors that callers test for with errors.Is. Backends wrap them with
// context that says what failed and what to do.
var (
	// ErrUnavailable means the backend could not be reached or could not
	// gather enough participants. Retrying later may succeed.
	ErrUnavailable = errors.New("signer unavailable")

	// ErrRefused means the backend was reached and declined to sign, for
	// example by policy or because the key is not allowed for raw signing.
	// Retrying will not help.
	ErrRefused = errors.New("signing refused")

	// ErrBadKey means a key is malformed, of the wrong type or length, or
	// not the key that was asked for.
	ErrBadKey = errors.New("bad key")

	// ErrMessageTooLarge means the message is over the backend's size limit.
	ErrMessageTooLarge = errors.New("message too large")

	// ErrBadSignature means a signature does not verify. A backend returns
	// it rather than hand out a signature that would not verify.
	ErrBadSignature = errors.New("signature does not verify")
)

// Verify reports whether sig is a valid signature of message by pub, as an
// error: nil when valid, an error wrapping ErrBadSignature or ErrBadKey when
// not.
func Verify(pub ed25519.PublicKey, message, sig []byte) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("public key is %d bytes, want %d: %w", len(pub), ed25519.PublicKeySize, ErrBadKey)
	}
	if len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("signature is %d bytes, want %d: %w", len(sig), ed25519.SignatureSize, ErrBadSignature)
	}
	if !ed25519.Verify(pub, message, sig) {
		return ErrBadSignature
	}
	return nil
}

// CheckMessageSize returns an error wrapping ErrMessageTooLarge when the
// message is longer than limit. A limit of zero or less means no limit.
func CheckMessageSize(message []byte, limit int) error {
	if limit > 0 && len(message) > limit {
		return fmt.Errorf("message is %d bytes, over the %d-byte limit (raise the limit or sign a smaller message): %w",
			len(message), limit, ErrMessageTooLarge)
	}
	return nil
}
