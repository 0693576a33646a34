package cli_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frostd/frostd/id52"
)

func TestGenerateShowSignVerify(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	id := generate(t, dir)
	if r := run(t, "", "keys", "show", id[:8], "--dir", dir); r.code != 0 {
		t.Fatalf("keys show: exit %d, stderr %q", r.code, r.stderr)
	}

	msg := "release v1.0.0\n"
	msgFile := filepath.Join(t.TempDir(), "msg")
	if err := os.WriteFile(msgFile, []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}

	signed := run(t, "", "sign", "--key", id[:8], "--dir", dir, "--in", msgFile)
	if signed.code != 0 {
		t.Fatalf("sign: exit %d, stderr %q", signed.code, signed.stderr)
	}
	sigHex := strings.TrimSuffix(signed.stdout, "\n")
	sig, err := hex.DecodeString(sigHex)
	if err != nil || len(sig) != ed25519.SignatureSize || signed.stdout != sigHex+"\n" || sigHex != strings.ToLower(sigHex) {
		t.Fatalf("sign printed %q, want 128 lowercase hex characters and a newline", signed.stdout)
	}
	pub, _ := id52.Decode(id)
	if !ed25519.Verify(pub, []byte(msg), sig) {
		t.Fatal("the signature does not verify with crypto/ed25519")
	}

	// Standard input gives the same signature: Ed25519 is deterministic.
	if r := run(t, msg, "sign", "--key", id, "--dir", dir); r.stdout != signed.stdout {
		t.Fatalf("sign from stdin printed %q (exit %d, %q), want %q", r.stdout, r.code, r.stderr, signed.stdout)
	}

	for _, args := range [][]string{
		{"verify", "--id52", id, "--sig", sigHex, "--in", msgFile},
		{"verify", "--id52", strings.ToUpper(id), "--sig", strings.ToUpper(sigHex) + "\n", "--in", msgFile},
	} {
		if r := run(t, "", args...); r.code != 0 || r.stdout != "valid\n" || r.stderr != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 0 and \"valid\"", args, r.code, r.stdout, r.stderr)
		}
	}
	if r := run(t, msg, "verify", "--id52", id, "--sig", sigHex); r.code != 0 || r.stdout != "valid\n" {
		t.Errorf("verify from stdin: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	other := generate(t, dir)
	flipped := []byte(sigHex)
	if flipped[10] == '0' {
		flipped[10] = '1'
	} else {
		flipped[10] = '0'
	}
	for name, r := range map[string]result{
		"tampered message":        run(t, "release v1.0.1\n", "verify", "--id52", id, "--sig", sigHex),
		"message without newline": run(t, strings.TrimSuffix(msg, "\n"), "verify", "--id52", id, "--sig", sigHex),
		"other key":               run(t, msg, "verify", "--id52", other, "--sig", sigHex),
		"flipped signature":       run(t, msg, "verify", "--id52", id, "--sig", string(flipped)),
	} {
		t.Run(name, func(t *testing.T) {
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			expectFailure(t, r, "frostd: invalid: the signature does not verify")
		})
	}
}

func TestSignWithKeyFromEnvironment(t *testing.T) {
	isolate(t)
	seed := strings.Repeat("00", 31) + "01"
	seedBytes, _ := hex.DecodeString(seed)
	priv := ed25519.NewKeyFromSeed(seedBytes)
	id := id52.Encode(priv.Public().(ed25519.PublicKey))
	t.Setenv("FROSTD_SECRET_KEYS", "# test key\n"+id[:5]+": "+seed+"\n")

	r := run(t, "hello", "sign", "--key", id, "--dir", filepath.Join(t.TempDir(), "empty"))
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if want := hex.EncodeToString(ed25519.Sign(priv, []byte("hello"))) + "\n"; r.stdout != want {
		t.Fatalf("signature %q, want %q", r.stdout, want)
	}
}

func TestSignErrors(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	id := generate(t, dir)
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"no key", "m", []string{"sign", "--dir", dir}, "--key is required"},
		{"unknown key", "m", []string{"sign", "--key", "00000", "--dir", dir}, `starting with "00000"`},
		{"bad key", "m", []string{"sign", "--key", "i66w", "--dir", dir}, `prefix has 'w' at position 4`},
		{"full ID52 nowhere", "m", []string{"sign", "--key", "0000000000000000000000000000000000000000000000000000", "--dir", dir},
			"neither FROSTD_SECRET_KEYS_FILE nor FROSTD_SECRET_KEYS is set"},
		{"missing --in", "", []string{"sign", "--key", id, "--dir", dir, "--in", filepath.Join(dir, "nope")}, "--in: open"},
		{"argument", "m", []string{"sign", "--key", id, "--dir", dir, "message"}, `unknown command "message"`},
		{"too large", strings.Repeat("x", 16<<20+1), []string{"sign", "--key", id, "--dir", dir}, "over the 16 MiB limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectFailure(t, run(t, tt.stdin, tt.args...), tt.want)
		})
	}
}

func TestHelp(t *testing.T) {
	isolate(t)
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"keys", "sign", "verify"}},
		{[]string{"keys", "--help"}, []string{"generate", "show", "NAME.private-key"}},
		{[]string{"keys", "generate", "--help"}, []string{"0600", "FROSTD_KEYS_DIR", "--dir"}},
		{[]string{"keys", "show", "--help"}, []string{"z-base-32", "FROSTD_SECRET_KEYS"}},
		{[]string{"sign", "--help"}, []string{"--key", "--in", "FROSTD_SECRET_KEYS_FILE", "16 MiB", "trailing newline"}},
		{[]string{"verify", "--help"}, []string{"--id52", "--sig", "exits 0", "exits 1"}},
	} {
		r := run(t, "", tt.args...)
		if r.code != 0 {
			t.Errorf("%v: exit %d", tt.args, r.code)
		}
		for _, w := range tt.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%v does not mention %q", tt.args, w)
			}
		}
	}
}
