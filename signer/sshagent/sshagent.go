// Package sshagent is a frostd backend whose Ed25519 key lives in a running
// ssh-agent: this process asks the agent for each signature and never sees
// the private key.
//
// # Setting up
//
// Any agent that speaks the SSH agent protocol should do (gpg-agent with
// enable-ssh-support, a hardware-backed agent); the tests run against
// OpenSSH's ssh-agent. Load an Ed25519 key into it the usual way:
//
//	eval "$(ssh-agent)"   # sets SSH_AUTH_SOCK
//	ssh-add ~/.ssh/id_ed25519
//
// Then pick the key by its public key or by its ID52 (see package id52):
//
//	s, err := sshagent.New(ctx, sshagent.Config{ID52: "i66fo538..."})
//	sig, err := s.Sign(ctx, message)
//
// Config.Socket names the agent's socket; when it is empty, New reads
// SSH_AUTH_SOCK. [Keys] lists the Ed25519 keys an agent holds, and New's
// error lists them too when no key was chosen or the chosen one is missing.
//
// # What the agent signs
//
// The agent makes a plain RFC 8032 Ed25519 signature over exactly the
// message, which crypto/ed25519.Verify accepts; SSH adds no framing to
// Ed25519 signatures. Every signature is verified before Sign returns it,
// so an agent that answers with another key's signature gives an error
// wrapping signer.ErrBadSignature instead of a bad signature.
//
// # Limits and errors
//
// OpenSSH's ssh-agent drops any request over 256 KiB, so Sign refuses
// messages over [MaxMessage] with an error wrapping signer.ErrMessageTooLarge.
// Sign a digest of larger data instead.
//
// Every Sign call opens its own connection to the agent and closes it when
// the call returns, so a Signer is safe for concurrent use and a cancelled
// context aborts a call in flight by closing its connection. At most
// [MaxConnections] calls talk to the agent at once; the agent answers one
// request at a time anyway.
//
// Errors wrap the signer sentinels:
//
//   - signer.ErrUnavailable: no agent at the socket, or it hung up. Check
//     that SSH_AUTH_SOCK points at a running agent.
//   - signer.ErrBadKey: the key is not in the agent (add it with ssh-add),
//     or was removed from it since New, or the agent is locked (ssh-add -x).
//   - signer.ErrRefused: the agent holds the key and declined to sign. With
//     OpenSSH this happens to keys added with destination constraints
//     (ssh-add -h), which sign only SSH user authentications on connections
//     bound to a host, and to keys added with confirmation (ssh-add -c) whose
//     use was declined or could not be asked about (no ssh-askpass). Add the
//     key again without those flags for frostd's use.
package sshagent

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/signer"
)

// MaxMessage is the largest message Sign sends to the agent.
//
// OpenSSH's ssh-agent closes the connection on a request over 256 KiB
// (AGENT_MAX_LEN). A sign request for an Ed25519 key spends 64 bytes of that
// on framing: 1 byte of message type, the 51-byte key blob with its 4-byte
// length, the data's 4-byte length and 4 bytes of flags. Other agents may
// have limits of their own.
const MaxMessage = 256<<10 - 64

// MaxConnections is how many connections one Signer opens to the agent at
// once; further Sign calls wait for a free one, or for their context to end.
const MaxConnections = 16

// Config says which agent and which key a Signer uses.
type Config struct {
	// Socket is the path of the agent's Unix socket. Empty means the
	// SSH_AUTH_SOCK environment variable, read once by New.
	Socket string

	// PublicKey selects the key by its 32-byte Ed25519 public key.
	PublicKey ed25519.PublicKey

	// ID52 selects the key by its ID52. Set PublicKey or ID52, not both.
	ID52 string
}

// Signer is a signer.Signer whose private key stays inside an ssh-agent.
// It is safe for concurrent use and needs no closing.
type Signer struct {
	socket string
	pub    ed25519.PublicKey
	sshPub ssh.PublicKey
	name   string // how errors name the key: its ID52 and SSH fingerprint
	conns  chan struct{}
}

var _ signer.Signer = (*Signer)(nil)

// New returns a Signer for the key that cfg selects. It connects to the agent
// once to check that the key is there, so a wrong socket or a missing key
// fails here rather than at the first Sign.
func New(ctx context.Context, cfg Config) (*Signer, error) {
	socket, err := socketPath(cfg.Socket)
	if err != nil {
		return nil, err
	}
	pub, err := wantedKey(cfg)
	if err != nil {
		return nil, err
	}
	s := &Signer{socket: socket, conns: make(chan struct{}, MaxConnections)}

	held, err := Keys(ctx, socket)
	if err != nil {
		return nil, err
	}
	if pub == nil {
		return nil, fmt.Errorf("sshagent: no key chosen: set Config.ID52 or Config.PublicKey to one of the agent's Ed25519 keys%s: %w",
			describe(held), signer.ErrBadKey)
	}
	s.pub = pub
	s.sshPub, err = ssh.NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("sshagent: %w: %w", err, signer.ErrBadKey)
	}
	s.name = keyName(pub)
	for _, k := range held {
		if k.PublicKey.Equal(pub) {
			return s, nil
		}
	}
	return nil, fmt.Errorf("sshagent: key %s is not in the ssh-agent at %s (add it with ssh-add, or choose another key%s): %w",
		s.name, socket, describe(held), signer.ErrBadKey)
}

// PublicKey returns the Ed25519 public key of the agent key.
func (s *Signer) PublicKey() ed25519.PublicKey {
	return append(ed25519.PublicKey(nil), s.pub...)
}

// String names the key and the agent, for logs.
func (s *Signer) String() string {
	return fmt.Sprintf("ssh-agent key %s at %s", s.name, s.socket)
}

// Key is an Ed25519 key that an agent holds.
type Key struct {
	PublicKey ed25519.PublicKey
	Comment   string // what ssh-add recorded, usually the key file's comment
}

// ID52 returns the key's ID52, the name New's Config.ID52 takes.
func (k Key) ID52() string { return id52.Encode(k.PublicKey) }

// Keys lists the Ed25519 keys in the agent at socket, or at SSH_AUTH_SOCK
// when socket is empty. Keys of other types, and certificates, are left
// out.
func Keys(ctx context.Context, socket string) ([]Key, error) {
	socket, err := socketPath(socket)
	if err != nil {
		return nil, err
	}
	conn, err := dial(ctx, socket)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	all, err := agent.NewClient(conn).List()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("sshagent: listing keys in the agent at %s: %w", socket, ctx.Err())
		}
		return nil, fmt.Errorf("sshagent: listing keys in the agent at %s (is SSH_AUTH_SOCK a running ssh-agent?): %w: %w",
			socket, err, signer.ErrUnavailable)
	}
	var keys []Key
	for _, k := range all {
		if pub, ok := ed25519Of(k); ok {
			keys = append(keys, Key{PublicKey: pub, Comment: k.Comment})
		}
	}
	return keys, nil
}

func ed25519Of(k *agent.Key) (ed25519.PublicKey, bool) {
	if k.Format != ssh.KeyAlgoED25519 {
		return nil, false
	}
	parsed, err := ssh.ParsePublicKey(k.Blob)
	if err != nil {
		return nil, false
	}
	cpk, ok := parsed.(ssh.CryptoPublicKey)
	if !ok {
		return nil, false
	}
	pub, ok := cpk.CryptoPublicKey().(ed25519.PublicKey)
	return pub, ok && len(pub) == ed25519.PublicKeySize
}

func socketPath(socket string) (string, error) {
	if socket != "" {
		return socket, nil
	}
	if socket = os.Getenv("SSH_AUTH_SOCK"); socket != "" {
		return socket, nil
	}
	return "", fmt.Errorf("sshagent: no agent socket: SSH_AUTH_SOCK is not set and Config.Socket is empty (start an agent with `eval \"$(ssh-agent)\"` and add the key with ssh-add): %w",
		signer.ErrUnavailable)
}

func wantedKey(cfg Config) (ed25519.PublicKey, error) {
	switch {
	case cfg.PublicKey != nil && cfg.ID52 != "":
		return nil, fmt.Errorf("sshagent: Config sets both PublicKey and ID52; set one: %w", signer.ErrBadKey)
	case cfg.ID52 != "":
		pub, err := id52.Decode(cfg.ID52)
		if err != nil {
			return nil, fmt.Errorf("sshagent: Config.ID52: %w", err)
		}
		return pub, nil
	case cfg.PublicKey != nil:
		if len(cfg.PublicKey) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("sshagent: Config.PublicKey is %d bytes, want %d: %w",
				len(cfg.PublicKey), ed25519.PublicKeySize, signer.ErrBadKey)
		}
		return append(ed25519.PublicKey(nil), cfg.PublicKey...), nil
	}
	return nil, nil
}

func dial(ctx context.Context, socket string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("sshagent: connecting to the agent at %s: %w", socket, ctx.Err())
		}
		return nil, fmt.Errorf("sshagent: cannot reach an ssh-agent at %s (check that SSH_AUTH_SOCK points at a running agent): %w: %w",
			socket, err, signer.ErrUnavailable)
	}
	return conn, nil
}

// keyName names pub the two ways an operator may know it: by ID52, and by
// the SHA256 fingerprint that ssh-add -l prints.
func keyName(pub ed25519.PublicKey) string {
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return id52.Encode(pub)
	}
	return fmt.Sprintf("%s (%s)", id52.Encode(pub), ssh.FingerprintSHA256(sshPub))
}

// describe lists keys for an error message.
func describe(keys []Key) string {
	if len(keys) == 0 {
		return "; the agent holds no Ed25519 keys"
	}
	var b strings.Builder
	b.WriteString("; the agent holds")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %s", keyName(k.PublicKey))
		if k.Comment != "" {
			fmt.Fprintf(&b, " %q", k.Comment)
		}
	}
	return b.String()
}
