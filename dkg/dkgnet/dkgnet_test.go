package dkgnet_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frostd/frostd/daemon"
	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/dkg/dkgnet"
	"github.com/frostd/frostd/internal/testcluster"
	"github.com/frostd/frostd/pki"
	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/signer/frost"
	"github.com/frostd/frostd/state"
	"github.com/frostd/frostd/transport/grpctransport"
)

// netCluster is a cluster made with NoKey whose participants run in this
// process, awaiting a key, over real loopback gRPC with mutual TLS.
type netCluster struct {
	t     *testing.T
	dir   string
	parts []*daemon.ParticipantNode
	addrs []string
	log   *slog.Logger
}

func startAwaiting(t *testing.T, threshold, n uint16) *netCluster {
	t.Helper()
	dir := t.TempDir()
	base := testcluster.FreeBasePort(t, int(n))
	g, err := daemon.InitLocalCluster(dir, daemon.LocalClusterOptions{Threshold: threshold, Participants: n, BasePort: base, NoKey: true})
	if err != nil {
		t.Fatal(err)
	}
	if g != nil {
		t.Fatal("InitLocalCluster with NoKey returned a group")
	}
	c := &netCluster{t: t, dir: dir, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for id := uint16(1); id <= n; id++ {
		cfg, err := daemon.LoadParticipantConfig(daemon.ParticipantConfigPath(dir, id))
		if err != nil {
			t.Fatal(err)
		}
		p, err := daemon.StartParticipant(cfg, c.log)
		if err != nil {
			t.Fatalf("participant %d did not start awaiting a key: %v", id, err)
		}
		t.Cleanup(func() { p.Close() })
		if p.HasKey() {
			t.Fatalf("participant %d has a key before any ceremony", id)
		}
		c.parts = append(c.parts, p)
		c.addrs = append(c.addrs, p.Addr())
	}
	return c
}

func (c *netCluster) tls(name string) dkgnet.Config {
	c.t.Helper()
	conf, err := pki.ClientTLS(pki.NodeFiles(filepath.Join(c.dir, "certs"), name), pki.RoleParticipant)
	if err != nil {
		c.t.Fatal(err)
	}
	// In reverse order: ids come from the certificates, not the order given.
	addrs := make([]string, len(c.addrs))
	for i, a := range c.addrs {
		addrs[len(addrs)-1-i] = a
	}
	return dkgnet.Config{Addrs: addrs, TLS: conf}
}

// sign starts a coordinator with group g and signs n messages through it.
func (c *netCluster) sign(g *dkgnetGroup, n int) {
	c.t.Helper()
	cfg, err := daemon.LoadCoordinatorConfig(daemon.CoordinatorConfigPath(c.dir))
	if err != nil {
		c.t.Fatal(err)
	}
	if err := (state.Dir{Path: cfg.StateDir}).SaveGroup(g.Group); err != nil {
		c.t.Fatal(err)
	}
	coord, err := daemon.StartCoordinator(cfg, c.log)
	if err != nil {
		c.t.Fatal(err)
	}
	defer coord.Close()
	deadline := time.Now().Add(20 * time.Second)
	for len(coord.Service().Stats().Reachable) < int(g.Group.Threshold) {
		if time.Now().After(deadline) {
			c.t.Fatalf("coordinator sees %d participants after 20s", len(coord.Service().Stats().Reachable))
		}
		time.Sleep(50 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := frost.New(ctx, frost.Config{Addr: coord.Addr(), Files: daemon.ClientFiles(c.dir), Timeout: 10 * time.Second})
	if err != nil {
		c.t.Fatal(err)
	}
	defer s.Close()
	if !s.PublicKey().Equal(g.Group.PublicKey) {
		c.t.Fatalf("coordinator signs for %x, the ceremony made %x", s.PublicKey(), g.Group.PublicKey)
	}
	for i := range n {
		msg := fmt.Appendf(nil, "message %d", i)
		sig, err := s.Sign(ctx, msg)
		if err != nil {
			c.t.Fatalf("sign %d: %v", i, err)
		}
		if !ed25519.Verify(g.Group.PublicKey, msg, sig) {
			c.t.Fatalf("signature %d does not verify", i)
		}
	}
}

type dkgnetGroup = dkgnet.Result

func TestKeygenRefreshAndSign(t *testing.T) {
	c := startAwaiting(t, 3, 5)
	cfg := c.tls("coordinator")
	cfg.Threshold = 3
	var mu sync.Mutex
	reached := map[uint16]dkg.Round{}
	done := 0
	cfg.Progress = func(e dkgnet.Event) {
		mu.Lock()
		defer mu.Unlock()
		if e.Done {
			done++
		}
		reached[e.ID] = e.Round
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := dkgnet.Keygen(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Group.Threshold != 3 || res.Group.MaxSigners != 5 || len(res.Transcript) != 32 {
		t.Fatalf("group %d-of-%d, transcript %d bytes", res.Group.Threshold, res.Group.MaxSigners, len(res.Transcript))
	}
	if done != 5 {
		t.Fatalf("%d participants reported done, want 5", done)
	}
	for id := uint16(1); id <= 5; id++ {
		if reached[id] != dkg.RoundConfirm {
			t.Errorf("participant %d reached %v, want confirm", id, reached[id])
		}
	}
	for i, p := range c.parts {
		if !p.HasKey() || !p.Group().PublicKey.Equal(res.Group.PublicKey) {
			t.Fatalf("participant %d does not sign for the new group", i+1)
		}
		// Saved, sealed, and loadable.
		pc, _ := daemon.LoadParticipantConfig(daemon.ParticipantConfigPath(c.dir, uint16(i+1)))
		key, _ := pc.SealKey()
		d := state.Dir{Path: pc.StateDir, Key: key}
		g, err := d.LoadGroup()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.LoadKeyShare(g); err != nil {
			t.Fatalf("participant %d's saved share: %v", i+1, err)
		}
	}
	// A second key generation is refused: they hold keys now.
	if _, err := dkgnet.Keygen(ctx, cfg); err == nil || !strings.Contains(err.Error(), "already hold") {
		t.Fatalf("second keygen: %v", err)
	}
	c.sign(res, 20)

	// Refresh: all five; the key stays, the public shares change.
	old := res.Group
	rcfg := c.tls("coordinator")
	res2, err := dkgnet.Refresh(ctx, rcfg)
	if err != nil {
		t.Fatal(err)
	}
	if !res2.Group.PublicKey.Equal(old.PublicKey) {
		t.Fatal("refresh changed the group key")
	}
	if res2.Group.Members[0].PublicShare == old.Members[0].PublicShare {
		t.Fatal("refresh left participant 1's public share unchanged")
	}
	c.sign(res2, 20)

	// A refresh with four of five is refused.
	rcfg.Addrs = rcfg.Addrs[:4]
	if _, err := dkgnet.Refresh(ctx, rcfg); !errors.Is(err, dkg.ErrAllMustTakePart) {
		t.Fatalf("refresh with 4 of 5: %v, want ErrAllMustTakePart", err)
	}
}

func TestDealKeepsKey(t *testing.T) {
	c := startAwaiting(t, 2, 3)
	seed := sha512.Sum512([]byte("an existing identity"))
	want := ed25519.NewKeyFromSeed(seed[:32]).Public().(ed25519.PublicKey)
	cfg := c.tls("coordinator")
	cfg.Threshold = 2
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g, err := dkgnet.Deal(ctx, cfg, seed[:32])
	if err != nil {
		t.Fatal(err)
	}
	if !g.PublicKey.Equal(want) {
		t.Fatalf("dealt group key %x, want the seed's %x", g.PublicKey, want)
	}
	c.sign(&dkgnet.Result{Group: g}, 10)
	if _, err := dkgnet.Deal(ctx, cfg, seed[:32]); err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Fatalf("dealing again: %v", err)
	}
}

func TestClientCertificateRefused(t *testing.T) {
	c := startAwaiting(t, 2, 3)
	cfg := c.tls(daemon.ClientName)
	cfg.Threshold = 2
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := dkgnet.Keygen(ctx, cfg)
	if err == nil {
		t.Fatal("a client certificate ran a key generation")
	}
	t.Logf("refused: %v", err)
	if !strings.Contains(err.Error(), "participant") {
		t.Fatalf("the refusal does not say who refused: %v", err)
	}
	for i, p := range c.parts {
		if p.HasKey() {
			t.Fatalf("participant %d got a key from a client", i+1)
		}
	}
}

func TestAwaitingParticipantAnswersUnavailable(t *testing.T) {
	c := startAwaiting(t, 2, 3)
	cfg := c.tls("coordinator")
	tr := grpctransport.NewParticipants(cfg.TLS, grpctransport.ParticipantsOptions{})
	defer tr.Close()
	tr.SetAddress(1, c.addrs[0])
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := tr.Commit(ctx, 1, protocol.CommitRequest{Count: 1})
	if !errors.Is(err, protocol.ErrUnavailable) || !strings.Contains(err.Error(), "no key share yet") {
		t.Fatalf("Commit to a participant awaiting its key: %v, want unavailable, no key share yet", err)
	}
}
