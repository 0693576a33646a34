package cli_test

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frostd/frostd/daemon"
	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/internal/cli"
	"github.com/frostd/frostd/internal/testcluster"
	"github.com/frostd/frostd/signer/local"
)

func runDKG(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.DKGMain(args, strings.NewReader(stdin), &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// TestDKGDealShowRefresh migrates a key file into three participants
// awaiting a key, destroys the old file, shows the group and refreshes it.
func TestDKGDealShowRefresh(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	if _, err := daemon.InitLocalCluster(dir, daemon.LocalClusterOptions{Threshold: 2, Participants: 3, BasePort: testcluster.FreeBasePort(t, 3), NoKey: true}); err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for id := uint16(1); id <= 3; id++ {
		cfg, err := daemon.LoadParticipantConfig(daemon.ParticipantConfigPath(dir, id))
		if err != nil {
			t.Fatal(err)
		}
		p, err := daemon.StartParticipant(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		addrs = append(addrs, p.Addr())
	}
	keys := t.TempDir()
	s, keyFile, err := local.Loader{Dir: keys}.Generate()
	if err != nil {
		t.Fatal(err)
	}
	certs := filepath.Join(dir, "certs")
	group := filepath.Join(dir, "coordinator", "group.json")
	relay := []string{"--participants", strings.Join(addrs, ","), "--tls-dir", certs, "--timeout", "20s"}

	r := runDKG(t, "", append([]string{"deal", "--from-key", s.ID52()[:10], "--dir", keys, "--threshold", "2", "--destroy-old-key", "--group-out", group}, relay...)...)
	if r.code != 0 {
		t.Fatalf("deal: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "group ID52: "+s.ID52()+" (unchanged)") || strings.Count(r.stdout, "share installed") != 3 {
		t.Fatalf("deal output:\n%s", r.stdout)
	}
	if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
		t.Fatalf("the old key file %s survived --destroy-old-key: %v", keyFile, err)
	}

	r = runDKG(t, "", "show", "--group", group)
	for _, want := range []string{s.ID52(), id52.EncodeZBase32(s.PublicKey()), "threshold:  2 of 3", "    3  "} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Fatalf("show --group lacks %q: exit %d\n%s%s", want, r.code, r.stdout, r.stderr)
		}
	}
	r = runDKG(t, "", "show", "--participant", addrs[1], "--tls-dir", certs)
	if r.code != 0 || !strings.Contains(r.stdout, "participant 2 at") || !strings.Contains(r.stdout, s.ID52()) {
		t.Fatalf("show --participant: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A key generation over participants that hold keys fails clearly.
	r = runDKG(t, "", append([]string{"run", "--threshold", "2"}, relay...)...)
	if r.code == 0 || !strings.Contains(r.stderr, "already hold") {
		t.Fatalf("run over keyed participants: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = runDKG(t, "", append([]string{"refresh", "--group-out", group}, relay...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "group key unchanged: "+s.ID52()) {
		t.Fatalf("refresh: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runDKG(t, "", append([]string{"refresh"}, "--participants", strings.Join(addrs[:2], ","), "--tls-dir", certs)...)
	if r.code == 0 || !strings.Contains(r.stderr, "all n holders must take part") {
		t.Fatalf("refresh with 2 of 3: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestDKGClientCertificate(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	if _, err := daemon.InitLocalCluster(dir, daemon.LocalClusterOptions{Threshold: 2, Participants: 3, BasePort: testcluster.FreeBasePort(t, 3), NoKey: true}); err != nil {
		t.Fatal(err)
	}
	r := runDKG(t, "", "run", "--threshold", "2", "--participants", "127.0.0.1:1,127.0.0.1:2", "--tls-dir", filepath.Join(dir, "certs"), "--tls-name", daemon.ClientName)
	if r.code == 0 || !strings.Contains(r.stderr, "coordinator certificates only") {
		t.Fatalf("run with a client certificate: exit %d\n%s", r.code, r.stderr)
	}
}
