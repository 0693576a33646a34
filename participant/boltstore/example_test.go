package boltstore_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/participant/boltstore"
	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/sealed"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "boltstore-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "nonces.db")
	key := sealed.Key{Passphrase: "correct horse battery staple", ScryptWorkFactor: 10}

	store, err := boltstore.Open(path, key)
	if err != nil {
		panic(err)
	}
	// A participant's Commit stores fresh nonces...
	n := participant.Nonce{Commitment: protocol.Commitment{Signer: 1, ID: 42}}
	if err := store.Put([]participant.Nonce{n}); err != nil {
		panic(err)
	}
	// ...and its Sign spends one, durably, before making a share with it.
	session := protocol.SessionID{1}
	if _, err := store.Spend([]participant.Spend{{CommitmentID: 42, Session: session}}); err != nil {
		panic(err)
	}
	store.Close()

	// After a restart the nonce stays spent.
	store, err = boltstore.Open(path, key)
	if err != nil {
		panic(err)
	}
	defer store.Close()
	_, err = store.Spend([]participant.Spend{{CommitmentID: 42, Session: protocol.SessionID{2}}})
	fmt.Println(errors.Is(err, protocol.ErrNonceSpent))
	// Output: true
}
