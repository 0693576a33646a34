package signer_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/frostd/frostd/signer"
)

// keySigner is the smallest Signer: a key in memory.
type keySigner struct {
	priv ed25519.PrivateKey
	ctxs chan context.Context
}

func (k keySigner) PublicKey() ed25519.PublicKey { return k.priv.Public().(ed25519.PublicKey) }

func (k keySigner) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	if k.ctxs != nil {
		k.ctxs <- ctx
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return ed25519.Sign(k.priv, msg), nil
}

func newKeySigner(t *testing.T) keySigner {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return keySigner{priv: priv}
}

func TestVerify(t *testing.T) {
	s := newKeySigner(t)
	sig, _ := s.Sign(context.Background(), []byte("m"))
	if err := signer.Verify(s.PublicKey(), []byte("m"), sig); err != nil {
		t.Fatalf("valid signature: %v", err)
	}
	if err := signer.Verify(s.PublicKey(), []byte("x"), sig); !errors.Is(err, signer.ErrBadSignature) {
		t.Fatalf("other message: %v, want ErrBadSignature", err)
	}
	if err := signer.Verify(s.PublicKey()[:31], []byte("m"), sig); !errors.Is(err, signer.ErrBadKey) {
		t.Fatalf("short key: %v, want ErrBadKey", err)
	}
	if err := signer.Verify(s.PublicKey(), []byte("m"), sig[:63]); !errors.Is(err, signer.ErrBadSignature) {
		t.Fatalf("short signature: %v, want ErrBadSignature", err)
	}
}

func TestCheckMessageSize(t *testing.T) {
	if err := signer.CheckMessageSize(make([]byte, 10), 10); err != nil {
		t.Fatal(err)
	}
	if err := signer.CheckMessageSize(make([]byte, 11), 10); !errors.Is(err, signer.ErrMessageTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	if err := signer.CheckMessageSize(make([]byte, 1<<20), 0); err != nil {
		t.Fatalf("no limit: %v", err)
	}
}

func TestCryptoSigner(t *testing.T) {
	s := newKeySigner(t)
	s.ctxs = make(chan context.Context, 1)
	cs := signer.CryptoSigner(s, signer.WithTimeout(time.Minute))
	if !cs.Public().(ed25519.PublicKey).Equal(s.PublicKey()) {
		t.Fatal("Public differs from the Signer's key")
	}
	for _, opts := range []crypto.SignerOpts{crypto.Hash(0), &ed25519.Options{}} {
		sig, err := cs.Sign(nil, []byte("whole message"), opts)
		if err != nil || !ed25519.Verify(s.PublicKey(), []byte("whole message"), sig) {
			t.Fatalf("opts %v: %v", opts, err)
		}
		if _, ok := (<-s.ctxs).Deadline(); !ok {
			t.Fatal("WithTimeout did not put a deadline on the call")
		}
	}
	for _, opts := range []crypto.SignerOpts{crypto.SHA512, &ed25519.Options{Hash: crypto.SHA512}, &ed25519.Options{Context: "ctx"}} {
		if _, err := cs.Sign(nil, make([]byte, 64), opts); err == nil {
			t.Errorf("opts %#v accepted; only plain Ed25519 is supported", opts)
		}
	}
	parent, cancel := context.WithCancel(context.Background())
	cancel()
	s.ctxs = nil
	if _, err := signer.CryptoSigner(s, signer.WithContext(parent)).Sign(nil, []byte("m"), crypto.Hash(0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled parent context: %v", err)
	}
}

func ExampleCryptoSigner() {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	var s signer.Signer = keySigner{priv: priv} // any backend
	cs := signer.CryptoSigner(s, signer.WithTimeout(10*time.Second))
	sig, err := cs.Sign(rand.Reader, []byte("hello"), crypto.Hash(0))
	fmt.Println(err == nil && ed25519.Verify(s.PublicKey(), []byte("hello"), sig))
	// Output: true
}
