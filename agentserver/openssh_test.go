package agentserver_test

// These tests drive the agent with OpenSSH's own programs (ssh-add,
// ssh-keygen, ssh and sshd from the apt packages openssh-client and
// openssh-server), with an in-process 3-of-5 FROST cluster holding the
// key: what they accept, OpenSSH accepts.

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/frostd/frostd/agentserver"
	"github.com/frostd/frostd/id52"
)

// authorizedKey is pub as an authorized_keys line, with its newline.
func authorizedKey(t *testing.T, pub ed25519.PublicKey) string {
	t.Helper()
	return string(ssh.MarshalAuthorizedKey(sshKey(t, pub)))
}

func TestSSHAddListsGroupKey(t *testing.T) {
	sshAdd := needTool(t, "ssh-add", "openssh-client")
	s := clusterSigner(t)
	a := serve(t, agentserver.Config{Signer: s})

	out, errOut, err := openssh(t, a.socket, sshAdd, nil, "-L")
	if err != nil {
		t.Fatalf("ssh-add -L: %v\n%s", err, errOut)
	}
	want := strings.TrimSuffix(authorizedKey(t, s.PublicKey()), "\n") + " " + id52.Encode(s.PublicKey()) + "\n"
	if out != want {
		t.Fatalf("ssh-add -L printed\n%q\nwant the group key\n%q", out, want)
	}

	out, errOut, err = openssh(t, a.socket, sshAdd, nil, "-l")
	if err != nil {
		t.Fatalf("ssh-add -l: %v\n%s", err, errOut)
	}
	fp := ssh.FingerprintSHA256(sshKey(t, s.PublicKey()))
	if want := "256 " + fp + " " + id52.Encode(s.PublicKey()) + " (ED25519)\n"; out != want {
		t.Fatalf("ssh-add -l printed %q, want %q", out, want)
	}
	if n := s.n.Load(); n != 0 {
		t.Errorf("listing keys asked the cluster for %d signatures, want 0", n)
	}
}

func TestSSHKeygenSignVerify(t *testing.T) {
	keygen := needTool(t, "ssh-keygen", "openssh-client")
	s := clusterSigner(t)
	a := serve(t, agentserver.Config{Signer: s})
	dir := t.TempDir()
	pubFile := filepath.Join(dir, "group.pub")
	writeFile(t, pubFile, authorizedKey(t, s.PublicKey()))
	msgFile := filepath.Join(dir, "release.tar")
	msg := []byte("release v1.0.0 contents\n")
	if err := os.WriteFile(msgFile, msg, 0o600); err != nil {
		t.Fatal(err)
	}

	// With a public key file, ssh-keygen asks the agent for the signature.
	_, errOut, err := openssh(t, a.socket, keygen, nil, "-Y", "sign", "-f", pubFile, "-n", "file", msgFile)
	if err != nil {
		t.Fatalf("ssh-keygen -Y sign: %v\n%s", err, errOut)
	}
	if n := s.n.Load(); n != 1 {
		t.Fatalf("ssh-keygen -Y sign asked the cluster for %d signatures, want 1", n)
	}
	sigFile := msgFile + ".sig"
	sig, err := os.ReadFile(sigFile)
	if err != nil || !bytes.HasPrefix(sig, []byte("-----BEGIN SSH SIGNATURE-----")) {
		t.Fatalf("no SSH signature in %s: %q, %v", sigFile, sig, err)
	}

	signers := filepath.Join(dir, "allowed_signers")
	writeFile(t, signers, "release@frostd "+authorizedKey(t, s.PublicKey()))
	verify := func(namespace string, message []byte) (string, error) {
		out, errOut, err := openssh(t, "", keygen, message, "-Y", "verify", "-f", signers, "-I", "release@frostd", "-n", namespace, "-s", sigFile)
		return out + errOut, err
	}
	out, err := verify("file", msg)
	if err != nil {
		t.Fatalf("ssh-keygen -Y verify rejects the cluster's signature: %v\n%s", err, out)
	}
	fp := ssh.FingerprintSHA256(sshKey(t, s.PublicKey()))
	mustContain(t, "ssh-keygen -Y verify's output", out, `Good "file" signature for release@frostd with ED25519 key `+fp)

	if out, err := verify("file", []byte("release v1.0.1 contents\n")); err == nil {
		t.Errorf("ssh-keygen -Y verify accepts the signature for another message:\n%s", out)
	}
	if out, err := verify("git", msg); err == nil {
		t.Errorf("ssh-keygen -Y verify accepts the signature in another namespace:\n%s", out)
	}
}

func TestSSHAddCannotChangeKeys(t *testing.T) {
	sshAdd := needTool(t, "ssh-add", "openssh-client")
	keygen := needTool(t, "ssh-keygen", "openssh-client")
	s := localSigner(t)
	a := serve(t, agentserver.Config{Signer: s})
	dir := t.TempDir()
	ownPub := filepath.Join(dir, "own.pub")
	writeFile(t, ownPub, authorizedKey(t, s.PublicKey()))
	newKey := filepath.Join(dir, "new")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", newKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-d", ownPub}, "agent refused operation"},
		{[]string{"-D"}, "Failed to remove all identities"},
		{[]string{newKey}, "agent refused operation"},
	} {
		out, errOut, err := openssh(t, a.socket, sshAdd, nil, tt.args...)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 {
			t.Errorf("ssh-add %s: %v, want a non-zero exit\n%s%s", strings.Join(tt.args, " "), err, out, errOut)
			continue
		}
		mustContain(t, "ssh-add "+strings.Join(tt.args, " ")+"'s output", out+errOut, tt.want)
	}
	out, errOut, err := openssh(t, a.socket, sshAdd, nil, "-L")
	if err != nil || !strings.HasPrefix(out, strings.TrimSuffix(authorizedKey(t, s.PublicKey()), "\n")+" ") || strings.Count(out, "\n") != 1 {
		t.Fatalf("after the refused changes ssh-add -L printed %q (%v, %s), want the one original key", out, err, errOut)
	}
	mustContain(t, "the agent's log", a.log.String(), "refused: remove a key", "refused: remove all keys", "refused: add a key")
	if n := s.n.Load(); n != 0 {
		t.Errorf("the refused requests asked for %d signatures, want 0", n)
	}
}

// A real ssh logs in to a real sshd with the 3-of-5 key; with another key
// in authorized_keys, it does not.
func TestSSHLogin(t *testing.T) {
	sshBin := needTool(t, "ssh", "openssh-client")
	s := clusterSigner(t)
	a := serve(t, agentserver.Config{Signer: s})
	d := startSSHD(t)
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	login := func() (string, string, error) {
		return openssh(t, "", sshBin, nil,
			"-F", "none",
			"-o", "IdentityAgent="+a.socket,
			"-o", "StrictHostKeyChecking=no",
			"-o", "UserKnownHostsFile=/dev/null",
			"-o", "BatchMode=yes",
			"-p", strconv.Itoa(d.port),
			me.Username+"@127.0.0.1", "echo", "frostd-ok")
	}
	fp := ssh.FingerprintSHA256(sshKey(t, s.PublicKey()))

	t.Run("group key authorized", func(t *testing.T) {
		writeFile(t, d.authorizedKeys, authorizedKey(t, s.PublicKey()))
		before := s.n.Load()
		out, errOut, err := login()
		if err != nil || out != "frostd-ok\n" {
			t.Fatalf("ssh login with the group key: %v\nstdout %q\nstderr:\n%s\nsshd:\n%s%s", err, out, errOut, d.log.String(), d.hint())
		}
		if n := s.n.Load() - before; n != 1 {
			t.Errorf("the login asked the cluster for %d signatures, want 1", n)
		}
		// sshd names the key that authenticated: the group key, not some
		// key of the user's.
		mustContain(t, "sshd's log", d.log.String(), "Accepted publickey for "+me.Username+" from 127.0.0.1", "ED25519 "+fp)
	})

	t.Run("other key authorized", func(t *testing.T) {
		other, _, _ := ed25519.GenerateKey(nil)
		writeFile(t, d.authorizedKeys, authorizedKey(t, other))
		before := s.n.Load()
		out, errOut, err := login()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 255 || strings.Contains(out, "frostd-ok") {
			t.Fatalf("ssh login with the group key not authorized: %v, stdout %q, want exit 255 and no command run\nstderr:\n%s", err, out, errOut)
		}
		mustContain(t, "ssh's stderr", errOut, "Permission denied (publickey)")
		// ssh offers the key first and signs only if sshd would accept it.
		if n := s.n.Load() - before; n != 0 {
			t.Errorf("the refused login asked the cluster for %d signatures, want 0", n)
		}
	})
}

// testSSHD is an OpenSSH sshd run by the test in the foreground.
type testSSHD struct {
	port           int
	authorizedKeys string // the file sshd reads on each login
	log            *watchedLog
	cmd            *exec.Cmd
	exited         chan struct{}
}

// startSSHD runs sshd -D -e on a free loopback port with a configuration
// of its own, and returns once it listens. authorized_keys starts empty.
func startSSHD(t *testing.T) *testSSHD {
	t.Helper()
	bin := needTool(t, "sshd", "openssh-server")
	keygen := needTool(t, "ssh-keygen", "openssh-client")
	// The privilege-separation directory, which the package's service
	// would create.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatalf("sshd needs /run/sshd: %v", err)
	}
	dir := t.TempDir()
	hostKey := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen for the host key: %v\n%s", err, out)
	}
	authorized := filepath.Join(dir, "authorized_keys")
	writeFile(t, authorized, "")

	// The port is free when we look; another process may take it before
	// sshd binds, so try a few.
	var lastLog string
	for range 5 {
		port := freePort(t)
		config := filepath.Join(dir, "sshd_config")
		writeFile(t, config, fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
AuthorizedKeysFile %s
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PidFile %s
LogLevel VERBOSE
`, port, hostKey, authorized, filepath.Join(dir, "sshd.pid")))

		d := &testSSHD{port: port, authorizedKeys: authorized, exited: make(chan struct{})}
		d.log = newWatchedLog(fmt.Sprintf("Server listening on 127.0.0.1 port %d.", port))
		// sshd re-executes itself for each connection, so it must be
		// started by absolute path.
		d.cmd = exec.Command(bin, "-D", "-e", "-f", config)
		d.cmd.Stderr = d.log
		if err := d.cmd.Start(); err != nil {
			t.Fatalf("starting sshd: %v", err)
		}
		go func() { d.cmd.Wait(); close(d.exited) }()
		select {
		case <-d.log.seen:
			t.Cleanup(d.stop)
			return d
		case <-d.exited:
			lastLog = d.log.String()
			if strings.Contains(lastLog, "Address already in use") {
				continue
			}
			t.Fatalf("sshd exited before listening:\n%s", lastLog)
		}
	}
	t.Fatalf("sshd found no free port:\n%s", lastLog)
	return nil
}

func (d *testSSHD) stop() {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	<-d.exited
}

// hint explains a known cause of failed logins from sshd's log.
func (d *testSSHD) hint() string {
	if strings.Contains(d.log.String(), "account is locked") {
		return "\nsshd refuses locked accounts when UsePAM is no: give the user a password field that does not start with '!' (usermod -p '*' USER)"
	}
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// watchedLog collects a process's output and closes seen once it
// contains want.
type watchedLog struct {
	want string
	seen chan struct{}

	mu    sync.Mutex
	buf   bytes.Buffer
	found bool
}

func newWatchedLog(want string) *watchedLog {
	return &watchedLog{want: want, seen: make(chan struct{})}
}

func (w *watchedLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.found && strings.Contains(w.buf.String(), w.want) {
		w.found = true
		close(w.seen)
	}
	return len(p), nil
}

func (w *watchedLog) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
