package main_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/frostd/frostd/daemon"
	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/internal/proctest"
	"github.com/frostd/frostd/internal/testcluster"
	"github.com/frostd/frostd/signer/frost"
)

// TestDKGProcesses is the network key generation end to end: frostd and
// frost-dkg binaries, five participants as OS processes started with no
// key, a 3-of-5 key generation run by frost-dkg as a process, then a
// coordinator process with the group it wrote, and 100 signatures that
// crypto/ed25519 verifies.
func TestDKGProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries and starts six processes")
	}
	start := time.Now()
	frostd, frostDKG := proctest.Build(t, "../frostd", "frostd"), proctest.Build(t, ".", "frost-dkg")
	dir := t.TempDir()
	base := testcluster.FreeBasePort(t, 5)
	out := proctest.Run(t, frostd, "cluster", "init", "--no-key", "--dir", dir, "--threshold", "3", "--participants", "5", "--base-port", fmt.Sprint(base))
	if !strings.Contains(out, "no group key yet") {
		t.Fatalf("cluster init --no-key said: %s", out)
	}

	var procs []*exec.Cmd
	t.Cleanup(func() {
		for _, p := range procs {
			p.Process.Signal(syscall.SIGTERM)
			p.Wait()
		}
		if t.Failed() {
			for _, f := range []string{"participant-1", "coordinator"} {
				b, _ := os.ReadFile(filepath.Join(dir, f+".log"))
				t.Logf("--- %s.log ---\n%s", f, b)
			}
		}
	})
	startNode := func(name, role, config string) {
		logf, err := os.Create(filepath.Join(dir, name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		defer logf.Close()
		cmd := exec.Command(frostd, role, "--config", config)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, cmd)
	}
	var addrs []string
	for id := uint16(1); id <= 5; id++ {
		startNode(fmt.Sprintf("participant-%d", id), "participant", daemon.ParticipantConfigPath(dir, id))
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", base+int(id)))
	}

	groupOut := filepath.Join(dir, "coordinator", "group.json")
	dkgCmd := exec.Command(frostDKG, "run", "--threshold", "3", "--participants", strings.Join(addrs, ","),
		"--tls-dir", filepath.Join(dir, "certs"), "--tls-name", "coordinator", "--group-out", groupOut, "--timeout", "20s")
	dkgOut, err := dkgCmd.CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(dkgOut)), "\n") {
		t.Logf("frost-dkg: %s", line)
	}
	if err != nil {
		t.Fatalf("frost-dkg run: %v", err)
	}
	var groupID string
	for _, line := range strings.Split(string(dkgOut), "\n") {
		if v, ok := strings.CutPrefix(line, "group ID52: "); ok {
			groupID = strings.TrimSpace(v)
		}
	}
	pub, err := id52.Decode(groupID)
	if err != nil {
		t.Fatalf("frost-dkg printed no group ID52: %v", err)
	}
	if strings.Count(string(dkgOut), "done") != 5 {
		t.Fatalf("frost-dkg did not report 5 participants done")
	}

	startNode("coordinator", "coordinator", daemon.CoordinatorConfigPath(dir))
	proctest.WaitMetric(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", base+200), "frostd_live_members", 5, 20*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := frost.New(ctx, frost.Config{Addr: fmt.Sprintf("127.0.0.1:%d", base), Files: daemon.ClientFiles(dir), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.PublicKey().Equal(pub) {
		t.Fatalf("the coordinator signs for %s, frost-dkg made %s", id52.Encode(s.PublicKey()), groupID)
	}
	for i := range 100 {
		msg := fmt.Appendf(nil, "message %d", i)
		sig, err := s.Sign(ctx, msg)
		if err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
		if !ed25519.Verify(pub, msg, sig) {
			t.Fatalf("signature %d does not verify under %s", i, groupID)
		}
	}
	t.Logf("100 signatures verify under %s (%.1fs in all)", groupID, time.Since(start).Seconds())
}
