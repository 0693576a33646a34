package frost_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log"
	"time"

	"github.com/frostd/frostd/pki"
	"github.com/frostd/frostd/signer/frost"
)

// A service signs through its cluster's coordinator with the client
// certificate issued for it (frostd certs issue --role client --name
// billing --out /etc/frostd), pinning the identity it expects.
func Example() {
	ctx := context.Background()
	s, err := frost.New(ctx, frost.Config{
		Addr:    "coordinator.internal:7000",
		Files:   pki.NodeFiles("/etc/frostd", "billing"),
		Timeout: 10 * time.Second,
		// PublicKey: the group key, from the cluster's records
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	msg := []byte("invoice 42")
	sig, err := s.Sign(ctx, msg)
	if err != nil {
		log.Fatal(err) // errors.Is(err, signer.ErrUnavailable): retry later
	}
	fmt.Println(ed25519.Verify(s.PublicKey(), msg, sig))
}
