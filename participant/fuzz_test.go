package participant_test

import (
	"encoding/binary"
	"testing"

	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/protocol"
)

// FuzzSign feeds arbitrary sign requests, built around one genuine
// commitment, to a participant: it must never panic, and a refused request
// must never spend the genuine nonce.
func FuzzSign(f *testing.F) {
	g := newGroup(f, 2, 3, participant.Policy{})
	f.Add(uint16(2), uint64(1), make([]byte, 64), []byte("m"), byte(1))
	f.Fuzz(func(t *testing.T, signer uint16, id uint64, points, msg []byte, session byte) {
		own := g.commit(t, 1)[0]
		genuine := own.ID
		other := protocol.Commitment{Signer: signer, ID: id}
		if len(points) >= 64 {
			copy(other.Hiding[:], points[:32])
			copy(other.Binding[:], points[32:64])
		}
		if len(points) >= 72 {
			own.ID ^= binary.LittleEndian.Uint64(points[64:72]) // sometimes not ours
		}
		req := protocol.SignRequest{Items: []protocol.SignItem{{Session: protocol.SessionID{session}, Message: msg, Commitments: []protocol.Commitment{own, other}}}}
		_, err := g.parts[0].Sign(peer, req)
		if err == nil {
			return
		}
		if _, lerr := g.parts[0].Store().Lookup(genuine); lerr != nil {
			t.Fatalf("a refused request (%v) spent the genuine nonce: %v", err, lerr)
		}
	})
}
