package sshagent

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh/agent"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/signer"
	"github.com/frostd/frostd/signer/signertest"
)

func TestConformance(t *testing.T) {
	a := startAgent(t)
	key, pub := newKeyFile(t, "ed25519", "conformance")
	a.add(t, key)
	signertest.Run(t, func(t *testing.T) signer.Signer {
		s, err := New(context.Background(), Config{Socket: a.socket, PublicKey: pub})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, signertest.MaxMessage(MaxMessage))
}

// MaxMessage is OpenSSH's limit to the byte: signertest signs exactly
// MaxMessage bytes, and one byte more makes the agent hang up.
func TestMaxMessageIsOpenSSHLimit(t *testing.T) {
	a := startAgent(t)
	key, pub := newKeyFile(t, "ed25519", "limit")
	a.add(t, key)
	s := mustNew(t, Config{Socket: a.socket, PublicKey: pub})

	_, err := s.sign(context.Background(), make([]byte, MaxMessage+1))
	if !errors.Is(err, signer.ErrUnavailable) {
		t.Fatalf("sending %d bytes past the size check: got %v, want the agent to hang up (ErrUnavailable)", MaxMessage+1, err)
	}
	if _, err := s.Sign(context.Background(), []byte("still there")); err != nil {
		t.Fatalf("agent stopped serving after dropping one oversized request: %v", err)
	}
}

func TestSelectByID52FromEnvironment(t *testing.T) {
	a := startAgent(t)
	key1, pub1 := newKeyFile(t, "ed25519", "first")
	key2, pub2 := newKeyFile(t, "ed25519", "second")
	a.add(t, key1)
	a.add(t, key2)
	t.Setenv("SSH_AUTH_SOCK", a.socket)

	s := mustNew(t, Config{ID52: strings.ToUpper(id52.Encode(pub2))})
	if !s.PublicKey().Equal(pub2) {
		t.Fatalf("PublicKey %x, want the second key %x", s.PublicKey(), pub2)
	}
	msg := []byte("chosen by ID52")
	sig, err := s.Sign(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(pub2, msg, sig) {
		t.Fatal("signature does not verify under the chosen key")
	}
	if ed25519.Verify(pub1, msg, sig) {
		t.Fatal("signature verifies under the other key in the agent")
	}
	if got := s.String(); !strings.Contains(got, id52.Encode(pub2)) || !strings.Contains(got, a.socket) {
		t.Errorf("String() = %q, want the key's ID52 and the socket", got)
	}
}

func TestKeysListsEd25519Only(t *testing.T) {
	a := startAgent(t)
	edKey, edPub := newKeyFile(t, "ed25519", "the ed25519 one")
	ecKey, _ := newKeyFile(t, "ecdsa", "the ecdsa one")
	a.add(t, ecKey)
	a.add(t, edKey)

	keys, err := Keys(context.Background(), a.socket)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || !keys[0].PublicKey.Equal(edPub) || keys[0].Comment != "the ed25519 one" {
		t.Fatalf("Keys = %+v, want only the Ed25519 key with its comment", keys)
	}
	if keys[0].ID52() != id52.Encode(edPub) {
		t.Errorf("ID52() = %s, want %s", keys[0].ID52(), id52.Encode(edPub))
	}
}

func TestNoKeyChosenListsKeys(t *testing.T) {
	a := startAgent(t)
	key, pub := newKeyFile(t, "ed25519", "only")
	a.add(t, key)
	_, err := New(context.Background(), Config{Socket: a.socket})
	if !errors.Is(err, signer.ErrBadKey) {
		t.Fatalf("New without a key: got %v, want ErrBadKey", err)
	}
	if !strings.Contains(err.Error(), id52.Encode(pub)) {
		t.Errorf("error %q does not list the agent's key %s", err, id52.Encode(pub))
	}
}

func TestKeyNotInAgent(t *testing.T) {
	a := startAgent(t)
	key, held := newKeyFile(t, "ed25519", "held")
	a.add(t, key)
	_, missing := newKeyFile(t, "ed25519", "never added")

	_, err := New(context.Background(), Config{Socket: a.socket, PublicKey: missing})
	if !errors.Is(err, signer.ErrBadKey) {
		t.Fatalf("New for a key not in the agent: got %v, want ErrBadKey", err)
	}
	for _, want := range []string{id52.Encode(missing), "ssh-add", id52.Encode(held)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestBadConfig(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	for name, cfg := range map[string]Config{
		"both":      {Socket: "/unused", PublicKey: pub, ID52: id52.Encode(pub)},
		"short key": {Socket: "/unused", PublicKey: pub[:31]},
		"bad ID52":  {Socket: "/unused", ID52: "not-an-id52"},
		"hex":       {Socket: "/unused", ID52: strings.Repeat("ab", 32)},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(context.Background(), cfg); !errors.Is(err, signer.ErrBadKey) {
				t.Fatalf("got %v, want ErrBadKey", err)
			}
		})
	}
}

func TestAgentUnreachable(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	t.Run("no socket", func(t *testing.T) {
		_, err := New(context.Background(), Config{Socket: filepath.Join(t.TempDir(), "absent"), PublicKey: pub})
		if !errors.Is(err, signer.ErrUnavailable) {
			t.Fatalf("got %v, want ErrUnavailable", err)
		}
		if !strings.Contains(err.Error(), "SSH_AUTH_SOCK") {
			t.Errorf("error %q does not say to check SSH_AUTH_SOCK", err)
		}
	})
	t.Run("SSH_AUTH_SOCK unset", func(t *testing.T) {
		t.Setenv("SSH_AUTH_SOCK", "")
		_, err := New(context.Background(), Config{PublicKey: pub})
		if !errors.Is(err, signer.ErrUnavailable) || !strings.Contains(err.Error(), "SSH_AUTH_SOCK") {
			t.Fatalf("got %v, want ErrUnavailable naming SSH_AUTH_SOCK", err)
		}
	})
	t.Run("not an agent", func(t *testing.T) {
		// A listener that hangs up on every connection, like a stale
		// socket taken over by something else.
		sock := filepath.Join(t.TempDir(), "s")
		l, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		defer func() { l.Close(); <-done }()
		if _, err := Keys(context.Background(), sock); !errors.Is(err, signer.ErrUnavailable) {
			t.Fatalf("got %v, want ErrUnavailable", err)
		}
	})
}

func TestAgentGoneAfterNew(t *testing.T) {
	a := startAgent(t)
	key, pub := newKeyFile(t, "ed25519", "k")
	a.add(t, key)
	s := mustNew(t, Config{Socket: a.socket, PublicKey: pub})
	a.stop()
	_, err := s.Sign(context.Background(), []byte("m"))
	if !errors.Is(err, signer.ErrUnavailable) || !strings.Contains(err.Error(), "SSH_AUTH_SOCK") {
		t.Fatalf("Sign after the agent exited: got %v, want ErrUnavailable naming SSH_AUTH_SOCK", err)
	}
}

func TestKeyRemovedAfterNew(t *testing.T) {
	a := startAgent(t)
	key, pub := newKeyFile(t, "ed25519", "k")
	a.add(t, key)
	s := mustNew(t, Config{Socket: a.socket, PublicKey: pub})
	a.add(t, "-d", key+".pub")
	_, err := s.Sign(context.Background(), []byte("m"))
	if !errors.Is(err, signer.ErrBadKey) || !strings.Contains(err.Error(), "no longer in the agent") {
		t.Fatalf("Sign after ssh-add -d: got %v, want ErrBadKey saying the key is gone", err)
	}
}

func TestLockedAgent(t *testing.T) {
	a := startAgent(t)
	key, pub := newKeyFile(t, "ed25519", "k")
	a.add(t, key)
	s := mustNew(t, Config{Socket: a.socket, PublicKey: pub})

	conn, err := net.Dial("unix", a.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := agent.NewClient(conn).Lock([]byte("pass")); err != nil {
		t.Fatal(err)
	}
	_, err = s.Sign(context.Background(), []byte("m"))
	if !errors.Is(err, signer.ErrBadKey) || !strings.Contains(err.Error(), "ssh-add -X") {
		t.Fatalf("Sign with the agent locked: got %v, want ErrBadKey mentioning ssh-add -X", err)
	}
}

// OpenSSH's agent refuses a plain sign request for a key added with a
// destination constraint: such keys sign only SSH user authentications, on
// connections that ssh has bound to a host with session-bind@openssh.com.
// The key is still listed, so New succeeds and Sign is refused.
func TestRefusedDestinationConstrained(t *testing.T) {
	a := startAgent(t)
	key, pub := newKeyFile(t, "ed25519", "constrained")
	// ssh-add -h needs the destination's host key, from known_hosts.
	hostKey, _ := newKeyFile(t, "ed25519", "host")
	hostPub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	knownHosts := filepath.Join(t.TempDir(), "known_hosts")
	fields := strings.Fields(string(hostPub))
	if err := os.WriteFile(knownHosts, []byte("somehost "+fields[0]+" "+fields[1]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.add(t, "-H", knownHosts, "-h", "somehost", key)

	s := mustNew(t, Config{Socket: a.socket, PublicKey: pub})
	_, err = s.Sign(context.Background(), []byte("not an SSH login"))
	if !errors.Is(err, signer.ErrRefused) || !strings.Contains(err.Error(), "ssh-add -h") {
		t.Fatalf("Sign with a destination-constrained key: got %v, want ErrRefused mentioning ssh-add -h", err)
	}
	a.stop()
	if log := a.log.String(); !strings.Contains(log, "refusing use of destination-constrained key") {
		t.Errorf("ssh-agent's log does not show the refusal we expect:\n%s", log)
	}
}

// A key added with ssh-add -c needs the user's confirmation for each use,
// which the agent asks for with ssh-askpass. false(1) as askpass is a user
// who declines; a missing askpass program is refused the same way.
func TestRefusedConfirm(t *testing.T) {
	needTool(t, "ssh-agent")
	decline, err := exec.LookPath("false")
	if err != nil {
		t.Fatal(err)
	}
	for name, askpass := range map[string]string{
		"declined":   decline,
		"no askpass": filepath.Join(t.TempDir(), "no-such-askpass"),
	} {
		t.Run(name, func(t *testing.T) {
			a := startAgent(t, "SSH_ASKPASS="+askpass, "SSH_ASKPASS_REQUIRE=force")
			key, pub := newKeyFile(t, "ed25519", "confirm")
			a.add(t, "-c", key)

			s := mustNew(t, Config{Socket: a.socket, PublicKey: pub})
			_, err := s.Sign(context.Background(), []byte("needs confirmation"))
			if !errors.Is(err, signer.ErrRefused) || !strings.Contains(err.Error(), "ssh-add -c") {
				t.Fatalf("Sign with a confirm key: got %v, want ErrRefused mentioning ssh-add -c", err)
			}
		})
	}
}

func mustNew(t *testing.T, cfg Config) *Signer {
	t.Helper()
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
