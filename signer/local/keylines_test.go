package local

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/frostd/frostd/signer"
)

const seedA = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

func TestParseKeyLines(t *testing.T) {
	content := "# keys\r\n\r\n  0EGG : " + seedA + "\r\n\t# indented comment\nq:" + strings.Repeat("ff", 32)
	lines, err := parseKeyLines(content)
	if err != nil {
		t.Fatal(err)
	}
	want := []keyLine{
		{num: 3, prefix: "0egg", seed: mustHex(seedA)},
		{num: 5, prefix: "q", seed: bytes.Repeat([]byte{0xff}, 32)},
	}
	if fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Fatalf("parsed %v, want %v", lines, want)
	}
	if lines, err := parseKeyLines(""); err != nil || len(lines) != 0 {
		t.Fatalf("empty content: %v, %v; want no lines", lines, err)
	}
}

func TestParseKeyLinesErrors(t *testing.T) {
	tests := []struct{ content, want string }{
		{seedA, "line 1 has no colon"},
		{"# c\n\nabc " + seedA, "line 3 has no colon"},
		{":" + seedA, "line 1: nothing before the colon"},
		{"abc:", "line 1: seed is 0 characters"},
		{"abc: " + seedA + ": extra", "line 1: seed is 71 characters"},
		{"abc: " + seedA + " # comment", "line 1: seed is 74 characters"},
		{"a b: " + seedA, `line 1: prefix has ' ' at position 2`},
		{"aé: " + seedA, `line 1: prefix has 'é' at position 2`},
		{"a\u212a: " + seedA, "has '\u212a' at position 2"}, // Kelvin sign, not k
		{strings.Repeat("a", 53) + ": " + seedA, "prefix is 53 characters"},
		{"abc: " + strings.Replace(seedA, "0a", "0g", 1), "seed character 22 of 64 is not a lowercase hex digit"},
	}
	for _, tt := range tests {
		_, err := parseKeyLines(tt.content)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, signer.ErrBadKey) {
			t.Errorf("parseKeyLines(%q) error %v, want one wrapping ErrBadKey that says %q", tt.content, err, tt.want)
		}
	}
}

var hexRun = regexp.MustCompile(`[0-9a-fA-F]{16,}`)

// FuzzParseKeyLines checks that the parser never panics, that what it
// accepts is well formed and parses again the same, and that its errors
// are one line and never quote a run of hex that could be a seed.
func FuzzParseKeyLines(f *testing.F) {
	f.Add("")
	f.Add("# comment\n\n0egg: " + seedA + "\n")
	f.Add("0egg:" + seedA + "\r\nq : " + seedA)
	f.Add(seedA)
	f.Add(seedA + ": 0egg")
	f.Add(": " + seedA)
	f.Add("0egg: " + seedA[:63] + "G")
	f.Add("a\u212a: " + seedA)
	f.Fuzz(func(t *testing.T, content string) {
		lines, err := parseKeyLines(content)
		if err != nil {
			if !errors.Is(err, signer.ErrBadKey) {
				t.Fatalf("error %q does not wrap ErrBadKey", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q spans lines", err)
			}
			for _, run := range hexRun.FindAllString(content, -1) {
				if strings.Contains(err.Error(), run) {
					t.Fatalf("error %q quotes %q from the input", err, run)
				}
			}
			return
		}
		var again strings.Builder
		for _, kl := range lines {
			if len(kl.seed) != 32 || kl.prefix == "" || len(kl.prefix) > 52 || strings.Trim(kl.prefix, id52Alphabet) != "" {
				t.Fatalf("accepted a malformed line: %+v", kl)
			}
			fmt.Fprintf(&again, "%s: %x\n", kl.prefix, kl.seed)
		}
		reparsed, err := parseKeyLines(again.String())
		if err != nil || len(reparsed) != len(lines) {
			t.Fatalf("re-parsing %q: %d lines, %v; want %d lines", again.String(), len(reparsed), err, len(lines))
		}
		for i := range lines {
			if reparsed[i].prefix != lines[i].prefix || !bytes.Equal(reparsed[i].seed, lines[i].seed) {
				t.Fatalf("line %d re-parsed as %+v, want %+v", i, reparsed[i], lines[i])
			}
		}
	})
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
