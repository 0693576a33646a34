package participant_test

import (
	"os"
	"path/filepath"

	"pgregory.net/rapid"

	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/participant/boltstore"
	"github.com/frostd/frostd/sealed"
)

// The nonce property runs against the bbolt store too: "crash" closes the
// handle (bbolt holds a file lock per process) and reopens from disk, so
// only what the store made durable survives.
func init() {
	storeKinds = append(storeKinds,
		storeKind{"bolt", boltKind()},
		// With a tiny tombstone bound, replays of forgotten nonces must
		// still never sign: the property is the same.
		storeKind{"bolt-keep-2-tombstones", boltKind(boltstore.KeepTombstones(2))},
	)
}

func boltKind(opts ...boltstore.Option) func(*rapid.T, string, uint16) (participant.NonceStore, func() participant.NonceStore) {
	return func(t *rapid.T, dir string, _ uint16) (participant.NonceStore, func() participant.NonceStore) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "nonces.db")
		key := sealed.Key{InsecurePlaintext: true}
		s, err := boltstore.Open(path, key, opts...)
		if err != nil {
			t.Fatal(err)
		}
		cur := s
		return s, func() participant.NonceStore {
			cur.Close()
			next, err := boltstore.Open(path, key, opts...)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			cur = next
			return next
		}
	}
}
