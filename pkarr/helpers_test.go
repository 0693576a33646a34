package pkarr

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/frostd/frostd/signer"
)

// keySigner is a signer.Signer over an in-memory key, standing in for
// signer/local in these tests.
type keySigner struct{ priv ed25519.PrivateKey }

func (s keySigner) PublicKey() ed25519.PublicKey {
	return s.priv.Public().(ed25519.PublicKey)
}

func (s keySigner) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return ed25519.Sign(s.priv, msg), nil
}

// testKey returns a fixed key, so signatures are reproducible.
func testKey(seedByte byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seedByte}, ed25519.SeedSize))
}

// signRaw signs an arbitrary DNS message by hand, bypassing Sign's encoder
// and checks, to build packets Sign would refuse to.
func signRaw(priv ed25519.PrivateKey, ts uint64, dns []byte) *SignedPacket {
	return &SignedPacket{
		PublicKey: priv.Public().(ed25519.PublicKey),
		Signature: ed25519.Sign(priv, bep44Signable(nil, ts, dns)),
		Timestamp: ts,
		DNS:       dns,
	}
}

// irohRecords are records as iroh publishes them.
func irohRecords() []Record {
	return []Record{
		{Name: IrohName, TXT: []string{"relay=https://relay.example/"}, TTL: 30},
		{Name: IrohName, TXT: []string{"addr=1.2.3.4:5678"}, TTL: 30},
	}
}

// wantErr fails t unless err wraps target.
func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one wrapping %q", target)
	}
	if !errors.Is(err, target) {
		t.Fatalf("got error %q, want one wrapping %q", err, target)
	}
}

// classified reports whether err wraps one of the errors the package
// documents, so callers can always tell why a packet was refused.
func classified(err error) bool {
	for _, target := range []error{ErrMalformed, ErrTooLarge, ErrInvalidRecord, signer.ErrBadSignature, signer.ErrBadKey} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
