package boltstore_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/participant/boltstore"
	"github.com/frostd/frostd/participant/storetest"
	"github.com/frostd/frostd/protocol"
)

// TestKeepTombstones: with a bound, the oldest tombstones and sessions are
// forgotten, and a forgotten nonce is still never usable: it is refused as
// unknown.
func TestKeepTombstones(t *testing.T) {
	path := storePath(t)
	s := mustOpen(t, path, testKey, boltstore.KeepTombstones(3))
	ns := nonces(6)
	if err := s.Put(ns); err != nil {
		t.Fatal(err)
	}
	var spends []participant.Spend
	for _, n := range ns[:5] {
		sp := spend(n)
		spends = append(spends, sp)
		if _, err := s.Spend([]participant.Spend{sp}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(s *boltstore.Store) {
		t.Helper()
		for i, n := range ns[:5] {
			_, err := s.Lookup(n.Commitment.ID)
			want := protocol.ErrNonceSpent
			if i < 2 {
				want = protocol.ErrUnknownCommitment // forgotten
			}
			if !errors.Is(err, want) {
				t.Fatalf("nonce %d: Lookup = %v, want %v", i, err, want)
			}
			// Whether remembered or forgotten, it never signs again.
			if _, err := s.Spend([]participant.Spend{spend(n)}); err == nil {
				t.Fatalf("nonce %d was spent twice", i)
			}
		}
		// The newest sessions are remembered, the oldest forgotten.
		fresh := ns[5]
		if _, err := s.Spend([]participant.Spend{{CommitmentID: fresh.Commitment.ID, Session: spends[4].Session}}); !errors.Is(err, protocol.ErrSessionReplayed) {
			t.Fatalf("replayed recent session: %v, want ErrSessionReplayed", err)
		}
	}
	check(s)
	s.Close()
	s = mustOpen(t, path, testKey, boltstore.KeepTombstones(3))
	defer s.Close()
	check(s)
}

// The conformance suite holds with a bound larger than what it spends.
func TestConformanceWithBound(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (participant.NonceStore, func() participant.NonceStore) {
		path := filepath.Join(fastDir(t), "nonces.db")
		open := func() participant.NonceStore { return mustOpen(t, path, testKey, boltstore.KeepTombstones(1_000_000)) }
		return open(), open
	})
}
