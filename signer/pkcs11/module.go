//go:build cgo

package pkcs11

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	p11 "github.com/miekg/pkcs11"

	"github.com/frostd/frostd/signer"
)

// A PKCS#11 module is state shared by the whole process: C_Initialize and
// C_Finalize act for every user of the library, and a login holds for all
// of the process's sessions with a token. module counts its users, so that
// closing one Signer neither finalizes the library nor logs out the token
// under another, and GenerateKey can run while a Signer is open.
type module struct {
	path  string // after symlinks, so two spellings share one module
	ctx   *p11.Ctx
	owned bool // this package initialized it, so this package finalizes it

	refs int // guarded by modules.Mutex

	mu     sync.Mutex
	logins map[uint]*login // by slot
}

type login struct {
	users int
	pin   string
}

var modules struct {
	sync.Mutex
	byPath map[string]*module
}

// openModule loads and initializes the module at path, or shares the one
// already loaded. Each call needs one release.
func openModule(path string) (*module, error) {
	if path == "" {
		path = DefaultModule
	}
	if _, err := os.Stat(path); err != nil {
		hint := "set Config.Module to your HSM vendor's PKCS#11 library"
		if path == DefaultModule {
			hint = "install SoftHSM2 with `apt-get install softhsm2`, or " + hint
		}
		return nil, fmt.Errorf("pkcs11: no PKCS#11 module at %s (%s): %w: %w", path, hint, err, signer.ErrUnavailable)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		real = path
	}

	modules.Lock()
	defer modules.Unlock()
	if m := modules.byPath[real]; m != nil {
		m.refs++
		return m, nil
	}
	ctx := p11.New(real)
	if ctx == nil {
		return nil, fmt.Errorf("pkcs11: cannot load %s as a PKCS#11 module (it is not a shared library for this machine, or has no C_GetFunctionList): %w",
			path, signer.ErrUnavailable)
	}
	owned := true
	if err := ctx.Initialize(); isCode(err, p11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		owned = false // someone else in this process did; they finalize it
	} else if err != nil {
		ctx.Destroy()
		return nil, fmt.Errorf("pkcs11: initializing module %s (for SoftHSM2, check that SOFTHSM2_CONF names a readable config whose tokendir exists): %w: %w",
			path, err, signer.ErrUnavailable)
	}
	m := &module{path: real, ctx: ctx, owned: owned, refs: 1, logins: make(map[uint]*login)}
	if modules.byPath == nil {
		modules.byPath = make(map[string]*module)
	}
	modules.byPath[real] = m
	return m, nil
}

// release drops one use of the module, and finalizes and unloads it after
// the last.
func (m *module) release() error {
	modules.Lock()
	defer modules.Unlock()
	m.refs--
	if m.refs > 0 {
		return nil
	}
	delete(modules.byPath, m.path)
	var err error
	if m.owned {
		if err = m.ctx.Finalize(); err != nil {
			err = fmt.Errorf("pkcs11: finalizing module %s: %w", m.path, err)
		}
	}
	m.ctx.Destroy()
	return err
}

// findToken returns the slot holding the token labelled label.
func (m *module) findToken(label string) (uint, error) {
	slots, err := m.ctx.GetSlotList(true)
	if err != nil {
		return 0, explain(err, fmt.Sprintf("listing the slots of %s", m.path))
	}
	var found []uint
	var labels []string
	for _, slot := range slots {
		info, err := m.ctx.GetTokenInfo(slot)
		if err != nil || info.Flags&p11.CKF_TOKEN_INITIALIZED == 0 {
			continue
		}
		// Labels are padded to 32 bytes with spaces, by some tokens with NULs.
		got := strings.TrimRight(info.Label, " \x00")
		labels = append(labels, got)
		if got == label {
			found = append(found, slot)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return 0, fmt.Errorf("pkcs11: no token labelled %q in %s (tokens present: %q); plug the token in or fix Config.TokenLabel; "+
			"for SoftHSM2, check SOFTHSM2_CONF or create the token with `softhsm2-util --init-token --free --label %s`: %w",
			label, m.path, labels, label, signer.ErrUnavailable)
	default:
		return 0, fmt.Errorf("pkcs11: %d tokens are labelled %q in %s; give each token its own label: %w",
			len(found), label, m.path, signer.ErrBadKey)
	}
}

// login logs the process in to the token in slot as its user, unless it
// already is. The token checks the PIN only on the first login, so a later
// one must bring the same PIN, or it is refused here.
func (m *module) login(h p11.SessionHandle, slot uint, token, pin string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.logins[slot]; l != nil {
		if !samePIN(l.pin, pin) {
			return fmt.Errorf("pkcs11: wrong PIN for token %q: this process is logged in to it with another PIN "+
				"(check Config.PINFile or Config.PINEnv): %w", token, signer.ErrRefused)
		}
		// The token drops the login when the process's last session with
		// it closes, for example after it was unplugged; log in again then.
		if info, err := m.ctx.GetSessionInfo(h); err == nil && info.State == p11.CKS_RO_PUBLIC_SESSION {
			if err := m.ctx.Login(h, p11.CKU_USER, pin); err != nil && !isCode(err, p11.CKR_USER_ALREADY_LOGGED_IN) {
				return explain(err, fmt.Sprintf("logging in to token %q again", token))
			}
		}
		l.users++
		return nil
	}
	if err := m.ctx.Login(h, p11.CKU_USER, pin); err != nil && !isCode(err, p11.CKR_USER_ALREADY_LOGGED_IN) {
		return explain(err, fmt.Sprintf("logging in to token %q", token))
	}
	m.logins[slot] = &login{users: 1, pin: pin}
	return nil
}

// logout drops one user of the login to slot, and logs out after the last,
// using session h.
func (m *module) logout(h p11.SessionHandle, slot uint) error {
	if !m.dropLogin(slot) {
		return nil
	}
	if err := m.ctx.Logout(h); err != nil && !isCode(err, p11.CKR_USER_NOT_LOGGED_IN) {
		return fmt.Errorf("pkcs11: logging out: %w", err)
	}
	return nil
}

// forgetLogin drops one user of the login to slot without logging out, for
// a user that has no session left to log out with.
func (m *module) forgetLogin(slot uint) { m.dropLogin(slot) }

// dropLogin reports whether the last user of the login to slot left.
func (m *module) dropLogin(slot uint) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.logins[slot]
	if l == nil {
		return false
	}
	if l.users--; l.users > 0 {
		return false
	}
	delete(m.logins, slot)
	return true
}

func isCode(err error, code uint) bool {
	var e p11.Error
	return errors.As(err, &e) && uint(e) == code
}
