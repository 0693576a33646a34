package pkarr

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"

	"filippo.io/edwards25519"

	"github.com/frostd/frostd/signer"
)

// The test vectors of BEP 44, "Storing arbitrary data in the DHT"
// (https://www.bittorrent.org/beps/bep_0044.html, section "Test vectors"),
// copied as published.
//
// The BEP gives the private key as 64 bytes in the expanded form of the
// ref10 implementation, clamped scalar ‖ nonce prefix, which is what SHA-512
// of a seed yields; the seed itself is not published, so crypto/ed25519
// cannot load it. expandedKeySigner signs with it directly.
const (
	bep44PublicKey  = "77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548"
	bep44PrivateKey = "e06d3183d14159228433ed599221b80bd0a5ce8352e4bdf0262f76786ef1c74d" +
		"b7e7a9fea2c0eb269d61e3b38e450a22e754941ac78479d6c54e1faf6037881d"
	bep44Value = "Hello World!" // bencoded in the BEP as 12:Hello World!
)

var bep44Vectors = []struct {
	name      string
	salt      string
	signable  string // "buffer being signed" in the BEP
	signature string
}{
	{
		name:     "test 1 (mutable)",
		signable: "3:seqi1e1:v12:Hello World!",
		signature: "305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff" +
			"1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01",
	},
	{
		name:     "test 2 (mutable with salt)",
		salt:     "foobar",
		signable: "4:salt6:foobar3:seqi1e1:v12:Hello World!",
		signature: "6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17d" +
			"df9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08",
	},
}

// expandedKeySigner is a signer.Signer over an expanded Ed25519 private key
// (clamped scalar ‖ prefix), signing as RFC 8032 section 5.1.6 does from
// step 2 on.
type expandedKeySigner struct {
	expanded []byte
}

func (s expandedKeySigner) scalar() *edwards25519.Scalar {
	a, err := edwards25519.NewScalar().SetBytesWithClamping(s.expanded[:32])
	if err != nil {
		panic(err) // 32 bytes always fit
	}
	return a
}

func (s expandedKeySigner) PublicKey() ed25519.PublicKey {
	return new(edwards25519.Point).ScalarBaseMult(s.scalar()).Bytes()
}

func (s expandedKeySigner) Sign(_ context.Context, msg []byte) ([]byte, error) {
	h := sha512.New()
	h.Write(s.expanded[32:])
	h.Write(msg)
	r, err := edwards25519.NewScalar().SetUniformBytes(h.Sum(nil))
	if err != nil {
		return nil, err
	}
	R := new(edwards25519.Point).ScalarBaseMult(r).Bytes()

	h.Reset()
	h.Write(R)
	h.Write(s.PublicKey())
	h.Write(msg)
	k, err := edwards25519.NewScalar().SetUniformBytes(h.Sum(nil))
	if err != nil {
		return nil, err
	}
	S := edwards25519.NewScalar().MultiplyAdd(k, s.scalar(), r)
	return append(R, S.Bytes()...), nil
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBEP44Vectors(t *testing.T) {
	pub := mustHex(t, bep44PublicKey)
	s := expandedKeySigner{expanded: mustHex(t, bep44PrivateKey)}
	if got := s.PublicKey(); !bytes.Equal(got, pub) {
		t.Fatalf("public key of the BEP's private key = %x, want %x", got, pub)
	}

	for _, v := range bep44Vectors {
		t.Run(v.name, func(t *testing.T) {
			wantSig := mustHex(t, v.signature)
			msg := bep44Signable([]byte(v.salt), 1, []byte(bep44Value))
			if string(msg) != v.signable {
				t.Fatalf("signable = %q, want %q", msg, v.signable)
			}
			if !ed25519.Verify(pub, msg, wantSig) {
				t.Fatal("crypto/ed25519.Verify rejects the BEP's signature over our signable")
			}
			sig, err := s.Sign(t.Context(), msg)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(sig, wantSig) {
				t.Fatalf("signature = %x, want the BEP's %x", sig, wantSig)
			}
			// Off by one in seq, or a dropped salt, must not verify.
			if ed25519.Verify(pub, bep44Signable([]byte(v.salt), 2, []byte(bep44Value)), wantSig) {
				t.Fatal("signature verifies for seq=2")
			}
			if v.salt != "" && ed25519.Verify(pub, bep44Signable(nil, 1, []byte(bep44Value)), wantSig) {
				t.Fatal("salted signature verifies without the salt")
			}
		})
	}
}

// TestBEP44VectorAsPacket feeds the unsalted vector through Parse, as a
// pkarr packet with timestamp 1 and "Hello World!" for DNS: the signature
// must pass and the DNS parse fail, which shows Parse verifies exactly the
// BEP 44 signable.
func TestBEP44VectorAsPacket(t *testing.T) {
	pub := mustHex(t, bep44PublicKey)
	sig := mustHex(t, bep44Vectors[0].signature)
	packet := func(ts uint64) []byte {
		b := append(bytes.Clone(pub), sig...)
		b = binary.BigEndian.AppendUint64(b, ts)
		return append(b, bep44Value...)
	}

	_, err := Parse(packet(1))
	wantErr(t, err, ErrMalformed)
	if errors.Is(err, signer.ErrBadSignature) {
		t.Fatalf("error %q blames the signature, which is the BEP's and valid", err)
	}

	_, err = Parse(packet(2))
	wantErr(t, err, signer.ErrBadSignature)
}
