package coordinator_test

import (
	"context"
	"crypto/ed25519"
	"path/filepath"
	"testing"

	"github.com/bytemare/frost"
	"github.com/bytemare/secret-sharing/keys"

	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/internal/testcluster"
	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/participant/boltstore"
	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/sealed"
)

// BenchmarkSign3of5 is one 3-of-5 signature through the coordinator
// Service, the in-memory transport and participants with memory stores:
// commitments come from the pools, so each signature is one round.
func BenchmarkSign3of5(b *testing.B) {
	c := testcluster.New(b, 3, 5, testcluster.Options{})
	msg := []byte("benchmark message")
	ctx := context.Background()
	if _, err := c.Service.Sign(ctx, msg); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Service.Sign(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSign3of5Bolt is BenchmarkSign3of5 with the production nonce
// store: bbolt, each spend committed with fsync before the share leaves.
func BenchmarkSign3of5Bolt(b *testing.B) {
	c := testcluster.New(b, 3, 5, testcluster.Options{NewStore: func(tb testing.TB, id protocol.ParticipantID) participant.NonceStore {
		s, err := boltstore.Open(filepath.Join(tb.TempDir(), "nonces.db"), sealed.Key{InsecurePlaintext: true})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	}})
	msg := []byte("benchmark message")
	ctx := context.Background()
	if _, err := c.Service.Sign(ctx, msg); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Service.Sign(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSign3of5Batch64 signs 64 messages per request; ns/op is per request.
func BenchmarkSign3of5Batch64(b *testing.B) {
	c := testcluster.New(b, 3, 5, testcluster.Options{})
	msgs := make([][]byte, 64)
	for i := range msgs {
		msgs[i] = []byte{byte(i)}
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.Service.SignBatch(ctx, msgs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBytemare3of5 is bytemare/frost's own in-process loop for one
// 3-of-5 signature: three commits, three shares, aggregation, and the final
// check with crypto/ed25519, with no store, transport or coordinator.
func BenchmarkBytemare3of5(b *testing.B) {
	g, keyShares, err := dkg.DealRandom(3, 5)
	if err != nil {
		b.Fatal(err)
	}
	conf, err := g.Frost()
	if err != nil {
		b.Fatal(err)
	}
	signers := make([]*frost.Signer, 3)
	for i := range signers {
		var ks *keys.KeyShare
		if ks, err = keyShares[i].Frost(g); err != nil {
			b.Fatal(err)
		}
		if signers[i], err = conf.Signer(ks); err != nil {
			b.Fatal(err)
		}
	}
	msg := []byte("benchmark message")
	for b.Loop() {
		list := make(frost.CommitmentList, 3)
		for i, s := range signers {
			list[i] = s.Commit()
		}
		shares := make([]*frost.SignatureShare, 3)
		for i, s := range signers {
			if shares[i], err = s.Sign(msg, list); err != nil {
				b.Fatal(err)
			}
		}
		sig, err := conf.AggregateSignatures(msg, shares, list, false)
		if err != nil {
			b.Fatal(err)
		}
		if !ed25519.Verify(g.PublicKey, msg, protocol.SignatureBytes(sig)) {
			b.Fatal("invalid signature")
		}
	}
}
