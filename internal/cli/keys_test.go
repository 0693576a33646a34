package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/internal/cli"
)

// result is what one in-process run of frostd left behind.
type result struct {
	code           int
	stdout, stderr string
}

// run runs frostd in-process with args and stdin.
func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(args, strings.NewReader(stdin), &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// isolate clears the variables frostd reads, so the tests do not depend
// on the environment they run in.
func isolate(t *testing.T) {
	for _, k := range []string{
		"FROSTD_KEYS_DIR",
		"FROSTD_SECRET_KEYS_FILE", "FROSTD_SECRET_KEYS",
		"FASTN_SECRET_KEYS_FILE", "FASTN_SECRET_KEYS",
	} {
		t.Setenv(k, "")
	}
}

// generate runs keys generate in dir and returns the new ID52.
func generate(t *testing.T, dir string) string {
	t.Helper()
	r := run(t, "", "keys", "generate", "--dir", dir)
	if r.code != 0 {
		t.Fatalf("keys generate: exit %d, stderr %q", r.code, r.stderr)
	}
	id := strings.TrimSuffix(r.stdout, "\n")
	if _, err := id52.Decode(id); err != nil || r.stdout != id+"\n" {
		t.Fatalf("keys generate printed %q, want one ID52 and a newline (%v)", r.stdout, err)
	}
	return id
}

func TestKeysGenerate(t *testing.T) {
	isolate(t)
	dir := filepath.Join(t.TempDir(), "keys")
	id := generate(t, dir)
	path := filepath.Join(dir, id+".private-key")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no key file: %v", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o, want 0600", fi.Mode().Perm())
	}
	if other := generate(t, dir); other == id {
		t.Fatal("two generated keys are equal")
	}
}

func TestKeysGenerateUsesFROSTD_KEYS_DIR(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	t.Setenv("FROSTD_KEYS_DIR", dir)
	r := run(t, "", "keys", "generate")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	if _, err := os.Stat(filepath.Join(dir, id+".private-key")); err != nil {
		t.Fatalf("key not saved in $FROSTD_KEYS_DIR: %v", err)
	}
	if !strings.Contains(r.stderr, filepath.Join(dir, id+".private-key")) {
		t.Errorf("stderr %q does not name the key file", r.stderr)
	}
}

func TestKeysShow(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	id := generate(t, dir)
	pub, _ := id52.Decode(id)
	want := "id52: " + id + "\nz-base-32: " + id52.EncodeZBase32(pub) + "\n"
	for _, ref := range []string{id, id[:6], strings.ToUpper(id)} {
		r := run(t, "", "keys", "show", ref, "--dir", dir)
		if r.code != 0 || r.stdout != want {
			t.Errorf("keys show %s: exit %d, stdout %q, stderr %q; want %q", ref, r.code, r.stdout, r.stderr, want)
		}
	}
}

func TestKeysShowWarnsAboutSharedKeyFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	isolate(t)
	dir := t.TempDir()
	id := generate(t, dir)
	path := filepath.Join(dir, id+".private-key")
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "keys", "show", id, "--dir", dir)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if want := "frostd: warning: " + path; !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "chmod 600") {
		t.Errorf("stderr %q, want a warning starting %q that says to chmod 600", r.stderr, want)
	}
}

func TestKeysErrors(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	id := generate(t, dir)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"show without key", []string{"keys", "show", "--dir", dir}, "keys show takes one key"},
		{"show two keys", []string{"keys", "show", id, id, "--dir", dir}, "got 2 arguments"},
		{"show unknown", []string{"keys", "show", "00000", "--dir", dir}, `no key in ` + dir + ` has a name or ID52 starting with "00000"`},
		{"show bad char", []string{"keys", "show", "xyz", "--dir", dir}, `"xyz" is neither a key name`},
		{"show missing dir", []string{"keys", "show", id[:5], "--dir", filepath.Join(dir, "nope")}, "does not exist"},
		{"generate with argument", []string{"keys", "generate", "extra", "--dir", dir}, `unknown command "extra"`},
		{"keys typo", []string{"keys", "gnerate"}, `unknown command "gnerate"`},
		{"unknown flag", []string{"keys", "generate", "--bogus"}, "unknown flag: --bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectFailure(t, run(t, "", tt.args...), tt.want)
		})
	}
}

// expectFailure checks that r failed with one line on stderr that says
// want, and printed nothing on stdout.
func expectFailure(t *testing.T, r result, want string) {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("exit 0, stdout %q; want a failure saying %q", r.stdout, want)
	}
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q does not say %q", r.stderr, want)
	}
	if lines := strings.Count(r.stderr, "\n"); lines != 1 || !strings.HasPrefix(r.stderr, "frostd: ") {
		t.Errorf("stderr %q is %d lines, want one line starting with \"frostd: \"", r.stderr, lines)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
}
