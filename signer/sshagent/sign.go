package sshagent

import (
	"context"
	"fmt"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/frostd/frostd/signer"
)

// Sign asks the agent for an Ed25519 signature over message, on a connection
// of its own that is closed when ctx ends.
func (s *Signer) Sign(ctx context.Context, message []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sshagent: signing with %s: %w", s.name, err)
	}
	if err := signer.CheckMessageSize(message, MaxMessage); err != nil {
		return nil, fmt.Errorf("sshagent: ssh-agent takes requests up to 256 KiB, sign a digest instead: %w", err)
	}
	select {
	case s.conns <- struct{}{}:
		defer func() { <-s.conns }()
	case <-ctx.Done():
		return nil, fmt.Errorf("sshagent: waiting for a connection to the agent: %w", ctx.Err())
	}
	return s.sign(ctx, message)
}

// sign makes one request, without the size check, so tests can show that
// the agent really drops larger ones.
func (s *Signer) sign(ctx context.Context, message []byte) ([]byte, error) {
	conn, err := dial(ctx, s.socket)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// Closing the connection unblocks the read or write in flight, so a
	// cancelled call returns at once even if the agent never answers, for
	// example while it waits for a user to confirm.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	client := agent.NewClient(conn)
	sig, err := client.SignWithFlags(s.sshPub, message, 0)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("sshagent: signing with %s: %w", s.name, ctx.Err())
		}
		return nil, s.whyNoSignature(ctx, client, err)
	}
	if sig.Format != ssh.KeyAlgoED25519 {
		return nil, fmt.Errorf("sshagent: agent answered with a %q signature for Ed25519 key %s: %w", sig.Format, s.name, signer.ErrBadSignature)
	}
	if err := signer.Verify(s.pub, message, sig.Blob); err != nil {
		return nil, fmt.Errorf("sshagent: agent's signature does not verify under key %s (is something other than ssh-agent listening at %s?): %w", s.name, s.socket, err)
	}
	return sig.Blob, nil
}

// whyNoSignature tells apart the reasons a sign request can fail. The agent
// protocol answers every refusal with the same SSH_AGENT_FAILURE, so it asks
// the agent, on the same connection, whether it still holds the key.
func (s *Signer) whyNoSignature(ctx context.Context, client agent.ExtendedAgent, signErr error) error {
	keys, err := client.List()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("sshagent: signing with %s: %w", s.name, ctx.Err())
		}
		return fmt.Errorf("sshagent: the agent at %s hung up while signing with %s (check that SSH_AUTH_SOCK points at a running ssh-agent): %w: %w",
			s.socket, s.name, signErr, signer.ErrUnavailable)
	}
	for _, k := range keys {
		if pub, ok := ed25519Of(k); ok && pub.Equal(s.pub) {
			return fmt.Errorf("sshagent: the agent at %s holds key %s but refused to sign with it; "+
				"OpenSSH refuses keys added with destination constraints (ssh-add -h), which sign only SSH logins, "+
				"and keys added with confirmation (ssh-add -c) when the user declines or no ssh-askpass can ask: "+
				"add the key again without -h or -c: %w: %w",
				s.socket, s.name, signErr, signer.ErrRefused)
		}
	}
	return fmt.Errorf("sshagent: key %s is no longer in the agent at %s (it was removed or expired (ssh-add -t), the agent restarted, or the agent is locked (unlock it with ssh-add -X); add it again with ssh-add): %w: %w",
		s.name, s.socket, signErr, signer.ErrBadKey)
}
