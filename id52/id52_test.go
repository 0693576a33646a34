package id52_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base32"
	"errors"
	"strings"
	"testing"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/signer"
)

// The standard library's base32 is an independent implementation of the
// same bit layout; z-base-32 is its standard alphabet translated. It does
// not reject non-zero trailing bits, so tests check those separately.
var (
	stdHex = base32.HexEncoding.WithPadding(base32.NoPadding)
	stdStd = base32.StdEncoding.WithPadding(base32.NoPadding)
	toZ    = strings.NewReplacer(pairs("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "ybndrfg8ejkmcpqxot1uwisza345h769")...)
	fromZ  = strings.NewReplacer(pairs("ybndrfg8ejkmcpqxot1uwisza345h769", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")...)
)

func pairs(from, to string) []string {
	var p []string
	for i := range len(from) {
		p = append(p, from[i:i+1], to[i:i+1])
	}
	return p
}

func stdID52(pub []byte) string  { return strings.ToLower(stdHex.EncodeToString(pub)) }
func stdZBase(pub []byte) string { return toZ.Replace(stdStd.EncodeToString(pub)) }

func keyFrom(b byte) ed25519.PublicKey { return bytes.Repeat([]byte{b}, ed25519.PublicKeySize) }

func TestKnownValues(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	counting := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)

	tests := []struct {
		name       string
		pub        ed25519.PublicKey
		id52, zb32 string
	}{
		{"zeros", keyFrom(0), strings.Repeat("0", 52), strings.Repeat("y", 52)},
		{"ones", keyFrom(0xff), strings.Repeat("v", 51) + "g", strings.Repeat("9", 51) + "o"},
		// Also in signer/local's Python cross-check.
		{"seed 0..31", counting,
			"0eggffvjpo8bs7bgrkceeiu0j5ju9lhgjeigqnotri3684il66s0",
			"yqooxx9u3aemh8mo5wcqq16yufu6jitouq1o4za751dger1igghy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := id52.Encode(tt.pub); got != tt.id52 {
				t.Errorf("Encode = %s, want %s", got, tt.id52)
			}
			if got := id52.EncodeZBase32(tt.pub); got != tt.zb32 {
				t.Errorf("EncodeZBase32 = %s, want %s", got, tt.zb32)
			}
			if got, err := id52.Decode(tt.id52); err != nil || !bytes.Equal(got, tt.pub) {
				t.Errorf("Decode(%s) = %x, %v; want %x", tt.id52, got, err, tt.pub)
			}
			if got, err := id52.DecodeZBase32(tt.zb32); err != nil || !bytes.Equal(got, tt.pub) {
				t.Errorf("DecodeZBase32(%s) = %x, %v; want %x", tt.zb32, got, err, tt.pub)
			}
		})
	}
}

func TestMatchesStandardLibrary(t *testing.T) {
	for i := range 256 {
		pub := make([]byte, 32)
		for j := range pub {
			pub[j] = byte(i*31 + j*j*7 + j)
		}
		if got, want := id52.Encode(pub), stdID52(pub); got != want {
			t.Fatalf("Encode(%x) = %s, encoding/base32 says %s", pub, got, want)
		}
		if got, want := id52.EncodeZBase32(pub), stdZBase(pub); got != want {
			t.Fatalf("EncodeZBase32(%x) = %s, encoding/base32 translated says %s", pub, got, want)
		}
	}
}

func TestDecodeIgnoresCase(t *testing.T) {
	pub := keyFrom(0xa5)
	for _, s := range []string{strings.ToUpper(id52.Encode(pub)), mixCase(id52.Encode(pub))} {
		if got, err := id52.Decode(s); err != nil || !bytes.Equal(got, pub) {
			t.Errorf("Decode(%s) = %x, %v; want %x", s, got, err, pub)
		}
	}
	for _, s := range []string{strings.ToUpper(id52.EncodeZBase32(pub)), mixCase(id52.EncodeZBase32(pub))} {
		if got, err := id52.DecodeZBase32(s); err != nil || !bytes.Equal(got, pub) {
			t.Errorf("DecodeZBase32(%s) = %x, %v; want %x", s, got, err, pub)
		}
	}
}

func mixCase(s string) string {
	b := []byte(s)
	for i := 0; i < len(b); i += 2 {
		if 'a' <= b[i] && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

func TestDecodeErrors(t *testing.T) {
	good := id52.Encode(keyFrom(0x42))
	goodZ := id52.EncodeZBase32(keyFrom(0x42))
	tests := []struct {
		name   string
		decode func(string) (ed25519.PublicKey, error)
		in     string
		want   []string // substrings of the message
	}{
		{"empty", id52.Decode, "", []string{"0 characters, want 52", "it is empty"}},
		{"short", id52.Decode, good[:51], []string{"51 characters, want 52"}},
		{"long", id52.Decode, good + "0", []string{"53 characters, want 52"}},
		{"newline", id52.Decode, good + "\n", []string{"53 characters", "trim the surrounding whitespace"}},
		{"hex", id52.Decode, strings.Repeat("ab", 32), []string{"64 characters", "hex, not base32"}},
		{"bad char", id52.Decode, good[:6] + "w" + good[7:], []string{`character 'w' at position 7 of 52`, "ID52 alphabet"}},
		{"first char", id52.Decode, "!" + good[1:], []string{`character '!' at position 1 of 52`}},
		{"unicode", id52.Decode, good[:10] + "é" + good[11:], []string{`character 'é' (U+00E9, not ASCII) at position 11 of 52`}},
		{"kelvin sign", id52.Decode, good[:51] + "\u212a", []string{`(U+212A, not ASCII) at position 52`}},
		{"invalid utf8", id52.Decode, good[:3] + "\xff" + good[4:], []string{"byte 0xff (not UTF-8) at position 4"}},
		{"trailing bits", id52.Decode, good[:51] + "1", []string{`last character '1'`, `ends in '0' or 'g'`}},
		{"z-base-32 given", id52.Decode, goodZ, []string{"ID52 alphabet", "valid z-base-32"}},

		{"z empty", id52.DecodeZBase32, "", []string{"z-base-32", "0 characters, want 52"}},
		{"z bad char", id52.DecodeZBase32, goodZ[:20] + "0" + goodZ[21:], []string{`character '0' at position 21 of 52`, "z-base-32 alphabet"}},
		{"z trailing bits", id52.DecodeZBase32, goodZ[:51] + "b", []string{`last character 'b'`, `ends in 'y' or 'o'`}},
		{"ID52 given", id52.DecodeZBase32, strings.Repeat("0", 52), []string{"z-base-32 alphabet", "valid ID52"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, err := tt.decode(tt.in)
			if err == nil {
				t.Fatalf("decoded %q to %x, want an error", tt.in, pub)
			}
			if !errors.Is(err, signer.ErrBadKey) {
				t.Errorf("error %q does not wrap signer.ErrBadKey", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans lines", err)
			}
		})
	}
}

// Only the last character's first bit is key; the four after it must be
// zero, so each key has one ID52 and one z-base-32 form.
func TestOneEncodingPerKey(t *testing.T) {
	const hexAlphabet = "0123456789abcdefghijklmnopqrstuv"
	const zAlphabet = "ybndrfg8ejkmcpqxot1uwisza345h769"
	prefix := id52.Encode(keyFrom(7))[:51]
	zprefix := id52.EncodeZBase32(keyFrom(7))[:51]
	for i := range 32 {
		_, err := id52.Decode(prefix + hexAlphabet[i:i+1])
		_, zerr := id52.DecodeZBase32(zprefix + zAlphabet[i:i+1])
		canonical := i == 0 || i == 16
		if (err == nil) != canonical || (zerr == nil) != canonical {
			t.Errorf("last symbol %d: Decode err %v, DecodeZBase32 err %v; want success only for symbols 0 and 16", i, err, zerr)
		}
	}
}

func TestEncodePanicsOnWrongLength(t *testing.T) {
	for _, enc := range []func(ed25519.PublicKey) string{id52.Encode, id52.EncodeZBase32} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(r.(string), "31-byte public key") {
					t.Errorf("recovered %v, want a panic naming the 31-byte key", r)
				}
			}()
			enc(make([]byte, 31))
		}()
	}
}

func TestLongInputIsCutInMessage(t *testing.T) {
	_, err := id52.Decode(strings.Repeat("a", 10000))
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("error for a 10000-byte input is %d bytes long: %v", len(err.Error()), err)
	}
}
