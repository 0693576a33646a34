package protocol_test

import (
	"encoding/json"
	"testing"

	"github.com/frostd/frostd/protocol"
)

func FuzzGroupJSON(f *testing.F) {
	f.Add([]byte(`{"threshold":1,"max_signers":1,"public_key":"` + "5866666666666666666666666666666666666666666666666666666666666666" + `","members":[{"id":1,"public_share":"5866666666666666666666666666666666666666666666666666666666666666"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var g protocol.Group
		if err := json.Unmarshal(b, &g); err != nil {
			return
		}
		// Whatever decodes must be a valid group and survive a round trip.
		if err := g.Validate(); err != nil {
			t.Fatalf("decoded an invalid group: %v", err)
		}
		out, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		var back protocol.Group
		if err := json.Unmarshal(out, &back); err != nil || !back.Equal(&g) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

func FuzzCommitmentValidate(f *testing.F) {
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 64 {
			return
		}
		var c protocol.Commitment
		c.Signer = 1
		copy(c.Hiding[:], b[:32])
		copy(c.Binding[:], b[32:64])
		if c.Validate() == nil {
			if _, err := c.ToFrost(); err != nil {
				t.Fatalf("a valid commitment does not convert: %v", err)
			}
		}
	})
}
