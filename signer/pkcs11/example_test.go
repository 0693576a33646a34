//go:build cgo

package pkcs11_test

import (
	"context"
	"fmt"
	"log"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/signer/pkcs11"
)

// Make a key on a SoftHSM2 token once, then sign with it.
func Example() {
	cfg := pkcs11.Config{
		TokenLabel: "frostd",
		KeyLabel:   "node-1",
		PINFile:    "/etc/frostd/token.pin", // mode 0600, the user PIN alone
	}
	pub, err := pkcs11.GenerateKey(cfg, cfg.KeyLabel)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new key", id52.Encode(pub))

	ctx := context.Background()
	s, err := pkcs11.New(ctx, cfg)
	if err != nil {
		log.Fatal(err) // signer.ErrRefused for a wrong PIN, ErrBadKey for no such key
	}
	defer s.Close()
	sig, err := s.Sign(ctx, []byte("hello"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d-byte signature\n", len(sig))
}
