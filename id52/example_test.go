package id52_test

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/signer"
)

func Example() {
	seed := make([]byte, ed25519.SeedSize) // use crypto/rand in real code
	for i := range seed {
		seed[i] = byte(i)
	}
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)

	name := id52.Encode(pub)
	fmt.Println(name)
	fmt.Println(id52.EncodeZBase32(pub))

	// Decoding ignores case, as DNS does.
	back, err := id52.Decode("0EGGFFVJPO8BS7BGRKCEEIU0J5JU9LHGJEIGQNOTRI3684IL66S0")
	fmt.Println(err == nil && pub.Equal(back))

	// A mistyped ID52 fails with an error that says where.
	_, err = id52.Decode("0eggffvjpo8bs7bgrkceeiu0j5ju9lhgjeigqnotri3684il66sw")
	fmt.Println(errors.Is(err, signer.ErrBadKey))
	fmt.Println(err)
	// Output:
	// 0eggffvjpo8bs7bgrkceeiu0j5ju9lhgjeigqnotri3684il66s0
	// yqooxx9u3aemh8mo5wcqq16yufu6jitouq1o4za751dger1igghy
	// true
	// true
	// ID52 "0eggffvjpo8bs7bgrkceeiu0j5ju9lhgjeigqnotri3684il66sw": character 'w' at position 52 of 52 is not in the ID52 alphabet "0123456789abcdefghijklmnopqrstuv": bad key
}
