package id52

import (
	"crypto/ed25519"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/frostd/frostd/signer"
)

// codec is one 32-symbol alphabet over the same bit layout: RFC 4648
// order, most significant bit first, no padding.
type codec struct {
	name     string
	alphabet string
	values   [256]int8 // symbol value by ASCII byte, both cases; -1 if invalid
}

func newCodec(name, alphabet string) *codec {
	c := &codec{name: name, alphabet: alphabet}
	for i := range c.values {
		c.values[i] = -1
	}
	for i := range len(alphabet) {
		lower := alphabet[i]
		c.values[lower] = int8(i)
		if 'a' <= lower && lower <= 'z' {
			c.values[lower-'a'+'A'] = int8(i)
		}
	}
	return c
}

func (c *codec) encode(pub []byte) string {
	var out [Len]byte
	var acc uint // only the low nbits bits are pending
	var nbits uint
	j := 0
	for _, b := range pub {
		acc = acc<<8 | uint(b)
		nbits += 8
		for nbits >= 5 {
			nbits -= 5
			out[j] = c.alphabet[(acc>>nbits)&31]
			j++
		}
	}
	// 256 = 51*5 + 1: one bit left, padded on the right with four zeros.
	out[j] = c.alphabet[(acc<<(5-nbits))&31]
	return string(out[:])
}

// decode parses s strictly. other, if not nil, is the alphabet the user may
// have confused with c's; errors say so when s is valid there.
func (c *codec) decode(s string, other *codec) (ed25519.PublicKey, error) {
	if n := utf8.RuneCountInString(s); n != Len {
		return nil, c.lengthError(s, n)
	}
	pub := make([]byte, 0, ed25519.PublicKeySize)
	var acc, nbits uint
	pos := 0
	for i, r := range s {
		pos++
		v := int8(-1)
		if r < utf8.RuneSelf {
			v = c.values[r]
		}
		if v < 0 {
			return nil, c.charError(s, i, pos, r, other)
		}
		acc = acc<<5 | uint(v)
		nbits += 5
		if nbits >= 8 {
			nbits -= 8
			pub = append(pub, byte(acc>>nbits))
		}
	}
	if acc&(1<<nbits-1) != 0 {
		last := s[Len-1]
		return nil, fmt.Errorf("%s %s: last character %q sets bits that no key uses; a valid %s ends in %q or %q, so this one is mistyped or corrupted%s: %w",
			c.name, quote(s), last, c.name, c.alphabet[0], c.alphabet[16], other.hint(s), signer.ErrBadKey)
	}
	return pub, nil
}

func (c *codec) lengthError(s string, n int) error {
	hint := ""
	switch trimmed := strings.TrimSpace(s); {
	case s == "":
		hint = " (it is empty)"
	case trimmed != s && utf8.RuneCountInString(trimmed) == Len:
		hint = " (trim the surrounding whitespace)"
	case n == 2*ed25519.PublicKeySize || n == 2*ed25519.PrivateKeySize:
		hint = " (that length is hex, not base32)"
	}
	return fmt.Errorf("%s %s is %d character%s, want %d%s: %w", c.name, quote(s), n, plural(n), Len, hint, signer.ErrBadKey)
}

func (c *codec) charError(s string, i, pos int, r rune, other *codec) error {
	what := fmt.Sprintf("character %q", r)
	if r >= utf8.RuneSelf {
		what = fmt.Sprintf("character %q (%U, not ASCII)", r, r)
	}
	if r == utf8.RuneError {
		if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
			what = fmt.Sprintf("byte %#x (not UTF-8)", s[i])
		}
	}
	return fmt.Errorf("%s %s: %s at position %d of %d is not in the %s alphabet %q%s: %w",
		c.name, quote(s), what, pos, Len, c.name, c.alphabet, other.hint(s), signer.ErrBadKey)
}

// hint says that s is valid in c, for errors from the other alphabet.
func (c *codec) hint(s string) string {
	if c == nil {
		return ""
	}
	if _, err := c.decode(s, nil); err != nil {
		return ""
	}
	return fmt.Sprintf(" (the string is valid %s; decode it as %s instead)", c.name, c.name)
}

// quote quotes s for an error message, cutting long input short.
func quote(s string) string {
	const limit = 64
	if len(s) <= limit {
		return fmt.Sprintf("%q", s)
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q…", s[:cut])
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
