package local

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/signer"
)

// keyLine is one "prefix: seed" line of the environment chain.
type keyLine struct {
	num    int    // 1-based, for messages
	prefix string // lower case, a prefix of some ID52
	seed   []byte
}

const id52Alphabet = "0123456789abcdefghijklmnopqrstuv"

// parseKeyLines parses key lines. Any malformed line is an error, even one
// for another key, so a typo shows on first use and not on the day that key
// is needed. Messages never quote a line, as it may hold a seed.
func parseKeyLines(content string) ([]keyLine, error) {
	var lines []keyLine
	for i, raw := range strings.Split(content, "\n") {
		num := i + 1
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		prefix, seedHex, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf(`line %d has no colon; write "ID52-prefix: 64-hex-seed": %w`, num, signer.ErrBadKey)
		}
		prefix, err := checkPrefix(strings.TrimSpace(prefix))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", num, err)
		}
		seed, err := parseSeedHex(strings.TrimSpace(seedHex))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", num, err)
		}
		lines = append(lines, keyLine{num: num, prefix: prefix, seed: seed})
	}
	return lines, nil
}

// checkPrefix returns p in lower case if some ID52 can start with it.
func checkPrefix(p string) (string, error) {
	switch {
	case p == "":
		return "", fmt.Errorf(`nothing before the colon; put the key's ID52, or its first few characters, there: %w`, signer.ErrBadKey)
	case len(p) > id52.Len:
		// Not quoted: a prefix this long may be a seed on the wrong side.
		return "", fmt.Errorf("prefix is %d characters, longer than an ID52 (%d); put the ID52 before the colon and the seed after it: %w", len(p), id52.Len, signer.ErrBadKey)
	}
	p = asciiLower(p) // strings.ToLower would turn the Kelvin sign into a valid 'k'
	if i := strings.IndexFunc(p, func(r rune) bool { return !strings.ContainsRune(id52Alphabet, r) }); i >= 0 {
		// Not quoted either: the line may be a mangled seed.
		return "", fmt.Errorf("prefix has %q at position %d, which no ID52 contains (ID52s use 0-9 and a-v): %w",
			[]rune(p[i:])[0], len([]rune(p[:i]))+1, signer.ErrBadKey)
	}
	return p, nil
}

// parseSeedHex parses a 32-byte seed in lowercase hex, as fastn writes it.
// Messages give positions, never characters, as the input is secret.
func parseSeedHex(s string) ([]byte, error) {
	const want = 2 * 32
	if len(s) != want {
		hint := ""
		switch len(s) {
		case 0:
			hint = "; it is empty"
		case id52.Len:
			hint = "; that is the length of an ID52, which is the public key, not the seed"
		case 2 * want:
			hint = "; that is a 64-byte private key: keep its first 64 characters, the seed"
		}
		return nil, fmt.Errorf("seed is %d characters, want %d lowercase hex characters (32 bytes)%s: %w", len(s), want, hint, signer.ErrBadKey)
	}
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return nil, fmt.Errorf("seed character %d of %d is not a lowercase hex digit (0-9, a-f): %w", i+1, want, signer.ErrBadKey)
		}
	}
	seed, err := hex.DecodeString(s)
	if err != nil { // unreachable after the checks above
		return nil, fmt.Errorf("seed is not hex: %w", signer.ErrBadKey)
	}
	return seed, nil
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}
