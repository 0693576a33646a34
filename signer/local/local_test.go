package local_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/signer"
	"github.com/frostd/frostd/signer/local"
	"github.com/frostd/frostd/signer/signertest"
)

func TestConformance(t *testing.T) {
	signertest.Run(t, func(t *testing.T) signer.Signer {
		s, err := local.Generate()
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestConformanceWithLimit(t *testing.T) {
	const limit = 4096
	signertest.Run(t, func(t *testing.T) signer.Signer {
		s, err := local.Generate(local.WithMaxMessage(limit))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, signertest.MaxMessage(limit))
}

func TestDefaultLimit(t *testing.T) {
	s := mustSeed(t, 1)
	if _, err := s.Sign(context.Background(), make([]byte, local.DefaultMaxMessage)); err != nil {
		t.Fatalf("Sign at the default limit: %v", err)
	}
	_, err := s.Sign(context.Background(), make([]byte, local.DefaultMaxMessage+1))
	if !errors.Is(err, signer.ErrMessageTooLarge) {
		t.Fatalf("Sign one byte over the default limit: got %v, want ErrMessageTooLarge", err)
	}
	unlimited, _ := local.FromSeed(seedOf(1), local.WithMaxMessage(0))
	if _, err := unlimited.Sign(context.Background(), make([]byte, local.DefaultMaxMessage+1)); err != nil {
		t.Fatalf("Sign with no limit: %v", err)
	}
}

func TestCancelledBeforeSigning(t *testing.T) {
	s := mustSeed(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sig, err := s.Sign(ctx, []byte("m"))
	if !errors.Is(err, context.Canceled) || sig != nil {
		t.Fatalf("Sign with a cancelled context = %x, %v; want nil and context.Canceled", sig, err)
	}
}

func TestNew(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(seedOf(3))
	s, err := local.New(priv)
	if err != nil {
		t.Fatal(err)
	}
	if !s.PublicKey().Equal(priv.Public()) {
		t.Fatal("New: public key differs from the private key's")
	}
	if s.ID52() != id52.Encode(s.PublicKey()) {
		t.Fatalf("ID52 = %s, want %s", s.ID52(), id52.Encode(s.PublicKey()))
	}
	if !bytes.Equal(s.Seed(), seedOf(3)) {
		t.Fatalf("Seed = %x, want %x", s.Seed(), seedOf(3))
	}

	// The signer keeps its own copies.
	priv[0] ^= 1
	s.PublicKey()[0] ^= 1
	s.Seed()[0] ^= 1
	want := ed25519.NewKeyFromSeed(seedOf(3))
	sig, err := s.Sign(context.Background(), []byte("m"))
	if err != nil || !ed25519.Verify(want.Public().(ed25519.PublicKey), []byte("m"), sig) {
		t.Fatalf("after callers changed returned slices, signature does not verify (err %v)", err)
	}
}

func TestNewRejectsBadKeys(t *testing.T) {
	good := ed25519.NewKeyFromSeed(seedOf(4))
	wrongHalf := append(ed25519.PrivateKey(nil), good...)
	wrongHalf[40] ^= 1
	tests := []struct {
		name string
		priv ed25519.PrivateKey
		want string
	}{
		{"nil", nil, "private key is 0 bytes, want 64"},
		{"seed only", good.Seed(), "private key is 32 bytes, want 64"},
		{"wrong public half", wrongHalf, "public half does not match its seed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := local.New(tt.priv)
			checkErr(t, err, signer.ErrBadKey, tt.want)
		})
	}
}

func TestFromSeedRejectsBadLength(t *testing.T) {
	for _, n := range []int{0, 31, 33, 64} {
		_, err := local.FromSeed(make([]byte, n))
		checkErr(t, err, signer.ErrBadKey, "want 32")
	}
}

func TestGenerateIsRandom(t *testing.T) {
	a, err := local.Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, err := local.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if a.ID52() == b.ID52() {
		t.Fatal("two generated keys are equal")
	}
}

func seedOf(b byte) []byte { return bytes.Repeat([]byte{b}, ed25519.SeedSize) }

func mustSeed(t *testing.T, b byte) *local.LocalSigner {
	t.Helper()
	s, err := local.FromSeed(seedOf(b))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkErr fails unless err wraps target (when not nil), says every one
// of want, and fits on one line.
func checkErr(t *testing.T, err, target error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one saying %q", want)
	}
	t.Logf("error: %v", err)
	if target != nil && !errors.Is(err, target) {
		t.Errorf("error %q does not wrap %v", err, target)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q spans lines", err)
	}
}
