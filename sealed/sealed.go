// Package sealed keeps a participant's secrets at rest (its key share, the
// data key of its nonce store) encrypted with age (filippo.io/age).
//
// A [Key] says how a secret is sealed. Set exactly one of its fields:
//
//   - Passphrase: age's scrypt recipient. The work factor defaults to age's
//     (2^18, about a second); tests lower it with ScryptWorkFactor.
//   - IdentityFile: an age identity file, as written by age-keygen or
//     [GenerateIdentityFile]. Files are sealed to the recipient derived from
//     its first identity and opened with any identity in it. Keep the file
//     off the disk that holds the sealed files, or the seal protects nothing.
//   - InsecurePlaintext: no encryption, for tests only. Such files begin with
//     a header that says so, and a file sealed one way never opens the other
//     way: reading a plaintext file with a passphrase or identity configured,
//     or an encrypted file in plaintext mode, fails with [ErrModeMismatch]
//     instead of silently downgrading.
//
// [WriteFile] and [ReadFile] seal to and open from a file. WriteFile is
// atomic (temporary file, fsync, rename, fsync of the directory) and writes
// mode 0600, so a crash leaves either the old file or the new one. [Seal] and
// [Unseal] do the same on byte slices, for secrets kept inside another file.
//
// The formats are age's own (binary, or ASCII armor when reading), so the age
// command line can open a sealed file: age -d -i key.txt share.age.
//
// Errors say what went wrong and can be tested with errors.Is: [ErrWrongKey]
// for a passphrase or identity that does not open the file, [ErrModeMismatch]
// for plaintext against encrypted, [ErrDamaged] for a file that is neither
// or does not decrypt past its header.
package sealed

import (
	"errors"
	"fmt"
)

// DefaultScryptWorkFactor is the scrypt work factor (log2 N) used for a
// Passphrase when Key.ScryptWorkFactor is zero: age's default.
const DefaultScryptWorkFactor = 18

// maxAcceptedWorkFactor is the highest work factor Unseal accepts unless the
// Key asks for more: age's own cap, about 15 s of work.
const maxAcceptedWorkFactor = 22

// Key says how secrets are sealed at rest. Set exactly one of Passphrase,
// IdentityFile and InsecurePlaintext.
type Key struct {
	// Passphrase seals with age's scrypt recipient.
	Passphrase string

	// ScryptWorkFactor is log2 of scrypt's N for Passphrase, 1 to 30; zero
	// means DefaultScryptWorkFactor. It applies when sealing; when opening,
	// files are accepted up to max(22, ScryptWorkFactor). Tests use a low one.
	ScryptWorkFactor int

	// IdentityFile is the path of an age identity file (X25519 or hybrid).
	IdentityFile string

	// InsecurePlaintext stores secrets unencrypted, behind a header that
	// says so. For tests only.
	InsecurePlaintext bool
}

// Sentinel errors, for errors.Is.
var (
	// ErrWrongKey: the passphrase or identity does not open the file.
	ErrWrongKey = errors.New("wrong passphrase or identity")
	// ErrModeMismatch: the file is plaintext and a key is configured, or the
	// file is encrypted and InsecurePlaintext is configured.
	ErrModeMismatch = errors.New("sealed file and configured key disagree about encryption")
	// ErrDamaged: the data is not a sealed file, or it is corrupted.
	ErrDamaged = errors.New("sealed data is damaged or not a sealed file")
	// ErrNoKey: the Key sets none, or more than one, of its modes.
	ErrNoKey = errors.New("invalid sealing key")
)

// Validate checks that exactly one way of sealing is set.
func (k Key) Validate() error {
	n := 0
	for _, set := range []bool{k.Passphrase != "", k.IdentityFile != "", k.InsecurePlaintext} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%w: set exactly one of Passphrase, IdentityFile and InsecurePlaintext (%d are set)", ErrNoKey, n)
	}
	if k.ScryptWorkFactor < 0 || k.ScryptWorkFactor > 30 {
		return fmt.Errorf("%w: ScryptWorkFactor %d is outside 1..30 (0 means the default, %d)", ErrNoKey, k.ScryptWorkFactor, DefaultScryptWorkFactor)
	}
	return nil
}

// String describes the key without revealing the passphrase, so that a Key
// printed in a log or an error leaks nothing.
func (k Key) String() string {
	switch {
	case k.Passphrase != "" && k.IdentityFile == "" && !k.InsecurePlaintext:
		return "sealed.Key{passphrase}"
	case k.IdentityFile != "" && k.Passphrase == "" && !k.InsecurePlaintext:
		return fmt.Sprintf("sealed.Key{identity file %q}", k.IdentityFile)
	case k.InsecurePlaintext && k.Passphrase == "" && k.IdentityFile == "":
		return "sealed.Key{INSECURE PLAINTEXT}"
	default:
		return "sealed.Key{invalid}"
	}
}

// GoString is String, so that %#v does not print the passphrase either.
func (k Key) GoString() string { return k.String() }

func (k Key) workFactor() int {
	if k.ScryptWorkFactor == 0 {
		return DefaultScryptWorkFactor
	}
	return k.ScryptWorkFactor
}
