package local_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log"

	"github.com/frostd/frostd/signer/local"
)

func Example() {
	// In real code: local.Loader{Dir: keysDir}, which reads the process
	// environment. Here the environment is a map, as in tests.
	vars := map[string]string{
		"FROSTD_SECRET_KEYS": "# CI signing key\n" +
			"0egg: 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
	}
	l := local.Loader{Getenv: func(k string) string { return vars[k] }}

	s, err := l.Load("0eggffvjpo8bs7bgrkceeiu0j5ju9lhgjeigqnotri3684il66s0")
	if err != nil {
		log.Fatal(err)
	}
	msg := []byte("hello")
	sig, err := s.Sign(context.Background(), msg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.ID52())
	fmt.Println(ed25519.Verify(s.PublicKey(), msg, sig))
	// Output:
	// 0eggffvjpo8bs7bgrkceeiu0j5ju9lhgjeigqnotri3684il66s0
	// true
}
