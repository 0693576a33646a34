package main_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/frostd/frostd/daemon"
	"github.com/frostd/frostd/internal/proctest"
	"github.com/frostd/frostd/internal/testcluster"
	"github.com/frostd/frostd/signer"
	"github.com/frostd/frostd/signer/frost"
)

// TestClusterProcesses is the cluster's end-to-end test: the frostd binary,
// a coordinator and five participants as separate OS processes on
// loopback, 1,000 signatures from 16 concurrent clients, one participant
// SIGKILLed midway and restarted, then the coordinator restarted.
func TestClusterProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts six processes")
	}
	bin := proctest.Build(t, ".", "frostd")
	dir := t.TempDir()
	base := testcluster.FreeBasePort(t, 5)
	proctest.Run(t, bin, "cluster", "init", "--dir", dir, "--threshold", "3", "--participants", "5", "--base-port", fmt.Sprint(base))

	c := &cluster{t: t, bin: bin, dir: dir, procs: map[string]*exec.Cmd{}}
	t.Cleanup(c.stopAll)
	c.start("coordinator", daemon.CoordinatorConfigPath(dir))
	for id := uint16(1); id <= 5; id++ {
		c.start(fmt.Sprintf("participant-%d", id), daemon.ParticipantConfigPath(dir, id))
	}
	metrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", base+200)
	c.waitMetric(metrics, "frostd_live_members", 5)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	addr := fmt.Sprintf("127.0.0.1:%d", base)
	clients := make([]*frost.Signer, 16)
	for i := range clients {
		s, err := frost.New(ctx, frost.Config{Addr: addr, Files: daemon.ClientFiles(dir), Timeout: 30 * time.Second})
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		defer s.Close()
		clients[i] = s
	}
	pub := clients[0].PublicKey()

	// Phase 1: 1,000 signatures, participant 3 killed after 300.
	var done atomic.Int64
	killed := make(chan struct{})
	go func() {
		for done.Load() < 300 {
			time.Sleep(5 * time.Millisecond)
		}
		c.kill("participant-3")
		close(killed)
	}()
	ok, failed := c.signLoad(ctx, clients, pub, 1000, "phase1", &done)
	<-killed
	t.Logf("phase 1: %d signatures valid, %d clear failures", ok, failed)
	if ok < 990 {
		t.Fatalf("only %d of 1000 signatures succeeded with 4 of 5 participants alive", ok)
	}

	// Phase 2: the killed participant restarts and rejoins.
	c.start("participant-3", daemon.ParticipantConfigPath(dir, 3))
	c.waitMetric(metrics, "frostd_live_members", 5)
	ok, failed = c.signLoad(ctx, clients, pub, 200, "phase2", nil)
	t.Logf("phase 2 (participant 3 back): %d valid, %d clear failures", ok, failed)
	if ok != 200 {
		t.Fatalf("%d of 200 signatures after the restart", ok)
	}

	// Phase 3: the coordinator restarts; clients reconnect by themselves.
	c.stop("coordinator")
	c.start("coordinator", daemon.CoordinatorConfigPath(dir))
	c.waitMetric(metrics, "frostd_live_members", 5)
	ok, failed = c.signLoad(ctx, clients, pub, 200, "phase3", nil)
	t.Logf("phase 3 (coordinator restarted): %d valid, %d clear failures", ok, failed)
	if ok < 190 {
		t.Fatalf("%d of 200 signatures after the coordinator restart", ok)
	}
}

type cluster struct {
	t     *testing.T
	bin   string
	dir   string
	mu    sync.Mutex
	procs map[string]*exec.Cmd
}

func (c *cluster) start(name, config string) {
	c.t.Helper()
	role := "participant"
	if name == "coordinator" {
		role = "coordinator"
	}
	logf, err := os.OpenFile(filepath.Join(c.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(c.bin, role, "--config", config, "--log-level", "info")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("starting %s: %v", name, err)
	}
	logf.Close()
	c.mu.Lock()
	c.procs[name] = cmd
	c.mu.Unlock()
}

func (c *cluster) kill(name string) {
	c.mu.Lock()
	cmd := c.procs[name]
	delete(c.procs, name)
	c.mu.Unlock()
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
}

func (c *cluster) stop(name string) {
	c.mu.Lock()
	cmd := c.procs[name]
	delete(c.procs, name)
	c.mu.Unlock()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			c.t.Errorf("%s did not exit cleanly on SIGTERM: %v", name, err)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		c.t.Errorf("%s did not stop within 20s of SIGTERM", name)
	}
}

func (c *cluster) stopAll() {
	c.mu.Lock()
	names := make([]string, 0, len(c.procs))
	for n := range c.procs {
		names = append(names, n)
	}
	c.mu.Unlock()
	for _, n := range names {
		c.stop(n)
	}
	if c.t.Failed() {
		for _, f := range []string{"coordinator", "participant-1", "participant-3"} {
			b, _ := os.ReadFile(filepath.Join(c.dir, f+".log"))
			c.t.Logf("--- %s.log (tail) ---\n%s", f, tail(string(b), 30))
		}
	}
}

// signLoad signs n messages spread over the clients and returns how many
// signatures came back valid and how many requests failed with a clear
// error. An invalid signature, or an error that is not one of the
// signer sentinels, fails the test.
func (c *cluster) signLoad(ctx context.Context, clients []*frost.Signer, pub ed25519.PublicKey, n int, phase string, done *atomic.Int64) (ok, failed int) {
	var wg sync.WaitGroup
	var okN, failN atomic.Int64
	next := atomic.Int64{}
	for ci, s := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				msg := fmt.Appendf(nil, "%s message %d from client %d", phase, i, ci)
				sig, err := s.Sign(ctx, msg)
				switch {
				case err == nil && ed25519.Verify(pub, msg, sig):
					okN.Add(1)
				case err == nil:
					c.t.Errorf("invalid signature returned for %q", msg)
				case errors.Is(err, signer.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded):
					failN.Add(1)
					c.t.Logf("clear failure: %v", err)
				default:
					c.t.Errorf("unclear failure for %q: %v", msg, err)
				}
				if done != nil {
					done.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return int(okN.Load()), int(failN.Load())
}

func (c *cluster) waitMetric(url, name string, want float64) {
	c.t.Helper()
	proctest.WaitMetric(c.t, url, name, want, 60*time.Second)
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
