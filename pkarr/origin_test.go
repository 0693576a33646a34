package pkarr

import (
	"encoding/hex"
	"testing"
)

// Keys and their z-base-32 names as the pkarr and iroh test suites give them.
var zbase32Vectors = []struct{ source, hex, z32 string }{
	{
		// pubky/pkarr, pkarr/src/base/keys.rs, test from_string
		source: "pkarr",
		hex:    "01b467a3b7913ab27a04a8edf2f3fb074cfe0ecf4babe108d67be3853b0f26c5",
		z32:    "yg4gxe7z1r7mr6orids9fh95y7gxhdsxjqi6nngsxxtakqaxr5no",
	},
	{
		// n0-computer/iroh, iroh-relay/src/endpoint_info.rs, test_from_txt_lookup
		source: "iroh",
		hex:    "1992d53c02cdc04566e5c0edb1ce83305cd550297953a047a445ea3264b54b18",
		z32:    "dgjpkxyn3zyrk3zfads5duwdgbqpkwbjxfj4yt7rezidr3fijccy",
	},
}

func TestOrigin(t *testing.T) {
	for _, v := range zbase32Vectors {
		key, err := hex.DecodeString(v.hex)
		if err != nil {
			t.Fatal(err)
		}
		p := SignedPacket{PublicKey: key}
		if got := p.Origin(); got != v.z32 {
			t.Errorf("%s vector: Origin() = %s, want %s", v.source, got, v.z32)
		}
	}
}
