package signer

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"fmt"
	"io"
	"time"
)

// DefaultCryptoTimeout bounds each signature made through CryptoSigner
// unless WithTimeout says otherwise.
const DefaultCryptoTimeout = 30 * time.Second

// CryptoOption configures CryptoSigner.
type CryptoOption func(*cryptoSigner)

// WithTimeout bounds each Sign call of the crypto.Signer, which has no
// context of its own. Zero or less means no timeout.
func WithTimeout(d time.Duration) CryptoOption {
	return func(c *cryptoSigner) { c.timeout = d }
}

// WithContext sets the parent context of every Sign call of the
// crypto.Signer; cancelling it cancels signatures in flight.
func WithContext(ctx context.Context) CryptoOption {
	return func(c *cryptoSigner) { c.ctx = ctx }
}

// CryptoSigner adapts s to crypto.Signer, so it can sign X.509 certificates,
// TLS handshakes and SSH authentications.
//
// Ed25519 signs the whole message: Sign rejects a non-zero hash in opts, and
// Ed25519ph or Ed25519ctx options, with an error. The rand argument is
// ignored, as Ed25519 needs none.
func CryptoSigner(s Signer, opts ...CryptoOption) crypto.Signer {
	c := &cryptoSigner{s: s, ctx: context.Background(), timeout: DefaultCryptoTimeout}
	for _, o := range opts {
		o(c)
	}
	return c
}

type cryptoSigner struct {
	s       Signer
	ctx     context.Context
	timeout time.Duration
}

func (c *cryptoSigner) Public() crypto.PublicKey { return c.s.PublicKey() }

func (c *cryptoSigner) Sign(_ io.Reader, message []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts != nil && opts.HashFunc() != 0 {
		return nil, fmt.Errorf("signer: Ed25519 signs the whole message, got a %v digest (pass crypto.Hash(0) and the full message)", opts.HashFunc())
	}
	if o, ok := opts.(*ed25519.Options); ok && o.Context != "" {
		return nil, fmt.Errorf("signer: Ed25519ctx is not supported, only plain Ed25519 (pass an empty Context)")
	}
	ctx := c.ctx
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	return c.s.Sign(ctx, message)
}
