package local

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/signer"
)

// ErrNotFound means no key file or key line exists for the key asked for.
// Errors about keys that exist but are malformed wrap signer.ErrBadKey
// instead.
var ErrNotFound = errors.New("key not found")

const (
	keyExt  = ".private-key"
	id52Ext = ".id52"

	maxSecretFile = 1 << 20 // far above any key file; guards against a wrong path
)

// envFamilies lists the environment chain in order of precedence.
var envFamilies = []struct{ file, inline string }{
	{"FROSTD_SECRET_KEYS_FILE", "FROSTD_SECRET_KEYS"},
	{"FASTN_SECRET_KEYS_FILE", "FASTN_SECRET_KEYS"},
}

var errNoEnv = fmt.Errorf(`neither FROSTD_SECRET_KEYS_FILE nor FROSTD_SECRET_KEYS is set (set one to lines of "ID52: 64-hex-seed"): %w`, ErrNotFound)

// Loader finds keys in a key directory and the environment chain described
// in the package documentation. The zero Loader uses the current directory
// and the process environment.
type Loader struct {
	// Dir is the key directory; empty means the current directory.
	Dir string

	// Getenv reads the environment chain; nil means os.Getenv.
	Getenv func(string) string

	// Warnings receives one line per warning, such as a key file that other
	// users can read; nil means os.Stderr.
	Warnings io.Writer

	// Options configure the signers the Loader returns.
	Options []Option
}

// Load returns the key that ref names: the name of a key in Dir (NAME for
// NAME.private-key or NAME.id52), the ID52 of a key in Dir, or the start of
// one that matches exactly one key there, tried in that order. An ID52
// with no key in Dir is looked up in the environment chain. Errors wrap
// ErrNotFound when nothing matches.
func (l Loader) Load(ref string) (*LocalSigner, error) {
	if ref == "" {
		return nil, fmt.Errorf("no key given: pass a key name, an ID52 or the start of one: %w", ErrNotFound)
	}
	if err := checkName(ref); err != nil {
		return nil, err
	}
	// A file name wins, for fastn-style names such as "entity".
	for _, ext := range []string{keyExt, id52Ext} {
		ok, err := exists(filepath.Join(l.dir(), ref+ext))
		if err != nil {
			return nil, err
		}
		if ok {
			return l.LoadDir(ref)
		}
	}

	keys, skipped, err := l.list()
	if err != nil {
		return nil, err
	}
	want := asciiLower(ref)
	var matches []dirKey
	for _, k := range keys {
		if strings.HasPrefix(k.id52, want) && (len(matches) == 0 || matches[len(matches)-1].id52 != k.id52) {
			matches = append(matches, k)
		}
	}
	switch {
	case len(matches) == 1:
		return l.LoadDir(matches[0].name)
	case len(matches) > 1:
		var ids []string
		for _, m := range matches {
			ids = append(ids, m.id52)
		}
		return nil, fmt.Errorf("%q matches %d keys in %s (%s); give more of the ID52", ref, len(matches), l.dir(), strings.Join(ids, ", "))
	}

	if pub, err := id52.Decode(ref); err == nil {
		s, err := l.LoadEnv(id52.Encode(pub))
		if errors.Is(err, errNoEnv) {
			return nil, fmt.Errorf("no key for %s: no key file for it in %s, and %w", want, l.dir(), err)
		}
		return s, err
	}
	if _, err := checkPrefix(ref); err != nil {
		return nil, fmt.Errorf("%q is neither a key name in %s nor the start of an ID52: %w", ref, l.dir(), err)
	}
	if _, err := os.Stat(l.dir()); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("key directory %s does not exist; pass the directory that holds key %q: %w", l.dir(), ref, ErrNotFound)
	}
	note := ""
	if len(skipped) > 0 {
		note = fmt.Sprintf(" (skipped unreadable key files: %s)", strings.Join(skipped, ", "))
	}
	return nil, fmt.Errorf("no key in %s has a name or ID52 starting with %q%s; check the directory, or pass the full ID52 to look it up in FROSTD_SECRET_KEYS: %w",
		l.dir(), ref, note, ErrNotFound)
}

// LoadDir returns the key named name in Dir, from name.private-key or,
// through the environment chain, name.id52. If name is itself an ID52, the
// key must have that ID52.
func (l Loader) LoadDir(name string) (*LocalSigner, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	keyPath := filepath.Join(l.dir(), name+keyExt)
	idPath := filepath.Join(l.dir(), name+id52Ext)
	hasKey, err := exists(keyPath)
	if err != nil {
		return nil, err
	}
	hasID, err := exists(idPath)
	if err != nil {
		return nil, err
	}

	var s *LocalSigner
	var from string // the file s came from, for messages
	switch {
	case hasKey && hasID:
		return nil, fmt.Errorf("both %s and %s exist, so it is unclear which is key %q; remove one (%s holds the seed, %s names a key whose seed is in FROSTD_SECRET_KEYS)",
			keyPath, idPath, name, keyExt, id52Ext)
	case hasKey:
		content, err := l.readSecret(keyPath, true)
		if err != nil {
			return nil, err
		}
		seed, err := parseSeedHex(strings.TrimSpace(content))
		if err != nil {
			return nil, fmt.Errorf("key file %s: %w", keyPath, err)
		}
		if s, err = FromSeed(seed, l.Options...); err != nil {
			return nil, err
		}
		from = keyPath
	case hasID:
		want, err := readID52File(idPath)
		if err != nil {
			return nil, err
		}
		if pub, err := id52.Decode(name); err == nil && id52.Encode(pub) != want {
			return nil, fmt.Errorf("%s holds ID52 %s, not the one in its name; fix the file or rename it: %w", idPath, want, signer.ErrBadKey)
		}
		if s, err = l.LoadEnv(want); err != nil {
			return nil, fmt.Errorf("%s names key %s, whose seed comes from the environment, but: %w", idPath, want, err)
		}
		from = idPath
	default:
		if _, err := os.Stat(l.dir()); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("key directory %s does not exist; pass the directory that holds the keys: %w", l.dir(), ErrNotFound)
		}
		return nil, fmt.Errorf("no key %q in %s: neither %s nor %s exists: %w", name, l.dir(), name+keyExt, name+id52Ext, ErrNotFound)
	}

	if pub, err := id52.Decode(name); err == nil && !pub.Equal(s.pub) {
		return nil, fmt.Errorf("%s is for key %s, not for the ID52 in its name; restore the right key or rename the file: %w",
			from, s.ID52(), signer.ErrBadKey)
	}
	return s, nil
}

// LoadEnv returns the key for the ID52 from the environment chain.
func (l Loader) LoadEnv(id string) (*LocalSigner, error) {
	pub, err := id52.Decode(id)
	if err != nil {
		return nil, err
	}
	want := id52.Encode(pub)
	lines, source, err := l.envKeyLines()
	if err != nil {
		return nil, err
	}
	for _, kl := range lines {
		if !strings.HasPrefix(want, kl.prefix) {
			continue
		}
		s, err := FromSeed(kl.seed, l.Options...)
		if err != nil {
			return nil, err
		}
		if s.ID52() != want {
			return nil, fmt.Errorf("%s line %d (prefix %q) is the first to match %s, but its seed is the key of %s; fix the seed, or lengthen the prefix if two keys share it: %w",
				source, kl.num, kl.prefix, want, s.ID52(), signer.ErrBadKey)
		}
		return s, nil
	}
	return nil, fmt.Errorf("%s has no line for %s (no prefix matches); add a line %q: %w", source, want, want+": <64-hex-seed>", ErrNotFound)
}

// Generate makes a new key and saves it in Dir with Save.
func (l Loader) Generate() (*LocalSigner, string, error) {
	s, err := Generate(l.Options...)
	if err != nil {
		return nil, "", err
	}
	path, err := l.Save(s)
	if err != nil {
		return nil, "", err
	}
	return s, path, nil
}

// Save writes s's seed to Dir/ID52.private-key, readable by the owner only,
// creating Dir (mode 0700) if needed. It never overwrites a file, and
// returns the path written.
func (l Loader) Save(s *LocalSigner) (string, error) {
	dir := l.dir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating key directory: %w", err)
	}
	idPath := filepath.Join(dir, s.ID52()+id52Ext)
	switch ok, err := exists(idPath); {
	case err != nil:
		return "", err
	case ok:
		return "", fmt.Errorf("%s already exists; a .private-key beside it would make the key ambiguous, so remove it first", idPath)
	}
	path := filepath.Join(dir, s.ID52()+keyExt)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("%s already exists; not overwriting a key", path)
	}
	if err != nil {
		return "", fmt.Errorf("saving key: %w", err)
	}
	_, werr := fmt.Fprintf(f, "%x\n", s.priv.Seed())
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("saving key to %s: %w", path, err)
	}
	return path, nil
}

func (l Loader) dir() string {
	if l.Dir == "" {
		return "."
	}
	return l.Dir
}

func (l Loader) getenv(name string) string {
	if l.Getenv == nil {
		return os.Getenv(name)
	}
	return l.Getenv(name)
}

func (l Loader) warn(format string, args ...any) {
	w := l.Warnings
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, "warning: "+format+"\n", args...)
}

// envKeyLines returns the key lines of the first environment family that is
// set, and a name for that source in messages.
func (l Loader) envKeyLines() (lines []keyLine, source string, err error) {
	for _, fam := range envFamilies {
		path, inline := l.getenv(fam.file), l.getenv(fam.inline)
		var content string
		switch {
		case path == "" && inline == "":
			continue
		case path != "" && inline != "":
			return nil, "", fmt.Errorf("both %s and %s are set; unset one, so it is clear where keys come from", fam.file, fam.inline)
		case path != "":
			source = fmt.Sprintf("%s (%s)", fam.file, path)
			if content, err = l.readSecret(path, true); err != nil {
				return nil, "", fmt.Errorf("%s: %w; fix the path or unset %s", fam.file, err, fam.file)
			}
		default:
			source, content = fam.inline, inline
		}
		if lines, err = parseKeyLines(content); err != nil {
			return nil, "", fmt.Errorf("%s %w", source, err)
		}
		return lines, source, nil
	}
	return nil, "", errNoEnv
}

// readSecret reads a key file or keys file, warning if others can read it.
func (l Loader) readSecret(path string, warn bool) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if fi.IsDir() {
		return "", fmt.Errorf("%s is a directory, not a key file", path)
	}
	if perm := fi.Mode().Perm(); warn && runtime.GOOS != "windows" && perm&0o077 != 0 {
		l.warn("%s is accessible to group or others (mode %04o); run: chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", err
	}
	if len(data) > maxSecretFile {
		return "", fmt.Errorf("%s is over %d bytes, too big for a key file; is it the right file?", path, maxSecretFile)
	}
	return string(data), nil
}

func readID52File(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	pub, err := id52.Decode(strings.TrimSpace(string(data)))
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return id52.Encode(pub), nil
}

// dirKey is a key file in the key directory and the ID52 it holds.
type dirKey struct {
	name string // file name without extension
	id52 string
	ext  string
}

// list returns the keys in Dir, sorted by ID52 with .private-key files
// first, and a description of each key file it could not read. A missing
// Dir has no keys.
func (l Loader) list() (keys []dirKey, skipped []string, err error) {
	entries, err := os.ReadDir(l.dir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("listing key directory: %w", err)
	}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != keyExt && ext != id52Ext) {
			continue
		}
		name := strings.TrimSuffix(e.Name(), ext)
		if name == "" {
			continue
		}
		path := filepath.Join(l.dir(), e.Name())
		var id string
		var err error
		if ext == id52Ext {
			id, err = readID52File(path)
		} else {
			id, err = l.keyFileID52(path)
		}
		if err != nil {
			// A broken file named by its ID52 still matches, so that
			// loading it reports what is wrong with it.
			pub, nameErr := id52.Decode(name)
			if nameErr != nil {
				skipped = append(skipped, e.Name())
				continue
			}
			id = id52.Encode(pub)
		}
		keys = append(keys, dirKey{name: name, id52: id, ext: ext})
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].id52 != keys[j].id52 {
			return keys[i].id52 < keys[j].id52
		}
		return keys[i].ext == keyExt && keys[j].ext != keyExt
	})
	return keys, skipped, nil
}

func (l Loader) keyFileID52(path string) (string, error) {
	content, err := l.readSecret(path, false)
	if err != nil {
		return "", err
	}
	seed, err := parseSeedHex(strings.TrimSpace(content))
	if err != nil {
		return "", err
	}
	s, err := FromSeed(seed)
	if err != nil {
		return "", err
	}
	return s.ID52(), nil
}

// checkName rejects key names that would reach outside the key directory.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || strings.ContainsRune(name, filepath.Separator) {
		return fmt.Errorf("%q is not a key name: give the name of a key file without its directory or extension, and the directory separately", name)
	}
	return nil
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("checking for a key file: %w", err)
	}
}
