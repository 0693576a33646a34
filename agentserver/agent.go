package agentserver

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/frostd/frostd/signer"
)

// ErrReadOnly is what the agent answers to requests that would change its
// keys or lock it: its one key is fixed when the server starts.
var ErrReadOnly = errors.New("agentserver: this agent serves one key, fixed when it started; it does not add, remove, lock or unlock keys (to offer another key, start another agent)")

// keyAgent is the agent.ExtendedAgent that ServeAgent drives: one key,
// read-only. It is shared by every connection, so it keeps no per-client
// state; the signer is safe for concurrent use.
type keyAgent struct {
	signer  signer.Signer
	pub     ed25519.PublicKey
	sshPub  ssh.PublicKey
	comment string
	timeout time.Duration
	ctx     context.Context // the server's; Close cancels it
	log     *slog.Logger
}

var _ agent.ExtendedAgent = (*keyAgent)(nil)

// List answers REQUEST_IDENTITIES with the one key.
func (a *keyAgent) List() ([]*agent.Key, error) {
	return []*agent.Key{{
		Format:  a.sshPub.Type(),
		Blob:    a.sshPub.Marshal(),
		Comment: a.comment,
	}}, nil
}

// Sign answers a SIGN_REQUEST without flags.
func (a *keyAgent) Sign(key ssh.PublicKey, data []byte) (*ssh.Signature, error) {
	return a.SignWithFlags(key, data, 0)
}

// SignWithFlags answers a SIGN_REQUEST. Flags select SHA-2 for RSA keys
// and mean nothing for Ed25519, so any flag is refused rather than
// ignored.
func (a *keyAgent) SignWithFlags(key ssh.PublicKey, data []byte, flags agent.SignatureFlags) (*ssh.Signature, error) {
	if !bytes.Equal(key.Marshal(), a.sshPub.Marshal()) {
		err := fmt.Errorf("agentserver: asked to sign with %s key %s, but this agent holds only %s",
			key.Type(), ssh.FingerprintSHA256(key), ssh.FingerprintSHA256(a.sshPub))
		a.log.Warn("ssh-agent sign request refused", "err", err)
		return nil, err
	}
	if flags != 0 {
		err := fmt.Errorf("agentserver: sign request with flags %#x refused: flags choose RSA signature hashes and are not defined for ssh-ed25519", uint32(flags))
		a.log.Warn("ssh-agent sign request refused", "err", err)
		return nil, err
	}

	ctx := a.ctx
	if a.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.timeout)
		defer cancel()
	}
	start := time.Now()
	sig, err := a.signer.Sign(ctx, data)
	if err == nil {
		err = signer.Verify(a.pub, data, sig)
		if err != nil {
			err = fmt.Errorf("agentserver: the signer's signature does not verify under its own key; not handing it out: %w", err)
		}
	}
	if err != nil {
		a.log.Error("ssh-agent signature failed", "bytes", len(data), "took", time.Since(start), "err", err)
		return nil, fmt.Errorf("agentserver: signing %d bytes: %w", len(data), err)
	}
	a.log.Info("ssh-agent signed", "bytes", len(data), "took", time.Since(start))
	return &ssh.Signature{Format: ssh.KeyAlgoED25519, Blob: sig}, nil
}

// Add, Remove, RemoveAll, Lock and Unlock are refused: see ErrReadOnly.
func (a *keyAgent) Add(k agent.AddedKey) error {
	return a.refuse("add a key", "comment", k.Comment)
}

func (a *keyAgent) Remove(key ssh.PublicKey) error {
	return a.refuse("remove a key", "fingerprint", ssh.FingerprintSHA256(key))
}

func (a *keyAgent) RemoveAll() error { return a.refuse("remove all keys") }

func (a *keyAgent) Lock([]byte) error { return a.refuse("lock the agent") }

func (a *keyAgent) Unlock([]byte) error { return a.refuse("unlock the agent") }

func (a *keyAgent) refuse(what string, attrs ...any) error {
	a.log.Warn("ssh-agent request refused: "+what, append(attrs, "err", ErrReadOnly)...)
	return fmt.Errorf("refused to %s: %w", what, ErrReadOnly)
}

// Signers returns the key as an ssh.Signer, for code that uses the agent
// in-process; the server never calls it.
func (a *keyAgent) Signers() ([]ssh.Signer, error) {
	s, err := ssh.NewSignerFromSigner(signer.CryptoSigner(a.signer, signer.WithContext(a.ctx), signer.WithTimeout(a.timeout)))
	if err != nil {
		return nil, fmt.Errorf("agentserver: %w", err)
	}
	return []ssh.Signer{s}, nil
}

// Extension answers every extension as unsupported, as the protocol
// allows. OpenSSH's ssh sends session-bind@openssh.com before each login
// and carries on when the agent does not support it.
func (a *keyAgent) Extension(name string, _ []byte) ([]byte, error) {
	a.log.Debug("ssh-agent extension not supported", "extension", name)
	return nil, agent.ErrExtensionUnsupported
}
