package sealed_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/frostd/frostd/sealed"
)

// FuzzReadFile reads corrupted sealed files with every kind of key. It must
// never panic, and whatever it accepts must be what was sealed or come with
// an error that says why not.
func FuzzReadFile(f *testing.F) {
	dir := f.TempDir()
	idPath := filepath.Join(dir, "identity.txt")
	if _, err := sealed.GenerateIdentityFile(idPath); err != nil {
		f.Fatal(err)
	}
	keys := []sealed.Key{testPass, {IdentityFile: idPath}, {InsecurePlaintext: true}}
	secret := []byte("the fuzzed secret")
	for _, k := range keys {
		b, err := sealed.Seal(secret, k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
		flipped := bytes.Clone(b)
		flipped[len(flipped)-1] ^= 0x80
		f.Add(flipped)
	}
	f.Add([]byte("age-encryption.org/v1\n-> scrypt AAAAAAAAAAAAAAAAAAAAAA 30\n--- \n"))
	f.Add([]byte("-----BEGIN AGE ENCRYPTED FILE-----\n"))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f.age")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			got, err := sealed.ReadFile(path, k)
			if err != nil {
				if !errors.Is(err, sealed.ErrDamaged) && !errors.Is(err, sealed.ErrWrongKey) && !errors.Is(err, sealed.ErrModeMismatch) {
					t.Fatalf("%v: error %q is none of ErrDamaged, ErrWrongKey, ErrModeMismatch", k, err)
				}
				continue
			}
			// Accepted: either it is the plaintext format, or age's MACs
			// passed, which a mutation cannot achieve for the seeds' key.
			if !k.InsecurePlaintext && !bytes.Equal(got, secret) {
				t.Fatalf("%v accepted a corrupted file and returned %q", k, got)
			}
		}
	})
}
