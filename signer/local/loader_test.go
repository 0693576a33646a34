package local_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/frostd/frostd/signer"
	"github.com/frostd/frostd/signer/local"
)

// env returns a Getenv over vars, so tests leave the process environment
// alone.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

var noEnv = env(nil)

// key is a seed and what it must load as.
type key struct {
	seedHex string
	id52    string
}

func keyOf(t *testing.T, b byte) key {
	s := mustSeed(t, b)
	return key{hex.EncodeToString(s.Seed()), s.ID52()}
}

// loader returns a Loader over a fresh directory whose warnings go to the
// returned buffer.
func loader(t *testing.T, vars map[string]string) (local.Loader, *bytes.Buffer) {
	var warnings bytes.Buffer
	return local.Loader{Dir: t.TempDir(), Getenv: env(vars), Warnings: &warnings}, &warnings
}

func mustLoad(t *testing.T, l local.Loader, ref string, want key) {
	t.Helper()
	s, err := l.Load(ref)
	if err != nil {
		t.Fatalf("Load(%q): %v", ref, err)
	}
	if s.ID52() != want.id52 {
		t.Fatalf("Load(%q) = %s, want %s", ref, s.ID52(), want.id52)
	}
}

func TestLoadDirPrivateKey(t *testing.T) {
	k := keyOf(t, 1)
	for name, content := range map[string]string{
		"bare":     k.seedHex,
		"newline":  k.seedHex + "\n",
		"crlf":     k.seedHex + "\r\n",
		"trailing": k.seedHex + "  \n\n",
	} {
		t.Run(name, func(t *testing.T) {
			l, warnings := loader(t, nil)
			writeFile(t, filepath.Join(l.Dir, "entity.private-key"), content, 0o600)
			s, err := l.LoadDir("entity")
			if err != nil {
				t.Fatal(err)
			}
			if s.ID52() != k.id52 {
				t.Fatalf("loaded %s, want %s", s.ID52(), k.id52)
			}
			if warnings.Len() > 0 {
				t.Errorf("warnings for a 0600 key file: %s", warnings)
			}
		})
	}
}

func TestLoadDirID52ThroughEnv(t *testing.T) {
	k := keyOf(t, 2)
	l, _ := loader(t, map[string]string{"FROSTD_SECRET_KEYS": k.id52[:6] + ": " + k.seedHex})
	writeFile(t, filepath.Join(l.Dir, "entity.id52"), strings.ToUpper(k.id52)+"\n", 0o644)
	mustLoad(t, l, "entity", k)
}

func TestLoadDirErrors(t *testing.T) {
	k1, k2 := keyOf(t, 1), keyOf(t, 2)
	tests := []struct {
		name   string
		files  map[string]string
		vars   map[string]string
		load   string
		target error
		want   []string
	}{
		{"both files",
			map[string]string{"e.private-key": k1.seedHex, "e.id52": k1.id52}, nil, "e",
			nil, []string{"e.private-key and", "e.id52 exist", "remove one"}},
		{"no file",
			nil, nil, "e",
			local.ErrNotFound, []string{`no key "e"`, "neither e.private-key nor e.id52 exists"}},
		{"short seed",
			map[string]string{"e.private-key": k1.seedHex[:63]}, nil, "e",
			signer.ErrBadKey, []string{"e.private-key: seed is 63 characters, want 64 lowercase hex"}},
		{"empty seed",
			map[string]string{"e.private-key": "\n"}, nil, "e",
			signer.ErrBadKey, []string{"seed is 0 characters", "it is empty"}},
		{"non-hex seed",
			map[string]string{"e.private-key": "xyz" + k1.seedHex[3:]}, nil, "e",
			signer.ErrBadKey, []string{"seed character 1 of 64 is not a lowercase hex digit"}},
		{"upper-case seed",
			map[string]string{"e.private-key": strings.ToUpper("abcdef" + k1.seedHex[6:])}, nil, "e",
			signer.ErrBadKey, []string{"seed character 1 of 64 is not a lowercase hex digit"}},
		{"ID52 in key file",
			map[string]string{"e.private-key": k1.id52}, nil, "e",
			signer.ErrBadKey, []string{"52 characters", "public key, not the seed"}},
		{"64-byte key in key file",
			map[string]string{"e.private-key": k1.seedHex + k1.seedHex}, nil, "e",
			signer.ErrBadKey, []string{"128 characters", "keep its first 64"}},
		{"key file of another key",
			map[string]string{k1.id52 + ".private-key": k2.seedHex}, nil, k1.id52,
			signer.ErrBadKey, []string{k1.id52 + ".private-key is for key " + k2.id52, "rename the file"}},
		{"bad ID52 file",
			map[string]string{"e.id52": k1.id52[:10] + "w" + k1.id52[11:]}, nil, "e",
			signer.ErrBadKey, []string{"e.id52: ID52", "character 'w' at position 11"}},
		{"ID52 file of another key",
			map[string]string{k1.id52 + ".id52": k2.id52}, map[string]string{"FROSTD_SECRET_KEYS": k2.id52 + ":" + k2.seedHex}, k1.id52,
			signer.ErrBadKey, []string{k1.id52 + ".id52 holds ID52 " + k2.id52, "not the one in its name"}},
		{"ID52 file of another key, no env",
			map[string]string{k1.id52 + ".id52": k2.id52}, nil, k1.id52,
			signer.ErrBadKey, []string{k1.id52 + ".id52 holds ID52 " + k2.id52}},
		{"ID52 file without env",
			map[string]string{"e.id52": k1.id52}, nil, "e",
			local.ErrNotFound, []string{"e.id52 names key " + k1.id52, "neither FROSTD_SECRET_KEYS_FILE nor FROSTD_SECRET_KEYS is set"}},
		{"path as name",
			nil, nil, "../e",
			nil, []string{`"../e" is not a key name`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := loader(t, tt.vars)
			for name, content := range tt.files {
				writeFile(t, filepath.Join(l.Dir, name), content, 0o600)
			}
			s, err := l.LoadDir(tt.load)
			if err == nil {
				t.Fatalf("LoadDir(%q) = %s, want an error", tt.load, s.ID52())
			}
			checkErr(t, err, tt.target, tt.want...)
			if strings.Contains(err.Error(), k1.seedHex[8:24]) || strings.Contains(err.Error(), k2.seedHex[8:24]) {
				t.Errorf("error %q quotes a seed", err)
			}
		})
	}
}

func TestLoadDirMissingDirectory(t *testing.T) {
	l := local.Loader{Dir: filepath.Join(t.TempDir(), "nope"), Getenv: noEnv}
	_, err := l.LoadDir("e")
	checkErr(t, err, local.ErrNotFound, "nope does not exist")
}

func TestLoadEnv(t *testing.T) {
	k1, k2, k3 := keyOf(t, 1), keyOf(t, 2), keyOf(t, 3)
	lines := fmt.Sprintf("# production\n\n%s: %s\r\n  %s :%s  \n", k1.id52[:4], k1.seedHex, k2.id52, k2.seedHex)
	keysFile := filepath.Join(t.TempDir(), "keys")
	writeFile(t, keysFile, lines, 0o600)
	badFile := filepath.Join(t.TempDir(), "bad")
	writeFile(t, badFile, "no colon here\n", 0o600)

	tests := []struct {
		name string
		vars map[string]string
		want key
	}{
		{"inline", map[string]string{"FROSTD_SECRET_KEYS": lines}, k2},
		{"file", map[string]string{"FROSTD_SECRET_KEYS_FILE": keysFile}, k2},
		{"legacy inline", map[string]string{"FASTN_SECRET_KEYS": lines}, k2},
		{"legacy file", map[string]string{"FASTN_SECRET_KEYS_FILE": keysFile}, k2},
		{"FROSTD wins over FASTN", map[string]string{
			"FROSTD_SECRET_KEYS":     lines,
			"FASTN_SECRET_KEYS_FILE": badFile,
			"FASTN_SECRET_KEYS":      "also bad",
		}, k2},
		{"short prefix", map[string]string{"FROSTD_SECRET_KEYS": lines}, k1},
		{"upper-case prefix", map[string]string{"FROSTD_SECRET_KEYS": strings.ToUpper(k3.id52[:9]) + ":" + k3.seedHex}, k3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := local.Loader{Dir: t.TempDir(), Getenv: env(tt.vars)}
			s, err := l.LoadEnv(tt.want.id52)
			if err != nil {
				t.Fatal(err)
			}
			if s.ID52() != tt.want.id52 {
				t.Fatalf("loaded %s, want %s", s.ID52(), tt.want.id52)
			}
		})
	}
}

func TestLoadEnvErrors(t *testing.T) {
	k1, k2 := keyOf(t, 1), keyOf(t, 2)
	keysFile := filepath.Join(t.TempDir(), "keys")
	writeFile(t, keysFile, k1.id52+": "+k1.seedHex, 0o600)
	missing := filepath.Join(t.TempDir(), "missing")

	tests := []struct {
		name   string
		vars   map[string]string
		id     string
		target error
		want   []string
	}{
		{"nothing set", nil, k1.id52,
			local.ErrNotFound, []string{"neither FROSTD_SECRET_KEYS_FILE nor FROSTD_SECRET_KEYS is set"}},
		{"both FROSTD set", map[string]string{"FROSTD_SECRET_KEYS_FILE": keysFile, "FROSTD_SECRET_KEYS": "x"}, k1.id52,
			nil, []string{"both FROSTD_SECRET_KEYS_FILE and FROSTD_SECRET_KEYS are set"}},
		{"both FASTN set", map[string]string{"FASTN_SECRET_KEYS_FILE": keysFile, "FASTN_SECRET_KEYS": "x"}, k1.id52,
			nil, []string{"both FASTN_SECRET_KEYS_FILE and FASTN_SECRET_KEYS are set"}},
		{"missing file", map[string]string{"FROSTD_SECRET_KEYS_FILE": missing}, k1.id52,
			nil, []string{"FROSTD_SECRET_KEYS_FILE: open " + missing, "no such file", "fix the path or unset FROSTD_SECRET_KEYS_FILE"}},
		{"directory as file", map[string]string{"FROSTD_SECRET_KEYS_FILE": t.TempDir()}, k1.id52,
			nil, []string{"is a directory"}},
		{"no matching line", map[string]string{"FROSTD_SECRET_KEYS_FILE": keysFile}, k2.id52,
			local.ErrNotFound, []string{"FROSTD_SECRET_KEYS_FILE (" + keysFile + ") has no line for " + k2.id52}},
		{"no colon", map[string]string{"FROSTD_SECRET_KEYS": "# keys\n" + k1.seedHex}, k1.id52,
			signer.ErrBadKey, []string{"FROSTD_SECRET_KEYS line 2 has no colon"}},
		{"bad seed on another line", map[string]string{"FROSTD_SECRET_KEYS": k1.id52 + ": " + k1.seedHex + "\nab: 00"}, k1.id52,
			signer.ErrBadKey, []string{"FROSTD_SECRET_KEYS line 2: seed is 2 characters"}},
		{"prefix with bad char", map[string]string{"FROSTD_SECRET_KEYS": "i6w: " + k1.seedHex}, k1.id52,
			signer.ErrBadKey, []string{`line 1: prefix has 'w' at position 3`}},
		{"empty prefix", map[string]string{"FROSTD_SECRET_KEYS": ": " + k1.seedHex}, k1.id52,
			signer.ErrBadKey, []string{"line 1: nothing before the colon"}},
		{"swapped prefix and seed", map[string]string{"FROSTD_SECRET_KEYS": k1.seedHex + ": " + k1.id52}, k1.id52,
			signer.ErrBadKey, []string{"prefix is 64 characters", "put the ID52 before the colon"}},
		{"first match has the wrong seed", map[string]string{"FROSTD_SECRET_KEYS": k1.id52[:1] + ": " + k2.seedHex + "\n" + k1.id52 + ": " + k1.seedHex}, k1.id52,
			signer.ErrBadKey, []string{"line 1 (prefix", "is the first to match " + k1.id52, "is the key of " + k2.id52}},
		{"bad ID52", map[string]string{"FROSTD_SECRET_KEYS": k1.id52 + ": " + k1.seedHex}, k1.id52[:51],
			signer.ErrBadKey, []string{"51 characters, want 52"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := local.Loader{Dir: t.TempDir(), Getenv: env(tt.vars)}
			s, err := l.LoadEnv(tt.id)
			if err == nil {
				t.Fatalf("LoadEnv = %s, want an error", s.ID52())
			}
			checkErr(t, err, tt.target, tt.want...)
			if strings.Contains(err.Error(), k1.seedHex[8:24]) || strings.Contains(err.Error(), k2.seedHex[8:24]) {
				t.Errorf("error %q quotes a seed", err)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	k1, k2, k3 := keyOf(t, 1), keyOf(t, 2), keyOf(t, 3)
	l, _ := loader(t, map[string]string{"FROSTD_SECRET_KEYS": k3.id52 + ": " + k3.seedHex})
	writeFile(t, filepath.Join(l.Dir, "entity.private-key"), k1.seedHex, 0o600)
	writeFile(t, filepath.Join(l.Dir, k2.id52+".private-key"), k2.seedHex, 0o600)
	writeFile(t, filepath.Join(l.Dir, "README"), "not a key", 0o600)

	mustLoad(t, l, "entity", k1)                      // a name
	mustLoad(t, l, k1.id52, k1)                       // the ID52 of a key with another name
	mustLoad(t, l, k2.id52, k2)                       // the ID52 of a key named by it
	mustLoad(t, l, strings.ToUpper(k2.id52[:10]), k2) // a prefix, in any case
	mustLoad(t, l, k3.id52, k3)                       // not in Dir: the environment
	mustLoad(t, local.Loader{Dir: filepath.Join(l.Dir, "nope"), Getenv: l.Getenv}, k3.id52, k3)
}

func TestLoadErrors(t *testing.T) {
	k1, k2 := keyOf(t, 1), keyOf(t, 2)
	// Two keys whose ID52s share a first character.
	var a, b key
	for i := byte(10); a.id52 == ""; i++ {
		for j := i + 1; j < i+40; j++ {
			if ki, kj := keyOf(t, i), keyOf(t, j); ki.id52[0] == kj.id52[0] {
				a, b = ki, kj
				break
			}
		}
	}

	tests := []struct {
		name   string
		files  map[string]string
		ref    string
		target error
		want   []string
	}{
		{"empty", nil, "",
			local.ErrNotFound, []string{"no key given"}},
		{"ambiguous prefix", map[string]string{"a.private-key": a.seedHex, "b.private-key": b.seedHex}, a.id52[:1],
			nil, []string{"matches 2 keys", a.id52, b.id52, "give more of the ID52"}},
		{"no match", map[string]string{"x.private-key": k1.seedHex}, "0000",
			local.ErrNotFound, []string{`has a name or ID52 starting with "0000"`}},
		{"no match, skipped file", map[string]string{"x.private-key": "garbage"}, "0000",
			local.ErrNotFound, []string{"skipped unreadable key files: x.private-key"}},
		{"not an ID52 prefix", nil, "entitx",
			signer.ErrBadKey, []string{`"entitx" is neither a key name`, `prefix has 'x' at position 6`}},
		{"full ID52, no key anywhere", nil, k1.id52,
			local.ErrNotFound, []string{"no key for " + k1.id52, "no key file for it in", "neither FROSTD_SECRET_KEYS_FILE"}},
		{"broken file named by its ID52", map[string]string{k2.id52 + ".private-key": "garbage"}, k2.id52[:5],
			signer.ErrBadKey, []string{k2.id52 + ".private-key: seed is 7 characters"}},
		{"missing directory", nil, "0000",
			local.ErrNotFound, []string{"nope does not exist", `holds key "0000"`}},
		{"path", nil, "/etc/passwd",
			nil, []string{"is not a key name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := loader(t, nil)
			for name, content := range tt.files {
				writeFile(t, filepath.Join(l.Dir, name), content, 0o600)
			}
			if tt.name == "missing directory" {
				l.Dir = filepath.Join(l.Dir, "nope")
			}
			s, err := l.Load(tt.ref)
			if err == nil {
				t.Fatalf("Load(%q) = %s, want an error", tt.ref, s.ID52())
			}
			checkErr(t, err, tt.target, tt.want...)
		})
	}
}

func TestGenerateSaves(t *testing.T) {
	l, warnings := loader(t, nil)
	l.Dir = filepath.Join(l.Dir, "new", "keys")
	s, path, err := l.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(l.Dir, s.ID52()+".private-key"); path != want {
		t.Fatalf("saved to %s, want %s", path, want)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := hex.EncodeToString(s.Seed()) + "\n"; string(content) != want {
		t.Fatalf("key file holds %q, want the seed in hex and a newline", content)
	}
	if runtime.GOOS != "windows" {
		for p, want := range map[string]os.FileMode{path: 0o600, l.Dir: 0o700} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != want {
				t.Errorf("%s has mode %04o, want %04o", p, got, want)
			}
		}
	}

	loaded, err := l.Load(s.ID52()[:8])
	if err != nil {
		t.Fatal(err)
	}
	if loaded.ID52() != s.ID52() {
		t.Fatalf("loaded %s, want %s", loaded.ID52(), s.ID52())
	}
	if warnings.Len() > 0 {
		t.Errorf("warnings for a generated key: %s", warnings)
	}

	_, err = l.Save(s)
	checkErr(t, err, nil, "already exists; not overwriting")
	if again, _ := os.ReadFile(path); !bytes.Equal(again, content) {
		t.Fatal("a failed Save changed the key file")
	}
}

func TestSaveRefusesBesideID52File(t *testing.T) {
	l, _ := loader(t, nil)
	s := mustSeed(t, 5)
	writeFile(t, filepath.Join(l.Dir, s.ID52()+".id52"), s.ID52(), 0o600)
	_, err := l.Save(s)
	checkErr(t, err, nil, ".id52 already exists", "ambiguous")
}

func TestWarnsAboutSharedKeyFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	k := keyOf(t, 1)
	t.Run("key file", func(t *testing.T) {
		l, warnings := loader(t, nil)
		path := filepath.Join(l.Dir, "e.private-key")
		writeFile(t, path, k.seedHex, 0o640)
		mustLoad(t, l, "e", k)
		for _, want := range []string{"warning: " + path, "mode 0640", "chmod 600 " + path} {
			if !strings.Contains(warnings.String(), want) {
				t.Errorf("warnings %q do not say %q", warnings, want)
			}
		}
	})
	t.Run("keys file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "keys")
		writeFile(t, path, k.id52+": "+k.seedHex, 0o604)
		l, warnings := loader(t, map[string]string{"FROSTD_SECRET_KEYS_FILE": path})
		mustLoad(t, l, k.id52, k)
		if !strings.Contains(warnings.String(), "chmod 600 "+path) {
			t.Errorf("warnings %q do not say to chmod %s", warnings, path)
		}
	})
}

func TestZeroLoaderUsesCurrentDirectory(t *testing.T) {
	k := keyOf(t, 6)
	t.Chdir(t.TempDir())
	writeFile(t, "entity.private-key", k.seedHex, 0o600)
	s, err := local.Loader{Getenv: noEnv}.Load("entity")
	if err != nil {
		t.Fatal(err)
	}
	if s.ID52() != k.id52 {
		t.Fatalf("loaded %s, want %s", s.ID52(), k.id52)
	}
}

func TestLoaderOptions(t *testing.T) {
	k := keyOf(t, 7)
	l := local.Loader{Getenv: env(map[string]string{"FROSTD_SECRET_KEYS": k.id52 + ":" + k.seedHex}), Options: []local.Option{local.WithMaxMessage(10)}}
	s, err := l.LoadEnv(k.id52)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(t.Context(), make([]byte, 11)); !errors.Is(err, signer.ErrMessageTooLarge) {
		t.Fatalf("Sign of 11 bytes with a 10-byte limit from Loader.Options: %v", err)
	}
}
