package frost_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/frostd/frostd/pki"
	"github.com/frostd/frostd/signer"
	"github.com/frostd/frostd/signer/frost"
	"github.com/frostd/frostd/signer/signertest"
	"github.com/frostd/frostd/transport/grpctransport/grpctest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newSigner(t *testing.T, c *grpctest.Cluster, cfg frost.Config) *frost.Signer {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = c.CoordinatorAddr
	}
	if cfg.TLS == nil && cfg.Files == (pki.Files{}) {
		cfg.Files = c.Issue(t, "client", pki.RoleClient, 0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := frost.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	c := grpctest.New(t, 3, 5, grpctest.Options{})
	signertest.Run(t, func(t *testing.T) signer.Signer { return newSigner(t, c, frost.Config{}) })
}

func sign(t *testing.T, s *frost.Signer, msg string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sig, err := s.Sign(ctx, []byte(msg))
	if err == nil && !ed25519.Verify(s.PublicKey(), []byte(msg), sig) {
		t.Fatalf("signature of %q does not verify", msg)
	}
	return err
}

func TestCoordinatorRestart(t *testing.T) {
	c := grpctest.New(t, 3, 5, grpctest.Options{})
	s := newSigner(t, c, frost.Config{})
	if err := sign(t, s, "before"); err != nil {
		t.Fatal(err)
	}
	c.StopCoordinator()
	// Calls wait for the coordinator until their deadline, and fail (or
	// fail at once, if sent before the client saw the connection close).
	short, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := s.Sign(short, []byte("while down")); !errors.Is(err, signer.ErrUnavailable) {
		t.Fatalf("coordinator down: got %v, want ErrUnavailable", err)
	}
	c.RestartCoordinator(t)
	if err := sign(t, s, "after"); err != nil {
		t.Fatalf("after the coordinator restarted: %v", err)
	}
}

func TestBatchAndGroup(t *testing.T) {
	c := grpctest.New(t, 3, 5, grpctest.Options{})
	s := newSigner(t, c, frost.Config{PublicKey: c.Group.PublicKey})
	if !s.Group().Equal(c.Group) {
		t.Fatal("Group differs from the cluster's")
	}
	msgs := [][]byte{[]byte("a"), []byte("b"), []byte("c")}
	sigs, err := s.SignBatch(context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		if !ed25519.Verify(c.Group.PublicKey, m, sigs[i]) {
			t.Errorf("signature %d does not verify", i)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	c := grpctest.New(t, 3, 5, grpctest.Options{})
	client := c.Issue(t, "client", pki.RoleClient, 0)
	ctx := context.Background()

	other := make(ed25519.PublicKey, ed25519.PublicKeySize)
	if _, err := frost.New(ctx, frost.Config{Addr: c.CoordinatorAddr, Files: client, PublicKey: other}); !errors.Is(err, signer.ErrBadKey) {
		t.Errorf("pinned key differs: got %v, want ErrBadKey", err)
	}
	if _, err := frost.New(ctx, frost.Config{Addr: c.CoordinatorAddr}); err == nil {
		t.Error("New without credentials succeeded")
	}
	// A participant reached where a coordinator is expected: no connection
	// is ever made, and New gives up after Timeout.
	// Its error names the last refused handshake once one has happened,
	// which a loaded machine may take more than one short try to see.
	const short = 500 * time.Millisecond
	for deadline := time.Now().Add(time.Minute); ; {
		_, err := frost.New(ctx, frost.Config{Addr: c.Participants[0].Addr, Files: client, Timeout: short})
		if !errors.Is(err, signer.ErrUnavailable) {
			t.Fatalf("participant address: got %v, want ErrUnavailable", err)
		}
		if strings.Contains(err.Error(), "participant 1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("participant address: got %v, want an error naming what answered", err)
		}
	}

	// A participant's certificate may read the group but not sign.
	s := newSigner(t, c, frost.Config{Files: c.Participants[0].Files})
	if err := sign(t, s, "x"); !errors.Is(err, signer.ErrRefused) {
		t.Errorf("signing with a participant certificate: got %v, want ErrRefused", err)
	}

	c.StopCoordinator()
	if _, err := frost.New(ctx, frost.Config{Addr: c.CoordinatorAddr, Files: client, Timeout: short}); !errors.Is(err, signer.ErrUnavailable) {
		t.Errorf("coordinator down: got %v, want ErrUnavailable", err)
	}
}
