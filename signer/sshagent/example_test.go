package sshagent_test

import (
	"context"
	"fmt"
	"log"

	"github.com/frostd/frostd/signer/sshagent"
)

// Sign with the first Ed25519 key in the agent at SSH_AUTH_SOCK.
func Example() {
	ctx := context.Background()
	keys, err := sshagent.Keys(ctx, "")
	if err != nil {
		log.Fatal(err) // wraps signer.ErrUnavailable: no agent there
	}
	if len(keys) == 0 {
		log.Fatal("no Ed25519 key in the agent; add one with ssh-add")
	}
	s, err := sshagent.New(ctx, sshagent.Config{ID52: keys[0].ID52()})
	if err != nil {
		log.Fatal(err)
	}
	sig, err := s.Sign(ctx, []byte("hello"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d-byte signature by %s\n", len(sig), keys[0].ID52())
}
