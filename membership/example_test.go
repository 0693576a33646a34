package membership_test

import (
	"fmt"
	"log/slog"

	"github.com/frostd/frostd/membership"
)

// Two nodes on loopback: a coordinator, and a participant that joins it.
func ExampleStart() {
	key := []byte("0123456789abcdef0123456789abcdef") // share a random one in practice
	quiet := slog.New(slog.DiscardHandler)

	coord, err := membership.Start(membership.Config{
		Name: "coord", SecretKey: key, Profile: membership.ProfileLocal, Logger: quiet,
		Meta: membership.Meta{Role: membership.RoleCoordinator},
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer coord.Shutdown()

	p1, err := membership.Start(membership.Config{
		Name: "p1", SecretKey: key, Profile: membership.ProfileLocal, Logger: quiet,
		Join: []string{coord.LocalAddr()},
		Meta: membership.Meta{Role: membership.RoleParticipant, ParticipantID: 1, GRPCAddr: "127.0.0.1:9001"},
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p1.Shutdown()

	// Join has exchanged state with coord: p1 knows the cluster already.
	for _, m := range p1.Members() {
		fmt.Printf("%s: %s %d, gRPC %q\n", m.Meta.Name, m.Meta.Role, m.Meta.ParticipantID, m.Meta.GRPCAddr)
	}
	// Output:
	// coord: coordinator 0, gRPC ""
	// p1: participant 1, gRPC "127.0.0.1:9001"
}

// What a coordinator does with membership events.
func ExampleReachability() {
	r := &membership.Reachability{
		OnAlive: func(id uint16, addr string) { fmt.Println("dial participant", id, "at", addr) },
		OnDead:  func(id uint16) { fmt.Println("participant", id, "unreachable") },
	}
	p3 := membership.Member{Meta: membership.Meta{Role: membership.RoleParticipant, Name: "p3", ParticipantID: 3, GRPCAddr: "10.0.0.9:9000"}, Alive: true}
	r.Observe(membership.Event{Kind: membership.EventJoin, Member: p3})
	p3.Alive = false
	r.Observe(membership.Event{Kind: membership.EventFailed, Member: p3})
	// Output:
	// dial participant 3 at 10.0.0.9:9000
	// participant 3 unreachable
}
