package sealed

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// plaintextHeader starts every file written with InsecurePlaintext. It is
// not a valid age header, so no age tool mistakes it for an encrypted file.
const plaintextHeader = "frostd-sealed/insecure-plaintext/v1: NOT ENCRYPTED, for tests only\n"

const (
	ageMagic   = "age-encryption.org/"
	armorMagic = armor.Header
)

// Seal encrypts data as k says and returns the sealed bytes.
func Seal(data []byte, k Key) ([]byte, error) {
	b, err := seal(data, k)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	return b, nil
}

// Unseal opens bytes made by Seal (or by the age tool) with k.
func Unseal(sealed []byte, k Key) ([]byte, error) {
	b, err := unseal(sealed, k)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	return b, nil
}

// WriteFile seals data with k and writes it to path atomically with mode 0600.
func WriteFile(path string, data []byte, k Key) error {
	b, err := seal(data, k)
	if err != nil {
		return fmt.Errorf("sealed: %s: %w", path, err)
	}
	if err := writeAtomic(path, b, false); err != nil {
		return fmt.Errorf("sealed: writing %s: %w", path, err)
	}
	return nil
}

// ReadFile reads path and opens it with k.
func ReadFile(path string, k Key) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	out, err := unseal(b, k)
	if err != nil {
		return nil, fmt.Errorf("sealed: %s: %w", path, err)
	}
	return out, nil
}

func seal(data []byte, k Key) ([]byte, error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	if k.InsecurePlaintext {
		out := make([]byte, 0, len(plaintextHeader)+len(data))
		return append(append(out, plaintextHeader...), data...), nil
	}
	r, err := k.recipient()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		return nil, fmt.Errorf("encrypting: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("encrypting: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypting: %w", err)
	}
	return buf.Bytes(), nil
}

func unseal(sealed []byte, k Key) ([]byte, error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(sealed, []byte(plaintextHeader)):
		if !k.InsecurePlaintext {
			return nil, fmt.Errorf("%w: the data is stored in INSECURE PLAINTEXT (written in insecure_plaintext mode) but %s is configured; "+
				"re-seal it with the key, or configure insecure_plaintext if this is a test", ErrModeMismatch, k)
		}
		return bytes.Clone(sealed[len(plaintextHeader):]), nil
	case bytes.HasPrefix(sealed, []byte(ageMagic)), bytes.HasPrefix(sealed, []byte(armorMagic)):
		if k.InsecurePlaintext {
			return nil, fmt.Errorf("%w: the data is encrypted with age but insecure_plaintext is configured; "+
				"configure the passphrase or identity file it was sealed with", ErrModeMismatch)
		}
	default:
		return nil, fmt.Errorf("%w: it starts with neither an age header nor frostd's plaintext header; check the path", ErrDamaged)
	}

	ids, err := k.identities()
	if err != nil {
		return nil, err
	}
	var src io.Reader = bytes.NewReader(sealed)
	if bytes.HasPrefix(sealed, []byte(armorMagic)) {
		src = armor.NewReader(src)
	}
	r, err := age.Decrypt(src, ids...)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return nil, fmt.Errorf("%w: %s does not open this data (%s); check the passphrase or identity file", ErrWrongKey, k, wrongKeyDetail(k, err))
		}
		return nil, fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%w: the header opened but the body does not decrypt: %w", ErrDamaged, err)
	}
	return out, nil
}

// wrongKeyDetail explains a failed unwrap in the user's terms.
func wrongKeyDetail(k Key, err error) string {
	if k.Passphrase != "" {
		if strings.Contains(err.Error(), "not passphrase-encrypted") {
			return "the data is sealed to an identity, not a passphrase"
		}
		return "wrong passphrase, or the data is damaged"
	}
	return "the data is sealed to another identity or to a passphrase"
}

func (k Key) recipient() (age.Recipient, error) {
	if k.Passphrase != "" {
		r, err := age.NewScryptRecipient(k.Passphrase)
		if err != nil {
			return nil, err
		}
		r.SetWorkFactor(k.workFactor())
		return r, nil
	}
	ids, err := k.identities()
	if err != nil {
		return nil, err
	}
	switch id := ids[0].(type) {
	case *age.X25519Identity:
		return id.Recipient(), nil
	case *age.HybridIdentity:
		return id.Recipient(), nil
	default:
		return nil, fmt.Errorf("identity file %s: the first identity is a %T, which cannot name a recipient; use an X25519 identity (age-keygen)", k.IdentityFile, id)
	}
}

func (k Key) identities() ([]age.Identity, error) {
	if k.Passphrase != "" {
		id, err := age.NewScryptIdentity(k.Passphrase)
		if err != nil {
			return nil, err
		}
		id.SetMaxWorkFactor(max(maxAcceptedWorkFactor, k.workFactor()))
		return []age.Identity{id}, nil
	}
	f, err := os.Open(k.IdentityFile)
	if err != nil {
		return nil, fmt.Errorf("opening the identity file: %w", err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("identity file %s: %w (want an age identity file, as age-keygen writes)", k.IdentityFile, err)
	}
	return ids, nil
}
