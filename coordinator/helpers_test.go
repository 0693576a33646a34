package coordinator_test

import (
	"testing"

	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/protocol"
)

func mustParticipant(t *testing.T, g *protocol.Group, ks protocol.KeyShare) *participant.Participant {
	t.Helper()
	p, err := participant.New(participant.Config{Group: g, KeyShare: ks, Store: participant.NewMemoryStore()})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
