// Package signertest checks that a signer.Signer behaves as the interface
// promises, in the way testing/fstest checks an fs.FS.
//
// Every backend's tests call Run once:
//
//	func TestConformance(t *testing.T) {
//		signertest.Run(t, func(t *testing.T) signer.Signer { return newBackend(t) })
//	}
//
// Run checks that signatures verify with crypto/ed25519.Verify for messages
// from 0 B to 1 MiB, that 64 concurrent Sign calls all succeed, that a
// cancelled or expired context gives an error wrapping ctx.Err(), and that
// the crypto.Signer adapter signs an X.509 certificate and an SSH signature
// that both verify.
package signertest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/frostd/frostd/signer"
)

// Option adjusts Run for a backend's documented limits.
type Option func(*config)

type config struct {
	maxMessage  int
	concurrency int
}

// MaxMessage tells Run the backend's message size limit, for backends whose
// transport cannot carry 1 MiB (ssh-agent caps a request at 256 KiB). Run
// then checks messages up to n bytes and that n+1 bytes fail with an error
// wrapping signer.ErrMessageTooLarge.
func MaxMessage(n int) Option { return func(c *config) { c.maxMessage = n } }

// Concurrency sets how many Sign calls run at once (64 by default).
func Concurrency(n int) Option { return func(c *config) { c.concurrency = n } }

// Run checks the Signer that newSigner returns. newSigner is called once
// per subtest; it should register cleanups with t.Cleanup.
func Run(t *testing.T, newSigner func(t *testing.T) signer.Signer, opts ...Option) {
	t.Helper()
	cfg := config{concurrency: 64}
	for _, o := range opts {
		o(&cfg)
	}

	t.Run("PublicKey", func(t *testing.T) {
		s := newSigner(t)
		pub := s.PublicKey()
		if len(pub) != ed25519.PublicKeySize {
			t.Fatalf("PublicKey is %d bytes, want %d", len(pub), ed25519.PublicKeySize)
		}
		if !bytes.Equal(pub, s.PublicKey()) {
			t.Fatal("PublicKey changed between two calls")
		}
	})

	t.Run("Sizes", func(t *testing.T) {
		s := newSigner(t)
		sizes := []int{0, 1, 64 << 10, 1 << 20}
		for _, n := range sizes {
			if cfg.maxMessage > 0 && n > cfg.maxMessage {
				n = cfg.maxMessage
			}
			msg := randomMessage(t, n)
			sig := mustSign(t, s, msg)
			if !ed25519.Verify(s.PublicKey(), msg, sig) {
				t.Fatalf("signature over %d-byte message does not verify", n)
			}
			if n > 0 {
				msg[0] ^= 1
				if ed25519.Verify(s.PublicKey(), msg, sig) {
					t.Fatalf("signature over %d-byte message also verifies for a different message", n)
				}
			}
		}
		if cfg.maxMessage > 0 {
			_, err := s.Sign(context.Background(), make([]byte, cfg.maxMessage+1))
			if !errors.Is(err, signer.ErrMessageTooLarge) {
				t.Fatalf("Sign over the %d-byte limit: got %v, want an error wrapping ErrMessageTooLarge", cfg.maxMessage, err)
			}
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		s := newSigner(t)
		pub := s.PublicKey()
		var wg sync.WaitGroup
		errs := make(chan error, cfg.concurrency)
		for i := range cfg.concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				msg := fmt.Appendf(nil, "concurrent message %d", i)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				sig, err := s.Sign(ctx, msg)
				if err != nil {
					errs <- fmt.Errorf("call %d: %w", i, err)
					return
				}
				if !ed25519.Verify(pub, msg, sig) {
					errs <- fmt.Errorf("call %d: signature does not verify", i)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})

	t.Run("Cancelled", func(t *testing.T) {
		s := newSigner(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		_, err := s.Sign(ctx, []byte("never signed"))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Sign with a cancelled context: got %v, want an error wrapping context.Canceled", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("Sign with a cancelled context took %v to return", d)
		}
	})

	t.Run("DeadlinePassed", func(t *testing.T) {
		s := newSigner(t)
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		_, err := s.Sign(ctx, []byte("never signed"))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Sign after the deadline: got %v, want an error wrapping context.DeadlineExceeded", err)
		}
	})

	t.Run("X509", func(t *testing.T) {
		s := newSigner(t)
		cs := signer.CryptoSigner(s, signer.WithTimeout(time.Minute))
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "signertest"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			IsCA:         true,
			KeyUsage:     x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,

			BasicConstraintsValid: true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, cs.Public(), cs)
		if err != nil {
			t.Fatalf("x509.CreateCertificate: %v", err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatalf("x509.ParseCertificate: %v", err)
		}
		if err := cert.CheckSignatureFrom(cert); err != nil {
			t.Fatalf("self-signed certificate does not verify: %v", err)
		}
		if !bytes.Equal(cert.PublicKey.(ed25519.PublicKey), s.PublicKey()) {
			t.Fatal("certificate carries a different public key")
		}
	})

	t.Run("SSH", func(t *testing.T) {
		s := newSigner(t)
		sshSigner, err := ssh.NewSignerFromSigner(signer.CryptoSigner(s))
		if err != nil {
			t.Fatalf("ssh.NewSignerFromSigner: %v", err)
		}
		if got := sshSigner.PublicKey().Type(); got != ssh.KeyAlgoED25519 {
			t.Fatalf("SSH key type %q, want %q", got, ssh.KeyAlgoED25519)
		}
		data := []byte("ssh session data")
		sig, err := sshSigner.Sign(rand.Reader, data)
		if err != nil {
			t.Fatalf("ssh Sign: %v", err)
		}
		if err := sshSigner.PublicKey().Verify(data, sig); err != nil {
			t.Fatalf("SSH signature does not verify: %v", err)
		}
		if err := sshSigner.PublicKey().Verify([]byte("other data"), sig); err == nil {
			t.Fatal("SSH signature verifies for other data")
		}
	})

	t.Run("CryptoSignerRejectsPrehash", func(t *testing.T) {
		s := newSigner(t)
		cs := signer.CryptoSigner(s)
		if _, err := cs.Sign(rand.Reader, make([]byte, 64), &ed25519.Options{Hash: crypto.SHA512}); err == nil {
			t.Fatal("crypto.Signer accepted a SHA-512 prehash option; Ed25519 must sign the whole message")
		}
	})
}

func mustSign(t *testing.T, s signer.Signer, msg []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sig, err := s.Sign(ctx, msg)
	if err != nil {
		t.Fatalf("Sign(%d-byte message): %v", len(msg), err)
	}
	if len(sig) != ed25519.SignatureSize {
		t.Fatalf("signature is %d bytes, want %d", len(sig), ed25519.SignatureSize)
	}
	return sig
}

func randomMessage(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
