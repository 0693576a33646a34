package sshagent

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/frostd/frostd/signer"
)

// fakeAgent serves an in-memory keyring over a Unix socket, with a hook
// that replaces signing, for behaviour a real agent will not show on
// demand: never answering, or answering with the wrong key.
type fakeAgent struct {
	agent.ExtendedAgent
	sign func(key ssh.PublicKey, data []byte) (*ssh.Signature, error)
}

func (f *fakeAgent) Sign(key ssh.PublicKey, data []byte) (*ssh.Signature, error) {
	return f.sign(key, data)
}

func (f *fakeAgent) SignWithFlags(key ssh.PublicKey, data []byte, _ agent.SignatureFlags) (*ssh.Signature, error) {
	return f.sign(key, data)
}

// serveFake starts a fake agent holding priv and returns its socket. The
// agent and every connection it served are gone when the test ends.
func serveFake(t *testing.T, priv ed25519.PrivateKey, sign func(ssh.PublicKey, []byte) (*ssh.Signature, error)) string {
	t.Helper()
	keyring := agent.NewKeyring().(agent.ExtendedAgent)
	if err := keyring.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
		t.Fatal(err)
	}
	f := &fakeAgent{ExtendedAgent: keyring, sign: sign}
	sock := filepath.Join(t.TempDir(), "fake.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = agent.ServeAgent(f, c)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	return sock
}

// A cancelled context ends a call the agent never answers, as when it waits
// for a user to confirm.
func TestCancelWhileAgentDoesNotAnswer(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	asked := make(chan struct{})
	release := make(chan struct{})
	sock := serveFake(t, priv, func(ssh.PublicKey, []byte) (*ssh.Signature, error) {
		close(asked)
		<-release
		return nil, errors.New("released")
	})
	// Registered after serveFake, so it runs first: the fake's handler
	// must return before its connection goroutines can be waited for.
	t.Cleanup(func() { close(release) })
	s := mustNew(t, Config{Socket: sock, PublicKey: pub})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	result := make(chan error, 1)
	go func() {
		_, err := s.Sign(ctx, []byte("never answered"))
		result <- err
	}()
	<-asked // the request is at the agent, which is not answering
	cancel()
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Fatalf("Sign cancelled in flight: got %v, want an error wrapping context.Canceled", err)
	}
}

// A call waiting for one of the MaxConnections slots gives up when its
// context ends.
func TestCancelWhileWaitingForConnection(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	sock := serveFake(t, priv, func(ssh.PublicKey, []byte) (*ssh.Signature, error) {
		return nil, errors.New("not reached")
	})
	s := mustNew(t, Config{Socket: sock, PublicKey: pub})
	for range MaxConnections {
		s.conns <- struct{}{}
	}
	defer func() {
		for range MaxConnections {
			<-s.conns
		}
	}()

	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() {
		_, err := s.Sign(ctx, []byte("waits"))
		result <- err
	}()
	cancel()
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Fatalf("Sign with every connection busy: got %v, want an error wrapping context.Canceled", err)
	}
}

func TestAgentSignsWithWrongKey(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	_, other, _ := ed25519.GenerateKey(nil)
	sock := serveFake(t, priv, func(_ ssh.PublicKey, data []byte) (*ssh.Signature, error) {
		return &ssh.Signature{Format: ssh.KeyAlgoED25519, Blob: ed25519.Sign(other, data)}, nil
	})
	s := mustNew(t, Config{Socket: sock, PublicKey: pub})
	if _, err := s.Sign(context.Background(), []byte("m")); !errors.Is(err, signer.ErrBadSignature) {
		t.Fatalf("agent answering with another key's signature: got %v, want ErrBadSignature", err)
	}
}

func TestAgentSignsWithWrongAlgorithm(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	sock := serveFake(t, priv, func(_ ssh.PublicKey, data []byte) (*ssh.Signature, error) {
		return &ssh.Signature{Format: ssh.KeyAlgoRSASHA256, Blob: ed25519.Sign(priv, data)}, nil
	})
	s := mustNew(t, Config{Socket: sock, PublicKey: pub})
	if _, err := s.Sign(context.Background(), []byte("m")); !errors.Is(err, signer.ErrBadSignature) {
		t.Fatalf("agent answering with an RSA signature format: got %v, want ErrBadSignature", err)
	}
}
