package agentserver_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/frostd/frostd/agentserver"
	"github.com/frostd/frostd/internal/testcluster"
	"github.com/frostd/frostd/signer"
	"github.com/frostd/frostd/signer/local"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// needTool returns the path of an OpenSSH program from the apt package
// pkg. Without it the test fails in CI, where the package is part of the
// setup (scripts/install-test-deps.sh), and skips elsewhere.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil && name == "sshd" {
		// sshd lives in /usr/sbin, which is not on every user's PATH.
		path, err = exec.LookPath("/usr/sbin/sshd")
	}
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s is not installed; install it with `apt-get install %s` (%v)", name, pkg, err)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// shortDir returns a new private directory under the system's temporary
// directory, removed when the test ends. t.TempDir's paths carry the test
// name and can pass the ~104-byte limit of Unix socket paths.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "fa-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// logBuffer collects what the server logs, for tests to read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// countingSigner counts the signatures asked of the signer it wraps, so
// tests can tell which requests reached the key.
type countingSigner struct {
	signer.Signer
	n atomic.Int64
}

func (c *countingSigner) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	c.n.Add(1)
	return c.Signer.Sign(ctx, msg)
}

// served is a running agentserver and what the test needs to talk to it.
type served struct {
	srv    *agentserver.Server
	socket string
	log    *logBuffer
}

// serve starts an agentserver for cfg (Socket defaults to a fresh short
// directory, Logger to a buffer) and closes it when the test ends,
// checking that Serve returned nil.
func serve(t *testing.T, cfg agentserver.Config) *served {
	t.Helper()
	if cfg.Socket == "" {
		cfg.Socket = filepath.Join(shortDir(t), "agent", "s")
	}
	logs := &logBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := agentserver.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &served{srv: srv, socket: srv.Socket(), log: logs}
}

// localSigner returns a signer over a new in-memory key, counted.
func localSigner(t *testing.T) *countingSigner {
	t.Helper()
	s, err := local.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return &countingSigner{Signer: s}
}

// clusterSigner returns the group key of a `frostd dev` 3-of-5 cluster
// (gRPC over mTLS, memberlist, bbolt, keys from a DKG), reached through
// signer/frost, counted. No participant holds the key.
func clusterSigner(t *testing.T) *countingSigner {
	t.Helper()
	_, s := testcluster.Dev(t, 3, 5)
	return &countingSigner{Signer: s}
}

// openssh runs an OpenSSH program with a clean environment whose
// SSH_AUTH_SOCK is socket, and returns its stdout and stderr.
func openssh(t *testing.T, socket, bin string, stdin []byte, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "SSH_AUTH_SOCK=" + socket}
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, got)
		}
	}
}
