package agentserver_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/frostd/frostd/agentserver"
	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/signer"
	"github.com/frostd/frostd/signer/signertest"
	"github.com/frostd/frostd/signer/sshagent"
)

// client connects to the agent with x/crypto's client, closed when the
// test ends.
func client(t *testing.T, socket string) agent.ExtendedAgent {
	t.Helper()
	conn, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return agent.NewClient(conn)
}

func sshKey(t *testing.T, pub ed25519.PublicKey) ssh.PublicKey {
	t.Helper()
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestListAndSign(t *testing.T) {
	s := localSigner(t)
	a := serve(t, agentserver.Config{Signer: s})
	c := client(t, a.socket)
	want := sshKey(t, s.PublicKey())

	keys, err := c.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].Format != ssh.KeyAlgoED25519 || string(keys[0].Blob) != string(want.Marshal()) {
		t.Fatalf("List = %v, want the one ssh-ed25519 key %s", keys, ssh.FingerprintSHA256(want))
	}
	if keys[0].Comment != id52.Encode(s.PublicKey()) {
		t.Errorf("comment %q, want the ID52 %s", keys[0].Comment, id52.Encode(s.PublicKey()))
	}
	if got := a.srv.AuthorizedKey(); got+"\n" != string(ssh.MarshalAuthorizedKey(want)) {
		t.Errorf("AuthorizedKey() = %q, want %q", got, ssh.MarshalAuthorizedKey(want))
	}

	data := []byte("session data")
	sig, err := c.Sign(want, data)
	if err != nil {
		t.Fatal(err)
	}
	if sig.Format != ssh.KeyAlgoED25519 || !ed25519.Verify(s.PublicKey(), data, sig.Blob) {
		t.Fatalf("signature %q over the data does not verify as a plain Ed25519 signature", sig.Format)
	}
	if err := want.Verify(data, sig); err != nil {
		t.Fatalf("x/crypto/ssh does not accept the signature: %v", err)
	}
	if n := s.n.Load(); n != 1 {
		t.Fatalf("the signer was asked %d times, want 1", n)
	}
}

func TestComment(t *testing.T) {
	a := serve(t, agentserver.Config{Signer: localSigner(t), Comment: "frostd group"})
	keys, err := client(t, a.socket).List()
	if err != nil || len(keys) != 1 || keys[0].Comment != "frostd group" {
		t.Fatalf("List = %v, %v; want one key with the configured comment", keys, err)
	}
}

func TestSignRefusals(t *testing.T) {
	s := localSigner(t)
	a := serve(t, agentserver.Config{Signer: s})
	c := client(t, a.socket)
	own := sshKey(t, s.PublicKey())

	for _, flags := range []agent.SignatureFlags{agent.SignatureFlagRsaSha256, agent.SignatureFlagRsaSha512, agent.SignatureFlagReserved} {
		if _, err := c.SignWithFlags(own, []byte("m"), flags); err == nil {
			t.Errorf("sign with flags %#x succeeded; flags are not defined for ssh-ed25519", flags)
		}
	}
	otherPub, _, _ := ed25519.GenerateKey(nil)
	if _, err := c.Sign(sshKey(t, otherPub), []byte("m")); err == nil {
		t.Error("sign with a key the agent does not hold succeeded")
	}
	if n := s.n.Load(); n != 0 {
		t.Errorf("the signer was asked %d times for refused requests, want 0", n)
	}
	// The connection still serves after the refusals.
	if _, err := c.Sign(own, []byte("m")); err != nil {
		t.Fatalf("sign after refusals: %v", err)
	}
	mustContain(t, "the log", a.log.String(), "flags 0x2", "not defined for ssh-ed25519", "this agent holds only "+ssh.FingerprintSHA256(own))
}

func TestRefusesChanges(t *testing.T) {
	s := localSigner(t)
	a := serve(t, agentserver.Config{Signer: s})
	c := client(t, a.socket)
	_, priv, _ := ed25519.GenerateKey(nil)
	own := sshKey(t, s.PublicKey())

	for name, call := range map[string]func() error{
		"add a key":        func() error { return c.Add(agent.AddedKey{PrivateKey: priv, Comment: "intruder"}) },
		"remove a key":     func() error { return c.Remove(own) },
		"remove all keys":  c.RemoveAll,
		"lock the agent":   func() error { return c.Lock([]byte("pass")) },
		"unlock the agent": func() error { return c.Unlock([]byte("pass")) },
	} {
		if err := call(); err == nil {
			t.Errorf("%s: succeeded, want SSH_AGENT_FAILURE", name)
		}
		mustContain(t, "the log", a.log.String(), "refused: "+name)
	}
	keys, err := c.List()
	if err != nil || len(keys) != 1 || string(keys[0].Blob) != string(own.Marshal()) {
		t.Fatalf("after the refused changes List = %v, %v; want the one original key", keys, err)
	}
	if _, err := c.Sign(own, []byte("not locked")); err != nil {
		t.Fatalf("sign after a refused lock: %v", err)
	}
	if _, err := c.Extension("session-bind@openssh.com", nil); !errors.Is(err, agent.ErrExtensionUnsupported) {
		t.Errorf("extension: got %v, want ErrExtensionUnsupported", err)
	}
}

// blockingSigner never signs: each call reports that it started, then
// waits for its context to end and returns why.
type blockingSigner struct {
	pub     ed25519.PublicKey
	started chan struct{}
	ended   chan error
}

func newBlockingSigner() *blockingSigner {
	pub, _, _ := ed25519.GenerateKey(nil)
	return &blockingSigner{pub: pub, started: make(chan struct{}, 1), ended: make(chan error, 1)}
}

func (b *blockingSigner) PublicKey() ed25519.PublicKey { return b.pub }

func (b *blockingSigner) Sign(ctx context.Context, _ []byte) ([]byte, error) {
	b.started <- struct{}{}
	<-ctx.Done()
	b.ended <- ctx.Err()
	return nil, ctx.Err()
}

// The signer never returns by itself, so only the per-request timeout can
// end the request.
func TestSignTimeout(t *testing.T) {
	b := newBlockingSigner()
	a := serve(t, agentserver.Config{Signer: b, SignTimeout: 1})
	_, err := client(t, a.socket).Sign(sshKey(t, b.pub), []byte("m"))
	if err == nil {
		t.Fatal("sign succeeded with a signer that never signs")
	}
	if got := <-b.ended; !errors.Is(got, context.DeadlineExceeded) {
		t.Fatalf("the signer's context ended with %v, want DeadlineExceeded", got)
	}
	mustContain(t, "the log", a.log.String(), "ssh-agent signature failed", "deadline exceeded")
}

func TestCloseCancelsSignInFlight(t *testing.T) {
	b := newBlockingSigner()
	srv, err := agentserver.Listen(agentserver.Config{Signer: b, Socket: filepath.Join(shortDir(t), "s"), SignTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()

	c := client(t, srv.Socket())
	signed := make(chan error, 1)
	go func() {
		_, err := c.Sign(sshKey(t, b.pub), []byte("m"))
		signed <- err
	}()
	<-b.started
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := <-b.ended; !errors.Is(got, context.Canceled) {
		t.Fatalf("the signature in flight ended with %v, want Canceled", got)
	}
	if err := <-signed; err == nil {
		t.Fatal("the client got a signature from a closed server")
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve after Close: %v", err)
	}
	if _, err := os.Lstat(srv.Socket()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket still there after Close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatalf("Serve after Close: %v, want nil", err)
	}
}

func TestServeTwice(t *testing.T) {
	srv, err := agentserver.Listen(agentserver.Config{Signer: localSigner(t), Socket: filepath.Join(shortDir(t), "s")})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	if _, err := client(t, srv.Socket()).List(); err != nil { // answered, so Serve runs
		t.Fatal(err)
	}
	if err := srv.Serve(); err == nil || !strings.Contains(err.Error(), "Serve called twice") {
		t.Errorf("second Serve: got %v, want an error", err)
	}
	srv.Close()
	if err := <-served; err != nil {
		t.Fatalf("first Serve after Close: %v", err)
	}
}

func TestSocketAndDirectoryModes(t *testing.T) {
	dir := filepath.Join(shortDir(t), "new", "agent")
	a := serve(t, agentserver.Config{Signer: localSigner(t), Socket: filepath.Join(dir, "s")})
	fi, err := os.Lstat(a.socket)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&fs.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a socket with mode 0600", fi.Mode())
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("created directory has mode %04o, want 0700", di.Mode().Perm())
	}
}

func TestRelativeSocketPath(t *testing.T) {
	dir := shortDir(t)
	t.Chdir(dir)
	a := serve(t, agentserver.Config{Signer: localSigner(t), Socket: "s"})
	if want := filepath.Join(dir, "s"); a.socket != want {
		t.Fatalf("Socket() = %q, want the absolute path %q for SSH_AUTH_SOCK", a.socket, want)
	}
}

func TestListenRefuses(t *testing.T) {
	s := localSigner(t)
	listen := func(socket string) error {
		srv, err := agentserver.Listen(agentserver.Config{Signer: s, Socket: socket})
		if err == nil {
			srv.Close()
		}
		return err
	}
	tests := map[string]struct {
		setup func(t *testing.T, dir string) string // returns the socket path
		want  string
	}{
		"open directory": {func(t *testing.T, dir string) string {
			chmod(t, dir, 0o755)
			return filepath.Join(dir, "s")
		}, "has mode 0755"},
		"group-writable directory": {func(t *testing.T, dir string) string {
			chmod(t, dir, 0o770)
			return filepath.Join(dir, "s")
		}, "chmod 700"},
		"symbolic link": {func(t *testing.T, dir string) string {
			real := filepath.Join(dir, "real")
			if err := os.Mkdir(real, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(real, filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "link", "s")
		}, "is a symbolic link"},
		"directory is a file": {func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "f"), "")
			return filepath.Join(dir, "f", "s")
		}, "is not a directory"},
		"regular file at the path": {func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "s"), "keep me")
			return filepath.Join(dir, "s")
		}, "exists and is not a socket"},
		"live socket": {func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "s")
			l, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return path
		}, "another process is listening"},
		"path too long": {func(t *testing.T, dir string) string {
			return filepath.Join(dir, strings.Repeat("x", 120))
		}, "over the 103 that Unix sockets allow"},
		"empty path": {func(t *testing.T, dir string) string { return "" }, "Config.Socket is empty"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := shortDir(t)
			socket := tt.setup(t, dir)
			err := listen(socket)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Listen(%s): got %v, want an error saying %q", socket, err, tt.want)
			}
		})
	}
	t.Run("regular file is kept", func(t *testing.T) {
		path := filepath.Join(shortDir(t), "s")
		writeFile(t, path, "keep me")
		listen(path)
		if b, err := os.ReadFile(path); err != nil || string(b) != "keep me" {
			t.Fatalf("the file at the socket path was changed: %q, %v", b, err)
		}
	})
	t.Run("nil signer", func(t *testing.T) {
		if _, err := agentserver.Listen(agentserver.Config{Socket: filepath.Join(shortDir(t), "s")}); err == nil ||
			!strings.Contains(err.Error(), "Config.Signer is nil") {
			t.Fatalf("got %v, want an error about the nil signer", err)
		}
	})
}

func TestListenRefusesOthersDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root can give a directory to another user")
	}
	dir := filepath.Join(shortDir(t), "theirs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, err := agentserver.Listen(agentserver.Config{Signer: localSigner(t), Socket: filepath.Join(dir, "s")})
	if err == nil || !strings.Contains(err.Error(), "belongs to user ID 65534") {
		t.Fatalf("got %v, want a refusal naming the owner", err)
	}
}

func TestListenRemovesStaleSocket(t *testing.T) {
	path := filepath.Join(shortDir(t), "s")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false) // as an agent that crashed leaves it
	l.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("no stale socket to test with: %v", err)
	}
	a := serve(t, agentserver.Config{Signer: localSigner(t), Socket: path})
	if _, err := client(t, a.socket).List(); err != nil {
		t.Fatalf("the agent replacing a stale socket does not answer: %v", err)
	}
}

// As OpenSSH's agent does, the server hangs up on processes of other users
// even when the socket's permissions would let them in.
func TestRefusesOtherUsers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root can run a client as another user")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skipf("setpriv (util-linux) is not installed: %v", err)
	}
	sshAdd := needTool(t, "ssh-add", "openssh-client")
	a := serve(t, agentserver.Config{Signer: localSigner(t)})
	chmod(t, filepath.Dir(filepath.Dir(a.socket)), 0o755)
	chmod(t, filepath.Dir(a.socket), 0o755)
	chmod(t, a.socket, 0o666)

	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sshAdd, "-l")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "SSH_AUTH_SOCK=" + a.socket}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("ssh-add as user 65534 listed keys:\n%s", out)
	}
	mustContain(t, "the log", a.log.String(), "ssh-agent connection refused", "peer runs as user ID 65534")
}

// Our own sshagent backend, pointed at the agent, passes the conformance
// suite with a 3-of-5 FROST cluster behind it: signer -> ssh-agent
// protocol -> signer again, and nothing lost on the way.
func TestConformanceThroughAgent(t *testing.T) {
	cluster := clusterSigner(t)
	a := serve(t, agentserver.Config{Signer: cluster})
	signertest.Run(t, func(t *testing.T) signer.Signer {
		s, err := sshagent.New(context.Background(), sshagent.Config{Socket: a.socket, PublicKey: cluster.PublicKey()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, signertest.MaxMessage(sshagent.MaxMessage))
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
