package daemon_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/frostd/frostd/daemon"
	"github.com/frostd/frostd/internal/testcluster"
	"github.com/frostd/frostd/pki"
	"github.com/frostd/frostd/signer/frost"
)

func TestMain(m *testing.M) {
	// goleak's end-of-run check stalls fuzz workers (FuzzLoadConfig ran
	// a few execs a minute under it); fuzzing is not about leaks.
	flag.Parse()
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
		os.Exit(m.Run())
	}
	goleak.VerifyTestMain(m,
		// grpc's and memberlist's background goroutines that outlive Close
		// by a moment are not leaks of ours.
		goleak.IgnoreTopFunction("github.com/hashicorp/memberlist.(*Memberlist).probeNode"),
		goleak.IgnoreTopFunction("google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run"),
	)
}

func TestDevClusterSignsAndSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	opts := daemon.LocalClusterOptions{Threshold: 2, Participants: 3, BasePort: testcluster.FreeBasePort(t, 3)}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	sign := func(created bool) ed25519.PublicKey {
		t.Helper()
		d, wasCreated, err := daemon.StartDev(dir, opts, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if wasCreated != created {
			t.Fatalf("StartDev created = %v, want %v", wasCreated, created)
		}
		if err := d.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		s, err := frost.New(ctx, frost.Config{Addr: d.Coordinator.Addr(), Files: daemon.ClientFiles(dir)})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for i := range 10 {
			msg := fmt.Appendf(nil, "dev message %d", i)
			sig, err := s.Sign(ctx, msg)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if !ed25519.Verify(s.PublicKey(), msg, sig) {
				t.Fatal("signature does not verify")
			}
		}
		return s.PublicKey()
	}
	first := sign(true)
	second := sign(false)
	if !bytes.Equal(first, second) {
		t.Fatal("the group key changed across a restart of the dev cluster")
	}
	// Key shares are sealed: the plaintext secret never appears on disk.
	b, err := os.ReadFile(filepath.Join(dir, "participant-1", "keyshare.age"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("secret")) {
		t.Fatal("keyshare.age holds plaintext JSON")
	}
	if _, err := daemon.InitLocalCluster(dir, opts); err == nil {
		t.Fatal("InitLocalCluster overwrote an existing cluster")
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, body, want string
	}{
		{"typo.toml", "name = \"p\"\nid = 1\nlisen = \"x\"\n", "unknown setting"},
		{"two-secrets.toml", "id = 1\n[secrets]\nidentity_file = \"a\"\npassphrase_env = \"B\"\n", "exactly one"},
		{"no-id.toml", "[secrets]\ninsecure_plaintext = true\n", "id must be"},
		{"no-tls.toml", "id = 1\n[tls]\nca = \"\"\n", "refuses plaintext"},
		{"bad.toml", "id = = 1\n", "bad.toml"},
		{"device-pass.toml", "name = \"p\"\nid = 1\n[secrets]\npassphrase_file = \"/dev/zero\"\n", "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := daemon.LoadParticipantConfig(write(tc.name, tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := daemon.LoadParticipantConfig(filepath.Join(dir, "missing.toml")); err == nil {
		t.Fatal("a missing config file loaded")
	}
	// The example configs are valid as they stand (apart from missing files).
	p := write("example.toml", daemon.ExampleParticipantConfig)
	if _, err := daemon.LoadParticipantConfig(p); err != nil {
		t.Fatalf("the example participant config does not load: %v", err)
	}
	c := write("coord.toml", daemon.ExampleCoordinatorConfig)
	cfg, err := daemon.LoadCoordinatorConfig(c)
	if err != nil {
		t.Fatalf("the example coordinator config does not load: %v", err)
	}
	if cfg.AttemptTimeout.Duration != 2*time.Second {
		t.Fatalf("attempt_timeout = %v, want 2s", cfg.AttemptTimeout)
	}
}

// lockedBuffer is a log sink safe for the daemon's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestForeignCertificateRefusedAndLogged(t *testing.T) {
	dir := t.TempDir()
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	d, _, err := daemon.StartDev(dir, daemon.LocalClusterOptions{Threshold: 2, Participants: 3, BasePort: testcluster.FreeBasePort(t, 3)}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	// A client certificate from another CA.
	other := t.TempDir()
	if _, err := pki.InitCA(other); err != nil {
		t.Fatal(err)
	}
	files, err := pki.Issue(other, "intruder", pki.RoleClient, other, pki.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Dial with a TLS config that trusts the cluster's CA but presents the
	// foreign certificate: the coordinator must refuse the handshake.
	cert, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(daemon.ClientFiles(dir).CA)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := frost.New(ctx, frost.Config{Addr: d.Coordinator.Addr(), TLS: conf, Timeout: 3 * time.Second}); err == nil {
		t.Fatal("a client of another CA got a session with the coordinator")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "TLS handshake failed") {
		if time.Now().After(deadline) {
			t.Fatalf("the refused handshake was not logged; logs:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAllowPrefixesPolicy(t *testing.T) {
	p := filepath.Join(t.TempDir(), "p.toml")
	body := "name = \"p\"\nid = 1\n[policy]\nallow_prefixes = [\"3:seqi\", \"frostd:\"]\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := daemon.LoadParticipantConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	pol := cfg.ParticipantPolicy()
	if pol.Allow == nil {
		t.Fatal("allow_prefixes set no predicate")
	}
	for msg, ok := range map[string]bool{"3:seqi1700e1:v3:abc": true, "frostd:token": true, "anything else": false, "": false} {
		if err := pol.Allow("coordinator", []byte(msg)); (err == nil) != ok {
			t.Errorf("Allow(%q) = %v, want allowed=%v", msg, err, ok)
		}
	}
	// Without the setting, any message is allowed.
	if err := os.WriteFile(p, []byte("name = \"p\"\nid = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg, err = daemon.LoadParticipantConfig(p); err != nil || cfg.ParticipantPolicy().Allow != nil {
		t.Fatalf("default policy has a predicate (%v)", err)
	}
}
