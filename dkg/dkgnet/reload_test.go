package dkgnet_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"github.com/frostd/frostd/daemon"
	"github.com/frostd/frostd/dkg/dkgnet"
	"github.com/frostd/frostd/signer/frost"
	"github.com/frostd/frostd/state"
)

// TestRunningCoordinatorInstallsRefresh refreshes the shares while a
// coordinator runs: once the new group.json lands in its state directory
// it serves the new public shares without a restart, and signing goes on.
func TestRunningCoordinatorInstallsRefresh(t *testing.T) {
	c := startAwaiting(t, 2, 3)
	cfg := c.tls("coordinator")
	cfg.Threshold = 2
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := dkgnet.Keygen(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ccfg, err := daemon.LoadCoordinatorConfig(daemon.CoordinatorConfigPath(c.dir))
	if err != nil {
		t.Fatal(err)
	}
	dir := state.Dir{Path: ccfg.StateDir}
	if err := dir.SaveGroup(res.Group); err != nil {
		t.Fatal(err)
	}
	coord, err := daemon.StartCoordinator(ccfg, c.log)
	if err != nil {
		t.Fatal(err)
	}
	defer coord.Close()
	s, err := frost.New(ctx, frost.Config{Addr: coord.Addr(), Files: daemon.ClientFiles(c.dir), Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	signSome := func(label string) {
		t.Helper()
		for i := range 5 {
			msg := fmt.Appendf(nil, "%s %d", label, i)
			sig, err := s.Sign(ctx, msg)
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			if !ed25519.Verify(res.Group.PublicKey, msg, sig) {
				t.Fatalf("%s: signature does not verify", label)
			}
		}
	}
	signSome("before refresh")

	cfg.Threshold = 0
	fresh, err := dkgnet.Refresh(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := dir.SaveGroup(fresh.Group); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !coord.Service().Group().Equal(fresh.Group) {
		if time.Now().After(deadline) {
			t.Fatal("the running coordinator did not install the refreshed group within 15s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	signSome("after refresh")
}
