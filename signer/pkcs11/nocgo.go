//go:build !cgo

package pkcs11

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/frostd/frostd/signer"
)

// errNoCgo explains why this build cannot reach a PKCS#11 module.
var errNoCgo = fmt.Errorf("pkcs11: this frostd was built without cgo (CGO_ENABLED=0), and PKCS#11 modules are C libraries; rebuild with cgo: %w", signer.ErrUnavailable)

// Signer is a PKCS#11 signer; in a build without cgo none can be made.
type Signer struct{}

// New fails in a build without cgo.
func New(context.Context, Config) (*Signer, error) { return nil, errNoCgo }

// GenerateKey fails in a build without cgo.
func GenerateKey(Config, string) (ed25519.PublicKey, error) { return nil, errNoCgo }

// PublicKey is never reached: New fails.
func (*Signer) PublicKey() ed25519.PublicKey { return nil }

// Sign is never reached: New fails.
func (*Signer) Sign(context.Context, []byte) ([]byte, error) { return nil, errNoCgo }

// Close is never reached: New fails.
func (*Signer) Close() error { return errors.New("pkcs11: no signer in a build without cgo") }

// String names the backend.
func (*Signer) String() string { return "pkcs11 (unavailable: built without cgo)" }
