package pkarr_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/frostd/frostd/pkarr"
)

// keySigner holds its key in memory, as signer/local does; a FROST cluster
// or an HSM would do as well.
type keySigner struct{ priv ed25519.PrivateKey }

func (s keySigner) PublicKey() ed25519.PublicKey { return s.priv.Public().(ed25519.PublicKey) }

func (s keySigner) Sign(_ context.Context, msg []byte) ([]byte, error) {
	return ed25519.Sign(s.priv, msg), nil
}

// Publish where an iroh endpoint can be reached, then resolve it as a peer
// that fetched the relay body would.
func Example() {
	ctx := context.Background()
	s := keySigner{ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))}

	p, err := pkarr.Sign(ctx, s, []pkarr.Record{
		{Name: pkarr.IrohName, TXT: []string{"relay=https://relay.example/"}, TTL: 30},
		{Name: pkarr.IrohName, TXT: []string{"addr=1.2.3.4:5678"}, TTL: 30},
	}, time.UnixMicro(1731622400123456)) // use time.Now() in real code
	if err != nil {
		fmt.Println(err)
		return
	}
	body := p.RelayBody()
	fmt.Printf("PUT https://relay.example/%s (%d bytes)\n", p.Origin(), len(body))

	// The resolver knows the key it asked for, and gets the body back.
	got, err := pkarr.ParseRelayBody(s.PublicKey(), body)
	if err != nil {
		fmt.Println(err) // altered, cut or oversized: discard
		return
	}
	records, err := got.Records()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("signed at", got.Time().UTC().Format(time.RFC3339Nano))
	for _, r := range records {
		fmt.Printf("%s.%s. %d IN TXT %q\n", r.Name, got.Origin(), r.TTL, r.TXT)
	}
	// Output:
	// PUT https://relay.example/tkrq8zmwb8a3m9k15csu3q17qmfgqnp9dskbrg9uq1rydpyxp7qy (213 bytes)
	// signed at 2024-11-14T22:13:20.123456Z
	// _iroh.tkrq8zmwb8a3m9k15csu3q17qmfgqnp9dskbrg9uq1rydpyxp7qy. 30 IN TXT ["relay=https://relay.example/"]
	// _iroh.tkrq8zmwb8a3m9k15csu3q17qmfgqnp9dskbrg9uq1rydpyxp7qy. 30 IN TXT ["addr=1.2.3.4:5678"]
}
