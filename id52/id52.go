// Package id52 names Ed25519 public keys with short, case-insensitive,
// DNS-safe strings.
//
// An ID52 is a 32-byte Ed25519 public key written in the RFC 4648 base32hex
// alphabet (0-9 then a-v), lowercase, without padding. 256 bits make 52
// characters of 5 bits each; the last character carries 1 bit of key and 4
// zero bits. fastn and malai name their entities this way, and 52
// characters fit in one DNS label, so an ID52 can be a subdomain.
//
//	pub, _, _ := ed25519.GenerateKey(nil)
//	name := id52.Encode(pub)       // 52 characters, [0-9a-v]
//	pub2, err := id52.Decode(name) // the same 32 bytes
//
// The same 260 bits can also be written in z-base-32 ([EncodeZBase32],
// [DecodeZBase32]), the alphabet pkarr uses to publish keys in DNS. Both
// forms name the same key; only the alphabet differs.
//
// # Strict decoding
//
// Every key has exactly one encoding in each form, so two strings name the
// same key only if they are equal (ignoring case). Decode and DecodeZBase32
// accept upper case, because DNS does not preserve case, and reject
// everything else: a length other than 52, a character outside the
// alphabet, or a last character whose 4 unused bits are not zero. Without
// that last check 16 different strings would decode to each key, and an
// allow-list comparing strings could be bypassed.
//
// Errors wrap [signer.ErrBadKey] and name the offending character and its
// position. Decoding does not check that the 32 bytes are a point on the
// curve; ed25519.Verify rejects signatures for keys that are not.
package id52

import (
	"crypto/ed25519"
	"fmt"
)

// Len is the length of an ID52 and of the z-base-32 form of a public key.
const Len = 52

var (
	base32hex = newCodec("ID52", "0123456789abcdefghijklmnopqrstuv")
	zbase32   = newCodec("z-base-32", "ybndrfg8ejkmcpqxot1uwisza345h769")
)

// Encode returns the ID52 of pub: 52 characters of [0-9a-v].
// It panics if pub is not 32 bytes, as crypto/ed25519 does for bad keys.
func Encode(pub ed25519.PublicKey) string {
	mustBeKey("Encode", pub)
	return base32hex.encode(pub)
}

// Decode parses an ID52, in any case, into a public key. The error wraps
// signer.ErrBadKey and says what is wrong with s.
func Decode(s string) (ed25519.PublicKey, error) {
	return base32hex.decode(s, zbase32)
}

// EncodeZBase32 returns pub in z-base-32, as pkarr writes keys: 52
// characters of ybndrfg8ejkmcpqxot1uwisza345h769.
// It panics if pub is not 32 bytes.
func EncodeZBase32(pub ed25519.PublicKey) string {
	mustBeKey("EncodeZBase32", pub)
	return zbase32.encode(pub)
}

// DecodeZBase32 parses the z-base-32 form of a public key, in any case,
// with the same strictness as Decode.
func DecodeZBase32(s string) (ed25519.PublicKey, error) {
	return zbase32.decode(s, base32hex)
}

func mustBeKey(fn string, pub ed25519.PublicKey) {
	if len(pub) != ed25519.PublicKeySize {
		panic(fmt.Sprintf("id52: %s of a %d-byte public key, want %d", fn, len(pub), ed25519.PublicKeySize))
	}
}
