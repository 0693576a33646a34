package simulations_test

import (
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/frostd/frostd/coordinator"
	"github.com/frostd/frostd/simulations"
)

var scale = flag.Int("sim.n", 0, "run TestScale with this many participants (e.g. 2000); 0 skips it")

func run(t *testing.T, cfg simulations.Config) simulations.Report {
	t.Helper()
	s, err := simulations.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
	return r
}

func TestHealthyCluster(t *testing.T) {
	r := run(t, simulations.Config{Threshold: 3, Participants: 5, Seed: 1, Requests: 200})
	if r.Completed != 200 || r.Failed != 0 {
		t.Fatalf("completed %d, failed %d; want 200, 0", r.Completed, r.Failed)
	}
}

func TestAdversity(t *testing.T) {
	// 7-of-15 with two silent members, two cheaters, lost messages and
	// crashes: 11 honest responsive members remain, more than t, so every
	// request must complete.
	r := run(t, simulations.Config{
		Threshold: 7, Participants: 15, Seed: 2, Requests: 100,
		Silent: 2, Cheaters: 2, DropRate: 0.01, Crashes: 5, CrashFor: 300 * time.Millisecond,
		Coordinator: coordinator.Config{AttemptTimeout: 200 * time.Millisecond, MaxAttempts: 10},
	})
	if r.Failed > 0 {
		t.Fatalf("%d requests failed with enough honest members", r.Failed)
	}
	if fmt.Sprint(r.CheatersNamed) != fmt.Sprint(r.Cheaters) || len(r.Cheaters) != 2 {
		t.Fatalf("cheaters named %v, want exactly the cheaters %v", r.CheatersNamed, r.Cheaters)
	}
}

func TestTooFewHonest(t *testing.T) {
	// 3-of-5 with three silent members: no request can complete, and each
	// must fail within the bounded attempts rather than hang.
	r := run(t, simulations.Config{
		Threshold: 3, Participants: 5, Seed: 3, Requests: 20, Silent: 3,
		Coordinator: coordinator.Config{AttemptTimeout: 100 * time.Millisecond},
	})
	if r.Completed != 0 || r.Failed != 20 {
		t.Fatalf("completed %d, failed %d; want 0, 20", r.Completed, r.Failed)
	}
	for attempts := range r.Attempts {
		if attempts > 3 {
			t.Fatalf("a request took %d attempts, more than n-t+1 = 3", attempts)
		}
	}
}

// TestScale runs thousands of participants: go test ./simulations -run TestScale -sim.n=2000 -v
func TestScale(t *testing.T) {
	if *scale == 0 {
		t.Skip("set -sim.n to run (e.g. -sim.n=2000)")
	}
	start := time.Now()
	r := run(t, simulations.Config{
		Threshold: 5, Participants: uint16(*scale), Seed: 4, Requests: 500,
		Silent: *scale / 20, Crashes: 50,
		Coordinator: coordinator.Config{AttemptTimeout: 200 * time.Millisecond},
	})
	t.Logf("%d participants: %d requests in %v wall time", *scale, r.Completed, time.Since(start))
	if r.Failed > 0 {
		t.Fatalf("%d requests failed", r.Failed)
	}
}
