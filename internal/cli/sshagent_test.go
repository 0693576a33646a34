package cli_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/crypto/ssh"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/internal/cli"
)

// syncBuffer is a bytes.Buffer that the command's logger and the test
// may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// frostd ssh-agent serves a local key to OpenSSH's ssh-add and to frostd's
// own sshagent backend, and stops on SIGTERM.
func TestSSHAgentCommand(t *testing.T) {
	// os/signal starts one goroutine for the life of the process.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), goleak.IgnoreAnyFunction("os/signal.loop"))
	isolate(t)
	sshAdd := needTool(t, "ssh-add", "openssh-client")
	dir := t.TempDir()
	id := generate(t, dir)
	pub, _ := id52.Decode(id)
	socket := filepath.Join(shortDir(t), "agent", "sock")

	stdout, stdoutW := io.Pipe()
	var stderr syncBuffer
	exited := make(chan int, 1)
	go func() {
		code := cli.Main([]string{"ssh-agent", "--socket", socket, "--key", id, "--dir", dir}, strings.NewReader(""), stdoutW, &stderr)
		stdoutW.Close()
		exited <- code
	}()
	// The first line comes once the socket listens and SIGTERM is caught.
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if want := "SSH_AUTH_SOCK=" + socket + "; export SSH_AUTH_SOCK;\n"; line != want {
		if err != nil {
			t.Fatalf("frostd ssh-agent exited %d before printing its socket: %s", <-exited, stderr.String())
		}
		t.Fatalf("frostd ssh-agent printed %q, want %q", line, want)
	}
	stopped, code := false, 0
	stop := func() int {
		if !stopped {
			stopped = true
			if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			code = <-exited
		}
		return code
	}
	t.Cleanup(func() { stop() })

	fi, err := os.Lstat(socket)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %s: %v, %v; want mode 0600", socket, fi, err)
	}

	cmd := exec.Command(sshAdd, "-L")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "SSH_AUTH_SOCK=" + socket}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ssh-add -L: %v", err)
	}
	sshPub, _ := ssh.NewPublicKey(pub)
	if want := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(sshPub)), "\n") + " " + id + "\n"; string(out) != want {
		t.Fatalf("ssh-add -L printed %q, want %q", out, want)
	}

	// frostd's sshagent backend signs through frostd's agent.
	checkSignature(t, run(t, "via the agent", "sign", "--backend", "sshagent", "--agent-socket", socket, "--key", id[:4]), pub, "via the agent")

	if code := stop(); code != 0 {
		t.Fatalf("frostd ssh-agent exited %d after SIGTERM, want 0; stderr:\n%s", code, stderr.String())
	}
	if _, err := os.Lstat(socket); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the socket is still there after frostd ssh-agent stopped: %v", err)
	}
	for _, want := range []string{"ssh-agent listening", "ssh-agent signed", "ssh-agent stopping on a signal", "ssh-agent stopped"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not log %q:\n%s", want, stderr.String())
		}
	}
}

func TestSSHAgentCommandErrors(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	id := generate(t, dir)
	open := shortDir(t)
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no socket", []string{"--key", id, "--dir", dir}, "--socket is required"},
		{"no key", []string{"--socket", filepath.Join(shortDir(t), "s"), "--dir", dir}, "--key is required"},
		{"open directory", []string{"--socket", filepath.Join(open, "s"), "--key", id, "--dir", dir}, "has mode 0755"},
		{"frost without TLS", []string{"--socket", filepath.Join(shortDir(t), "s"), "--backend", "frost", "--cluster", "h:1"}, "--tls-dir is required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			expectFailure(t, run(t, "", append([]string{"ssh-agent"}, tt.args...)...), tt.want)
		})
	}
}
