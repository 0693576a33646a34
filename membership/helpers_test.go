package membership

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	clusterKey = bytes.Repeat([]byte{0x42}, 32)
	otherKey   = bytes.Repeat([]byte{0x24}, 32)
)

// testLogger sends slog records (Debug ones too if MEMBERSHIP_DEBUG is set)
// to t.Log until the test's cleanups have
// run; memberlist goroutines may still log a line after Shutdown returns,
// and t.Log after the test ends panics.
func testLogger(t *testing.T) *slog.Logger {
	w := &testLogWriter{t: t}
	t.Cleanup(func() { // registered first, so it runs after the nodes' Shutdown
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	level := slog.LevelInfo
	if os.Getenv("MEMBERSHIP_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type testLogWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// recorder keeps every event a node delivered, with its arrival time.
type recorder struct {
	mu     sync.Mutex
	events []stamped
}

type stamped struct {
	Event
	at time.Time
}

func (r *recorder) observe(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, stamped{ev, time.Now()})
}

func (r *recorder) all() []stamped {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// about returns the events concerning the member called name.
func (r *recorder) about(name string) []stamped {
	var out []stamped
	for _, e := range r.all() {
		if e.Member.Meta.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// waitFor returns the first event matching match, waiting up to timeout.
func (r *recorder) waitFor(t *testing.T, timeout time.Duration, what string, match func(Event) bool) stamped {
	t.Helper()
	var found stamped
	waitUntil(t, timeout, what, func() bool {
		for _, e := range r.all() {
			if match(e.Event) {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: still waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// localConfig is a loopback node on a free port.
func localConfig(t *testing.T, name string, meta Meta) Config {
	return Config{
		Name:      name,
		BindAddr:  "127.0.0.1",
		SecretKey: clusterKey,
		Meta:      meta,
		Logger:    testLogger(t),
		Profile:   ProfileLocal,
	}
}

func participant(id uint16) Meta {
	return Meta{Role: RoleParticipant, ParticipantID: id, GRPCAddr: fmt.Sprintf("127.0.0.1:%d", 9000+int(id))}
}

// start starts a node that Shuts down at the end of the test.
func start(t *testing.T, cfg Config, events func(Event)) *Node {
	t.Helper()
	n, err := Start(cfg, events)
	if err != nil {
		t.Fatalf("Start(%s): %v", cfg.Name, err)
	}
	t.Cleanup(n.Shutdown)
	return n
}

func names(ms []Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Meta.Name)
	}
	return out
}
