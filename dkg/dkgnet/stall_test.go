package dkgnet_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frostd/frostd/daemon"
	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/dkg/dkgnet"
	"github.com/frostd/frostd/state"
)

// TestParticipantDiesMidCeremony stops participant 3 once the ceremony has
// reached the echo round: the relay must fail with a CeremonyError rather
// than hang, and no participant may keep a key share.
func TestParticipantDiesMidCeremony(t *testing.T) {
	c := startAwaiting(t, 2, 3)
	cfg := c.tls("coordinator")
	cfg.Threshold = 2
	var once sync.Once
	cfg.Progress = func(e dkgnet.Event) {
		if e.Round >= dkg.RoundEcho {
			once.Do(func() { c.parts[2].Close() }) // on the relay goroutine: it waits
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := dkgnet.Keygen(ctx, cfg)
	var ce *dkgnet.CeremonyError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a CeremonyError", err)
	}
	t.Logf("relay reported: %v", err)
	if !strings.Contains(err.Error(), "participant 3 at") {
		t.Fatalf("the error does not name the participant that died: %v", err)
	}
	for i, p := range c.parts[:2] {
		if p.HasKey() {
			t.Fatalf("participant %d kept a key from a failed ceremony", i+1)
		}
		pc, err := daemon.LoadParticipantConfig(daemon.ParticipantConfigPath(c.dir, uint16(i+1)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(pc.StateDir, state.KeyShareFile)); err == nil {
			t.Fatalf("participant %d saved a key share from a failed ceremony", i+1)
		}
	}
}
