package sealed_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/frostd/frostd/sealed"
)

// testPass is a passphrase key with scrypt's work factor at its minimum, so
// that tests do not spend a second per seal.
var testPass = sealed.Key{Passphrase: "correct horse battery staple", ScryptWorkFactor: 1}

func identityKey(t *testing.T) sealed.Key {
	t.Helper()
	path := filepath.Join(t.TempDir(), "identity.txt")
	if _, err := sealed.GenerateIdentityFile(path); err != nil {
		t.Fatal(err)
	}
	return sealed.Key{IdentityFile: path}
}

func TestRoundTrip(t *testing.T) {
	secret := []byte("key share: 0123456789abcdef0123456789abcdef")
	for name, k := range map[string]sealed.Key{
		"passphrase": testPass,
		"identity":   identityKey(t),
		"plaintext":  {InsecurePlaintext: true},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "share.age")
			if err := sealed.WriteFile(path, secret, k); err != nil {
				t.Fatal(err)
			}
			got, err := sealed.ReadFile(path, k)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, secret) {
				t.Fatalf("read %q, wrote %q", got, secret)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if k.InsecurePlaintext {
				if !bytes.HasPrefix(raw, []byte("frostd-sealed/insecure-plaintext/v1: NOT ENCRYPTED")) {
					t.Fatalf("plaintext file does not say so: %q", raw)
				}
			} else if bytes.Contains(raw, secret) || !bytes.HasPrefix(raw, []byte("age-encryption.org/v1\n")) {
				t.Fatalf("encrypted file is not an age file hiding the secret: %q", raw)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
			}

			// Overwriting replaces the content and leaves no temporary file.
			if err := sealed.WriteFile(path, []byte("second"), k); err != nil {
				t.Fatal(err)
			}
			if got, err := sealed.ReadFile(path, k); err != nil || string(got) != "second" {
				t.Fatalf("after overwrite: %q, %v", got, err)
			}
			entries, err := os.ReadDir(filepath.Dir(path))
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				t.Fatalf("directory holds %d entries, want only the sealed file: %v", len(entries), entries)
			}
		})
	}
}

func TestEmptyData(t *testing.T) {
	b, err := sealed.Seal(nil, testPass)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sealed.Unseal(b, testPass)
	if err != nil || len(got) != 0 {
		t.Fatalf("Unseal(Seal(nil)) = %q, %v", got, err)
	}
}

func TestWrongKey(t *testing.T) {
	secret := []byte("secret")
	idA, idB := identityKey(t), identityKey(t)
	wrongPass := testPass
	wrongPass.Passphrase = "Tr0ub4dor&3"
	cases := []struct {
		name         string
		seal, unseal sealed.Key
		want         error
		say          string
	}{
		{"wrong passphrase", testPass, wrongPass, sealed.ErrWrongKey, "wrong passphrase"},
		{"wrong identity", idA, idB, sealed.ErrWrongKey, "another identity"},
		{"passphrase for identity file", idA, testPass, sealed.ErrWrongKey, "sealed to an identity"},
		{"identity for passphrase file", testPass, idA, sealed.ErrWrongKey, "or to a passphrase"},
		{"plaintext file, key configured", sealed.Key{InsecurePlaintext: true}, testPass, sealed.ErrModeMismatch, "INSECURE PLAINTEXT"},
		{"encrypted file, plaintext configured", idA, sealed.Key{InsecurePlaintext: true}, sealed.ErrModeMismatch, "encrypted with age"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			if err := sealed.WriteFile(path, secret, c.seal); err != nil {
				t.Fatal(err)
			}
			got, err := sealed.ReadFile(path, c.unseal)
			if !errors.Is(err, c.want) {
				t.Fatalf("ReadFile = %q, %v; want an error wrapping %v", got, err, c.want)
			}
			if !strings.Contains(err.Error(), c.say) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q should name the file and say %q", err, c.say)
			}
			if strings.Contains(err.Error(), wrongPass.Passphrase) || strings.Contains(err.Error(), testPass.Passphrase) {
				t.Errorf("error %q reveals a passphrase", err)
			}
		})
	}
}

func TestDamaged(t *testing.T) {
	idA := identityKey(t)
	b, err := sealed.Seal(bytes.Repeat([]byte("x"), 1000), idA)
	if err != nil {
		t.Fatal(err)
	}
	hdrEnd := bytes.Index(b, []byte("\n---")) // age's header ends with its MAC line
	if hdrEnd < 0 {
		t.Fatal("no age header MAC line")
	}
	for name, mutate := range map[string]func([]byte) []byte{
		"body bit flipped": func(b []byte) []byte { b[len(b)-5] ^= 1; return b },
		"truncated body":   func(b []byte) []byte { return b[:len(b)-20] },
		"header MAC":       func(b []byte) []byte { b[hdrEnd+6] ^= 1; return b },
		"not sealed":       func([]byte) []byte { return []byte("hello") },
		"empty":            func([]byte) []byte { return nil },
	} {
		t.Run(name, func(t *testing.T) {
			got, err := sealed.Unseal(mutate(bytes.Clone(b)), idA)
			if !errors.Is(err, sealed.ErrDamaged) {
				t.Fatalf("Unseal = %d bytes, %v; want ErrDamaged", len(got), err)
			}
		})
	}
}

func TestArmoredInput(t *testing.T) {
	k := identityKey(t)
	ids, err := os.ReadFile(k.IdentityFile)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := age.ParseIdentities(bytes.NewReader(ids))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, parsed[0].(*age.X25519Identity).Recipient())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "armored")
	w.Close()
	aw.Close()
	got, err := sealed.Unseal(buf.Bytes(), k)
	if err != nil || string(got) != "armored" {
		t.Fatalf("Unseal(armored) = %q, %v", got, err)
	}
}

func TestScryptWorkFactor(t *testing.T) {
	stanza := regexp.MustCompile(`(?m)^-> scrypt \S+ (\d+)$`)
	for _, tc := range []struct {
		k    sealed.Key
		want string
	}{
		{testPass, "1"},
		{sealed.Key{Passphrase: "p", ScryptWorkFactor: 3}, "3"},
	} {
		b, err := sealed.Seal([]byte("x"), tc.k)
		if err != nil {
			t.Fatal(err)
		}
		m := stanza.FindSubmatch(b)
		if m == nil || string(m[1]) != tc.want {
			t.Fatalf("scrypt stanza work factor %q, want %s (header %q)", m, tc.want, b)
		}
	}
	// A file with a higher factor than the key's still opens (up to age's cap).
	b, err := sealed.Seal([]byte("x"), sealed.Key{Passphrase: "p", ScryptWorkFactor: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sealed.Unseal(b, sealed.Key{Passphrase: "p", ScryptWorkFactor: 1}); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidKey(t *testing.T) {
	for _, k := range []sealed.Key{
		{},
		{Passphrase: "p", InsecurePlaintext: true},
		{Passphrase: "p", IdentityFile: "x"},
		{Passphrase: "p", ScryptWorkFactor: 31},
	} {
		if _, err := sealed.Seal([]byte("x"), k); !errors.Is(err, sealed.ErrNoKey) {
			t.Errorf("Seal with %v: %v, want ErrNoKey", k, err)
		}
		if _, err := sealed.Unseal([]byte("x"), k); !errors.Is(err, sealed.ErrNoKey) {
			t.Errorf("Unseal with %v: %v, want ErrNoKey", k, err)
		}
	}
	if _, err := sealed.Seal([]byte("x"), sealed.Key{IdentityFile: filepath.Join(t.TempDir(), "missing")}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing identity file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("not an identity\n"), 0o600)
	if _, err := sealed.Seal([]byte("x"), sealed.Key{IdentityFile: bad}); err == nil || !strings.Contains(err.Error(), "identity file") {
		t.Errorf("malformed identity file: %v", err)
	}
}

func TestKeyStringHidesPassphrase(t *testing.T) {
	k := sealed.Key{Passphrase: "hunter2hunter2"}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(format, k); strings.Contains(s, k.Passphrase) {
			t.Errorf("%s prints the passphrase: %s", format, s)
		}
	}
}

func TestGenerateIdentityFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "id.txt")
	r, err := sealed.GenerateIdentityFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := age.ParseX25519Recipient(r); err != nil {
		t.Fatalf("recipient %q: %v", r, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("identity file mode %v, want 0600", fi.Mode().Perm())
	}
	before, _ := os.ReadFile(path)
	if !bytes.Contains(before, []byte("# public key: "+r)) {
		t.Fatalf("identity file does not name its recipient: %q", before)
	}
	if _, err := sealed.GenerateIdentityFile(path); !errors.Is(err, os.ErrExist) {
		t.Fatalf("second GenerateIdentityFile: %v, want a refusal to overwrite", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("identity file was overwritten")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func ExampleWriteFile() {
	dir, err := os.MkdirTemp("", "sealed-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	key := sealed.Key{Passphrase: "correct horse battery staple", ScryptWorkFactor: 10}
	path := filepath.Join(dir, "share.age")
	if err := sealed.WriteFile(path, []byte(`{"id":1,"secret":"..."}`), key); err != nil {
		panic(err)
	}
	share, err := sealed.ReadFile(path, key)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s\n", share)

	key.Passphrase = "wrong"
	_, err = sealed.ReadFile(path, key)
	fmt.Println(errors.Is(err, sealed.ErrWrongKey))
	// Output:
	// {"id":1,"secret":"..."}
	// true
}
