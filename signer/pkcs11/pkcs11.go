//go:build cgo

// Package pkcs11 is a frostd backend whose Ed25519 key lives inside an HSM
// or smart-card token, reached through the token's PKCS#11 module. The key
// is generated on the token and never leaves it; this process only asks
// the token to sign.
//
// # Setting up
//
// The token needs an Ed25519 key pair (PKCS#11 key type CKK_EC_EDWARDS),
// a private key and a public key object with the same label. [GenerateKey]
// makes one, so no other tool is needed; keys made by
// `pkcs11-tool --keypairgen --key-type EC:edwards25519` work too. With
// SoftHSM2, a software token for development and tests:
//
//	softhsm2-util --init-token --free --label frostd --pin 1234 --so-pin 5678
//	echo 1234 > pin && chmod 600 pin
//
//	cfg := pkcs11.Config{TokenLabel: "frostd", KeyLabel: "node-1", PINFile: "pin"}
//	pub, err := pkcs11.GenerateKey(cfg, "node-1") // once
//	s, err := pkcs11.New(ctx, cfg)
//	defer s.Close()
//	sig, err := s.Sign(ctx, message)
//
// Config.Module is the vendor's PKCS#11 library; it defaults to SoftHSM2's
// path on Debian and Ubuntu, [DefaultModule].
//
// # The PIN
//
// The user PIN comes from a file (Config.PINFile, one line; a trailing
// newline is ignored) or an environment variable (Config.PINEnv names it),
// never from a command-line flag, which other users can read in the
// process list, nor from a literal in a config file. Keep the file mode
// 0600.
//
// A PKCS#11 login holds for the whole process: every Signer on a token in
// this process shares it, and the token is logged out when the last of
// them is closed. A second Signer on a token that is already logged in
// must present the same PIN, or New refuses it.
//
// # Signing
//
// New reads the public key from the token, then makes one signature and
// checks it, so a public key object that does not match the private key
// fails at start. Each signature is also verified before Sign returns it.
//
// A Signer keeps a small pool of sessions (Config.Sessions) and is safe for
// concurrent use; calls beyond the pool wait for a free session or for
// their context to end. A PKCS#11 call cannot be interrupted, so Sign checks
// its context before and after the token signs, and returns an error
// wrapping ctx.Err() if it has ended. A session that fails is closed and
// reopened, with a new login if the token lost it, on its next use.
//
// Close logs out and, when no other Signer in the process uses the module,
// finalizes and unloads it.
//
// # Errors
//
// Errors wrap the signer sentinels and say what to do:
//
//   - signer.ErrUnavailable: the module cannot be loaded, the token is not
//     present, or the device failed.
//   - signer.ErrRefused: a wrong or locked PIN, or a key that may not sign.
//   - signer.ErrBadKey: no Ed25519 key with that label, several of them,
//     or a public key object that does not match.
//   - signer.ErrMessageTooLarge: over Config.MaxMessage, or over the token's
//     own limit. SoftHSM2 has none; hardware tokens often do.
package pkcs11

import (
	"context"
	"crypto/ed25519"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"

	p11 "github.com/miekg/pkcs11"

	"github.com/frostd/frostd/signer"
)

// PKCS#11 3.0 values that github.com/miekg/pkcs11 v1.1.2 does not define.
const (
	ckkECEdwards           = 0x40   // CKK_EC_EDWARDS: key type of Ed25519 and Ed448 keys
	ckmECEdwardsKeyPairGen = 0x1055 // CKM_EC_EDWARDS_KEY_PAIR_GEN
	ckmEdDSA               = 0x1057 // CKM_EDDSA: pure EdDSA; no parameters means Ed25519
)

// Signer is a signer.Signer whose private key stays on a PKCS#11 token.
// It is safe for concurrent use. Close it when done.
type Signer struct {
	mod        *module
	slot       uint
	token      string
	label      string
	pin        string // for logging in again if the token loses the login
	pub        ed25519.PublicKey
	maxMessage int

	pool      chan *session // Sessions slots, open or not
	done      chan struct{} // closed by Close
	closeOnce sync.Once
	closeErr  error
}

var _ signer.Signer = (*Signer)(nil)

// session is one slot of the pool. Only the goroutine that took it from
// the pool touches it.
type session struct {
	h    p11.SessionHandle
	key  p11.ObjectHandle // the private key as this session sees it
	open bool
}

// New opens the token that cfg names, logs in, and finds the key. Close the
// Signer to log out and release the module.
func New(ctx context.Context, cfg Config) (*Signer, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pkcs11: opening key %q: %w", cfg.KeyLabel, err)
	}
	if cfg.TokenLabel == "" || cfg.KeyLabel == "" {
		return nil, errors.New("pkcs11: Config.TokenLabel and Config.KeyLabel must both be set")
	}
	if cfg.Sessions < 0 || cfg.MaxMessage < 0 {
		return nil, errors.New("pkcs11: Config.Sessions and Config.MaxMessage must not be negative")
	}
	if cfg.Sessions == 0 {
		cfg.Sessions = DefaultSessions
	}
	pin, err := readPIN(cfg)
	if err != nil {
		return nil, err
	}
	mod, err := openModule(cfg.Module)
	if err != nil {
		return nil, err
	}
	slot, err := mod.findToken(cfg.TokenLabel)
	if err != nil {
		mod.release()
		return nil, err
	}
	s := &Signer{
		mod:        mod,
		slot:       slot,
		token:      cfg.TokenLabel,
		label:      cfg.KeyLabel,
		pin:        pin,
		maxMessage: cfg.MaxMessage,
		pool:       make(chan *session, cfg.Sessions),
		done:       make(chan struct{}),
	}

	first := new(session)
	h, err := mod.ctx.OpenSession(slot, p11.CKF_SERIAL_SESSION)
	if err != nil {
		mod.release()
		return nil, explain(err, fmt.Sprintf("opening a session on token %q", s.token))
	}
	if err := mod.login(h, slot, s.token, pin); err != nil {
		mod.ctx.CloseSession(h)
		mod.release()
		return nil, err
	}
	first.h, first.open = h, true
	fail := func(err error) (*Signer, error) {
		s.pool <- first
		for range cap(s.pool) - 1 {
			s.pool <- new(session)
		}
		return nil, errors.Join(err, s.Close())
	}
	if first.key, err = s.findPrivateKey(h); err != nil {
		return fail(err)
	}
	if s.pub, err = s.readPublicKey(h, first.key); err != nil {
		return fail(err)
	}
	probe := []byte("frostd pkcs11 probe: does the public key object match the private key?")
	sig, err := s.signWith(first, probe)
	if err != nil {
		return fail(err)
	}
	if err := signer.Verify(s.pub, probe, sig); err != nil {
		return fail(fmt.Errorf("pkcs11: the public key object labelled %q on token %q does not match the private key with that label "+
			"(two key pairs share the label? give each its own, or regenerate with GenerateKey): %w", s.label, s.token, signer.ErrBadKey))
	}

	// The other sessions open on first use.
	s.pool <- first
	for range cap(s.pool) - 1 {
		s.pool <- new(session)
	}
	return s, nil
}

// PublicKey returns the Ed25519 public key read from the token.
func (s *Signer) PublicKey() ed25519.PublicKey {
	return append(ed25519.PublicKey(nil), s.pub...)
}

// String names the key, for logs.
func (s *Signer) String() string {
	return fmt.Sprintf("PKCS#11 key %q on token %q", s.label, s.token)
}

// Close waits for signatures in flight, logs out of the token unless
// another Signer in this process still uses the login, closes the sessions,
// and finalizes the module when no Signer uses it any more. Sign fails with
// signer.ErrUnavailable afterwards. Calling Close again returns the first
// call's result.
func (s *Signer) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		var sessions []*session
		for range cap(s.pool) {
			sessions = append(sessions, <-s.pool)
		}
		var errs []error
		var open *session
		for _, ss := range sessions {
			if ss.open {
				open = ss
				break
			}
		}
		if open != nil {
			errs = append(errs, s.mod.logout(open.h, s.slot))
		} else {
			// With no session of ours left, the token already logged us
			// out when the last one closed; only the count is left.
			s.mod.forgetLogin(s.slot)
		}
		for _, ss := range sessions {
			if ss.open {
				if err := s.mod.ctx.CloseSession(ss.h); err != nil {
					errs = append(errs, fmt.Errorf("pkcs11: closing a session on token %q: %w", s.token, err))
				}
				ss.open = false
			}
		}
		errs = append(errs, s.mod.release())
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// samePIN compares PINs without leaking, through timing, how much of a
// wrong one was right.
func samePIN(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
