package sshagent

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/crypto/ssh"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// needTool returns the path of an OpenSSH program. Without it the test
// fails in CI, where the program is part of the setup, and skips elsewhere.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s is not installed; install it with `apt-get install openssh-client` (%v)", name, err)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// testAgent is a real OpenSSH ssh-agent running in the foreground.
type testAgent struct {
	socket string
	cmd    *exec.Cmd
	log    bytes.Buffer // its stderr, to read after stop
	done   bool
}

// startAgent runs `ssh-agent -D -a SOCK` in t.TempDir() with env added to
// a clean environment, and returns once the socket listens.
func startAgent(t *testing.T, env ...string) *testAgent {
	t.Helper()
	bin := needTool(t, "ssh-agent")
	a := &testAgent{socket: filepath.Join(t.TempDir(), "agent.sock")}
	if len(a.socket) >= 104 { // sun_path holds 104 to 108 bytes, with the NUL
		t.Fatalf("socket path %s is too long for a Unix socket; set TMPDIR to a shorter directory", a.socket)
	}
	a.cmd = exec.Command(bin, "-D", "-a", a.socket)
	a.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	a.cmd.Stderr = &a.log
	stdout, err := a.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("starting ssh-agent: %v", err)
	}
	t.Cleanup(a.stop)
	// With -D the agent prints its environment lines after it has bound
	// and started listening on the socket, then serves in the foreground.
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if !strings.HasPrefix(line, "SSH_AUTH_SOCK="+a.socket+";") {
		a.stop()
		t.Fatalf("ssh-agent printed %q (%v), want its SSH_AUTH_SOCK line; stderr:\n%s", line, err, a.log.String())
	}
	return a
}

// stop ends the agent and waits for it, after which its log may be read.
func (a *testAgent) stop() {
	if a.done {
		return
	}
	a.done = true
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	_ = a.cmd.Wait()
}

// add runs the real ssh-add against the agent.
func (a *testAgent) add(t *testing.T, args ...string) {
	t.Helper()
	bin := needTool(t, "ssh-add")
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "SSH_AUTH_SOCK=" + a.socket}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// newKeyFile writes a new unencrypted key with ssh-keygen and returns the
// private key file's path and, for Ed25519, the public key.
func newKeyFile(t *testing.T, keyType, comment string) (string, ed25519.PublicKey) {
	t.Helper()
	bin := needTool(t, "ssh-keygen")
	path := filepath.Join(t.TempDir(), "key")
	cmd := exec.Command(bin, "-q", "-t", keyType, "-N", "", "-C", comment, "-f", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -t %s: %v\n%s", keyType, err, out)
	}
	line, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	parsed, _, _, _, err := ssh.ParseAuthorizedKey(line)
	if err != nil {
		t.Fatalf("parsing %s.pub: %v", path, err)
	}
	pub, _ := parsed.(ssh.CryptoPublicKey).CryptoPublicKey().(ed25519.PublicKey)
	return path, pub
}
