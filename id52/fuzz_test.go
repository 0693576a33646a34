package id52_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/signer"
)

func addSeeds(f *testing.F, encode func(ed25519.PublicKey) string) {
	for _, b := range []byte{0, 1, 0x7f, 0xff} {
		s := encode(keyFrom(b))
		f.Add(s)
		f.Add(strings.ToUpper(s))
		f.Add(s[:51])
		f.Add(s[:51] + "1")
		f.Add(s + "\n")
	}
	f.Add("")
	f.Add(strings.Repeat("é", 52))
}

// asciiUpper upper-cases ASCII letters only, as the decoders fold case.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
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

// FuzzDecode checks Decode against encoding/base32: Decode accepts exactly
// the strings that encoding/base32 decodes to 32 bytes and that encode back
// to themselves (up to case), with the same bytes.
func FuzzDecode(f *testing.F) {
	addSeeds(f, id52.Encode)
	f.Fuzz(func(t *testing.T, s string) {
		pub, err := id52.Decode(s)
		// encoding/base32 skips \r and \n and needs upper case; compare
		// only where it sees what Decode sees.
		std, stdErr := stdHex.DecodeString(asciiUpper(s))
		comparable := !strings.ContainsAny(s, "\r\n")
		if err != nil {
			if !errors.Is(err, signer.ErrBadKey) {
				t.Fatalf("Decode(%q) error %q does not wrap ErrBadKey", s, err)
			}
			if comparable && stdErr == nil && len(std) == 32 && stdID52(std) == asciiLower(s) {
				t.Fatalf("Decode(%q) failed (%v) but encoding/base32 decodes it to %x", s, err, std)
			}
			return
		}
		if len(pub) != ed25519.PublicKeySize {
			t.Fatalf("Decode(%q) returned %d bytes", s, len(pub))
		}
		if stdErr != nil || !bytes.Equal(pub, std) {
			t.Fatalf("Decode(%q) = %x, encoding/base32 says %x, %v", s, pub, std, stdErr)
		}
		if got := id52.Encode(pub); got != asciiLower(s) {
			t.Fatalf("Decode(%q) then Encode = %q: two strings name one key", s, got)
		}
	})
}

// FuzzDecodeZBase32 is FuzzDecode for z-base-32, translated to the standard
// base32 alphabet for the comparison.
func FuzzDecodeZBase32(f *testing.F) {
	addSeeds(f, id52.EncodeZBase32)
	f.Fuzz(func(t *testing.T, s string) {
		pub, err := id52.DecodeZBase32(s)
		lower := asciiLower(s)
		std, stdErr := stdStd.DecodeString(fromZ.Replace(lower))
		// Characters outside both alphabets may translate into the standard
		// one by accident; compare only strings made of z-base-32 symbols.
		comparable := strings.Trim(lower, "ybndrfg8ejkmcpqxot1uwisza345h769") == ""
		if err != nil {
			if !errors.Is(err, signer.ErrBadKey) {
				t.Fatalf("DecodeZBase32(%q) error %q does not wrap ErrBadKey", s, err)
			}
			if comparable && stdErr == nil && len(std) == 32 && stdZBase(std) == lower {
				t.Fatalf("DecodeZBase32(%q) failed (%v) but encoding/base32 decodes it to %x", s, err, std)
			}
			return
		}
		if len(pub) != ed25519.PublicKeySize {
			t.Fatalf("DecodeZBase32(%q) returned %d bytes", s, len(pub))
		}
		if stdErr != nil || !bytes.Equal(pub, std) {
			t.Fatalf("DecodeZBase32(%q) = %x, encoding/base32 says %x, %v", s, pub, std, stdErr)
		}
		if got := id52.EncodeZBase32(pub); got != lower {
			t.Fatalf("DecodeZBase32(%q) then EncodeZBase32 = %q: two strings name one key", s, got)
		}
	})
}

// FuzzRoundTrip checks that every 32-byte key (b, cut or zero-padded to 32
// bytes) survives both encodings, in either case.
func FuzzRoundTrip(f *testing.F) {
	f.Add(make([]byte, 32))
	f.Add(bytes.Repeat([]byte{0xff}, 32))
	f.Fuzz(func(t *testing.T, b []byte) {
		pub := make(ed25519.PublicKey, ed25519.PublicKeySize)
		copy(pub, b)
		for _, s := range []string{id52.Encode(pub), strings.ToUpper(id52.Encode(pub))} {
			got, err := id52.Decode(s)
			if err != nil || !bytes.Equal(got, pub) {
				t.Fatalf("Decode(%s) = %x, %v; want %x", s, got, err, pub)
			}
		}
		for _, s := range []string{id52.EncodeZBase32(pub), strings.ToUpper(id52.EncodeZBase32(pub))} {
			got, err := id52.DecodeZBase32(s)
			if err != nil || !bytes.Equal(got, pub) {
				t.Fatalf("DecodeZBase32(%s) = %x, %v; want %x", s, got, err, pub)
			}
		}
	})
}
