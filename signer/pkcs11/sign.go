//go:build cgo

package pkcs11

import (
	"context"
	"crypto/ed25519"
	"fmt"

	p11 "github.com/miekg/pkcs11"

	"github.com/frostd/frostd/signer"
)

// Sign asks the token for an Ed25519 signature over message on one of the
// pool's sessions.
func (s *Signer) Sign(ctx context.Context, message []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pkcs11: signing with %s: %w", s, err)
	}
	if err := signer.CheckMessageSize(message, s.maxMessage); err != nil {
		return nil, fmt.Errorf("pkcs11: %s (Config.MaxMessage): %w", s, err)
	}
	var sess *session
	select {
	case <-s.done:
		return nil, fmt.Errorf("pkcs11: %s is closed: %w", s, signer.ErrUnavailable)
	case <-ctx.Done():
		return nil, fmt.Errorf("pkcs11: waiting for a session on token %q: %w", s.token, ctx.Err())
	case sess = <-s.pool:
	}
	defer func() { s.pool <- sess }()

	sig, err := s.signWith(sess, message)
	if err != nil {
		return nil, err
	}
	// The token cannot be interrupted; a signature that arrives after the
	// caller gave up is not handed out.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pkcs11: signing with %s: %w", s, err)
	}
	if err := signer.Verify(s.pub, message, sig); err != nil {
		return nil, fmt.Errorf("pkcs11: token's signature does not verify under the public key object of %s: %w", s, err)
	}
	return sig, nil
}

// signWith signs on sess, opening it first if needed. A session that fails
// is closed, to be reopened on its next use.
func (s *Signer) signWith(sess *session, message []byte) ([]byte, error) {
	if !sess.open {
		if err := s.reopen(sess); err != nil {
			return nil, err
		}
	}
	c := s.mod.ctx
	err := c.SignInit(sess.h, []*p11.Mechanism{p11.NewMechanism(ckmEdDSA, nil)}, sess.key)
	var sig []byte
	if err == nil {
		sig, err = c.Sign(sess.h, message)
	}
	if err != nil {
		c.CloseSession(sess.h)
		sess.open = false
		return nil, explain(err, fmt.Sprintf("signing with %s", s))
	}
	if len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("pkcs11: %s returned a %d-byte signature, want 64 (is the key Ed448?): %w", s, len(sig), signer.ErrBadSignature)
	}
	return sig, nil
}

// reopen opens a session for a pool slot and finds the key in it, logging in
// again if the token has lost the login, as it does when the last session
// closes or the token is reinserted.
func (s *Signer) reopen(sess *session) error {
	c := s.mod.ctx
	h, err := c.OpenSession(s.slot, p11.CKF_SERIAL_SESSION)
	if err != nil {
		return explain(err, fmt.Sprintf("opening a session on token %q", s.token))
	}
	info, err := c.GetSessionInfo(h)
	if err == nil && info.State == p11.CKS_RO_PUBLIC_SESSION {
		if err = c.Login(h, p11.CKU_USER, s.pin); isCode(err, p11.CKR_USER_ALREADY_LOGGED_IN) {
			err = nil
		}
	}
	if err != nil {
		c.CloseSession(h)
		return explain(err, fmt.Sprintf("logging in to token %q again", s.token))
	}
	key, err := s.findPrivateKey(h)
	if err != nil {
		c.CloseSession(h)
		return err
	}
	sess.h, sess.key, sess.open = h, key, true
	return nil
}
