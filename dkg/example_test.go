package dkg_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/protocol"
)

// Three participants make a 2-of-3 key. Each runs a Ceremony; a relay
// (here a slice) carries their messages without being able to read the
// shares or forge anything.
func Example() {
	const n = 3
	id, _ := dkg.NewCeremonyID() // shared by all
	roster := make([]ed25519.PublicKey, n)
	idents := make([]ed25519.PrivateKey, n)
	for i := range idents {
		roster[i], idents[i], _ = ed25519.GenerateKey(rand.Reader)
	}
	cs := make([]*dkg.Ceremony, n)
	for i := range cs {
		cs[i], _ = dkg.NewKeygen(dkg.Config{ID: id, Threshold: 2, Self: protocol.ParticipantID(i + 1), Identity: idents[i], Roster: roster})
	}

	type envelope struct {
		to protocol.ParticipantID
		m  dkg.Message
	}
	var inflight []envelope
	send := func(from protocol.ParticipantID, msgs []dkg.Message) {
		for _, m := range msgs {
			for to := protocol.ParticipantID(1); to <= n; to++ {
				if to != from && (m.To == 0 || m.To == to) {
					inflight = append(inflight, envelope{to, m})
				}
			}
		}
	}
	for i, c := range cs {
		msgs, _ := c.Start()
		send(protocol.ParticipantID(i+1), msgs)
	}
	for len(inflight) > 0 {
		e := inflight[0]
		inflight = inflight[1:]
		msgs, err := cs[e.to-1].Step(e.m)
		if err != nil {
			fmt.Println(err)
		}
		send(e.to, msgs) // even with an error: it may be a complaint
	}

	g, share, err := cs[0].Result()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d-of-%d group; participant 1 holds share %d\n", g.Threshold, g.MaxSigners, share.ID)
	// Output: 2-of-3 group; participant 1 holds share 1
}

func ExampleRunLocal() {
	// Participant 2 sends participant 4 a share that does not match its
	// commitment. Participant 4 complains with the evidence, everyone
	// checks it (participant 2 too), and the ceremony aborts naming 2.
	out, err := dkg.RunLocal(3, 5, dkg.CorruptShare(2, 4))
	var ce *dkg.CulpritError
	if errors.As(err, &ce) {
		fmt.Println("culprit:", ce.ID, "for", ce.Offence)
	}
	for i, e := range out.Errs {
		fmt.Println("participant", i+1, "names", dkg.Culprits(e))
	}
	fmt.Println("shares returned:", len(out.Shares))
	// Output:
	// culprit: 2 for bad share
	// participant 1 names [2]
	// participant 2 names [2]
	// participant 3 names [2]
	// participant 4 names [2]
	// participant 5 names [2]
	// shares returned: 0
}
