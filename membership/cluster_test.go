package membership

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestCluster runs a real four-node cluster over loopback: a coordinator
// as the seed and three participants. The steps share the cluster and run
// in order: metadata update, a crash (Shutdown without Leave), a graceful
// leave.
func TestCluster(t *testing.T) {
	t.Parallel()
	type node struct {
		*Node
		rec *recorder
	}
	var (
		reachMu  sync.Mutex
		reachLog []string
	)
	reach := &Reachability{
		OnAlive: func(id uint16, addr string) {
			reachMu.Lock()
			defer reachMu.Unlock()
			reachLog = append(reachLog, fmt.Sprintf("alive %d %s", id, addr))
		},
		OnDead: func(id uint16) {
			reachMu.Lock()
			defer reachMu.Unlock()
			reachLog = append(reachLog, fmt.Sprintf("dead %d", id))
		},
	}
	reachSaw := func(entry string) func() bool {
		return func() bool {
			reachMu.Lock()
			defer reachMu.Unlock()
			return slices.Contains(reachLog, entry)
		}
	}

	coordRec := &recorder{}
	coord := node{start(t, localConfig(t, "coord", Meta{Role: RoleCoordinator, GRPCAddr: "127.0.0.1:8999"}), func(ev Event) {
		coordRec.observe(ev)
		reach.Observe(ev) // as the coordinator daemon will
	}), coordRec}
	if coord.LocalAddr() == "" || coord.LocalAddr() == "127.0.0.1:0" {
		t.Fatalf("LocalAddr = %q, want the bound host:port", coord.LocalAddr())
	}

	all := []node{coord}
	for id := uint16(1); id <= 3; id++ {
		cfg := localConfig(t, fmt.Sprintf("p%d", id), participant(id))
		cfg.Join = []string{coord.LocalAddr()}
		rec := &recorder{}
		all = append(all, node{start(t, cfg, rec.observe), rec})
	}
	p1, p2, p3 := all[1], all[2], all[3]

	// Everyone sees everyone, with the Meta and address they advertise.
	want := func(nodes ...node) []Member {
		var ms []Member
		for _, n := range nodes {
			ms = append(ms, Member{Meta: n.Meta(), Addr: n.LocalAddr(), Alive: true})
		}
		return ms
	}
	converged := func(nodes ...node) func() bool {
		return func() bool {
			for _, n := range nodes {
				if !slices.Equal(n.Members(), want(nodes...)) {
					return false
				}
			}
			return true
		}
	}
	begin := time.Now()
	waitUntil(t, 10*time.Second, "all four nodes to list all four with their Meta", converged(all...))
	t.Logf("converged in %s: %v", time.Since(begin).Round(time.Millisecond), names(coord.Members()))
	for _, n := range all {
		if got := n.Members()[0].Meta; got != (Meta{Role: RoleCoordinator, Name: "coord", GRPCAddr: "127.0.0.1:8999"}) {
			t.Fatalf("%s sees coord as %+v", n.Name(), got)
		}
	}
	for id := uint16(1); id <= 3; id++ {
		waitUntil(t, 5*time.Second, fmt.Sprintf("Reachability: participant %d alive", id),
			reachSaw(fmt.Sprintf("alive %d 127.0.0.1:%d", id, 9000+int(id))))
	}

	ok := t.Run("UpdateMeta", func(t *testing.T) {
		newMeta := Meta{Role: RoleParticipant, Name: "p2", ParticipantID: 2, GRPCAddr: "127.0.0.1:9102"}
		if err := p2.UpdateMeta(newMeta, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if p2.Meta() != newMeta {
			t.Fatalf("p2.Meta() = %+v, want %+v", p2.Meta(), newMeta)
		}
		for _, n := range []node{coord, p1, p3} {
			n.rec.waitFor(t, 5*time.Second, n.Name()+" to see p2's update", func(ev Event) bool {
				return ev.Kind == EventUpdate && ev.Member.Meta == newMeta && ev.Member.Alive
			})
		}
		waitUntil(t, 5*time.Second, "every node to list p2's new Meta", converged(all...))
		waitUntil(t, 5*time.Second, "Reachability: participant 2 at its new address", reachSaw("alive 2 127.0.0.1:9102"))
	})
	if !ok {
		return
	}

	ok = t.Run("CrashIsDetected", func(t *testing.T) {
		killed := time.Now()
		p3.Shutdown() // no Leave: as kill -9 would
		for _, n := range []node{coord, p1, p2} {
			ev := n.rec.waitFor(t, 15*time.Second, n.Name()+" to see p3 gone", func(ev Event) bool {
				return ev.Member.Meta.Name == "p3" && !ev.Member.Alive
			})
			if ev.Kind != EventFailed || ev.Member.Meta != p3.Meta() {
				t.Fatalf("%s saw %v, want a failure of p3 with its Meta", n.Name(), ev.Event)
			}
			t.Logf("%s declared p3 failed %s after the kill", n.Name(), ev.at.Sub(killed).Round(time.Millisecond))
		}
		waitUntil(t, time.Second, "the three survivors to list only themselves", converged(coord, p1, p2))
		waitUntil(t, time.Second, "Reachability: participant 3 dead", reachSaw("dead 3"))
	})
	if !ok {
		return
	}

	t.Run("GracefulLeave", func(t *testing.T) {
		left := time.Now()
		if err := p1.Leave(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		p1.Shutdown()
		for _, n := range []node{coord, p2} {
			ev := n.rec.waitFor(t, 5*time.Second, n.Name()+" to see p1 go", func(ev Event) bool {
				return ev.Member.Meta.Name == "p1" && !ev.Member.Alive
			})
			if ev.Kind != EventLeave {
				t.Fatalf("%s saw %v, want a leave", n.Name(), ev.Event)
			}
			t.Logf("%s saw p1 leave %s after Leave", n.Name(), ev.at.Sub(left).Round(time.Millisecond))
		}
		waitUntil(t, time.Second, "coord and p2 to list only themselves", converged(coord, p2))
		waitUntil(t, time.Second, "Reachability: participant 1 dead", reachSaw("dead 1"))
		if err := p1.Leave(time.Second); err != ErrShutdown {
			t.Fatalf("Leave after Shutdown = %v, want ErrShutdown", err)
		}
	})

	// Every survivor heard of each other node exactly: join, then the rest
	// in order, with no event after the node was gone.
	for _, n := range []node{coord, p2} {
		var kinds []string
		for _, ev := range n.rec.about("p3") {
			kinds = append(kinds, ev.Kind.String())
		}
		if !slices.Equal(kinds, []string{"join", "failed"}) {
			t.Errorf("%s's events about p3: %v, want [join failed]", n.Name(), kinds)
		}
	}
	reachMu.Lock()
	t.Logf("Reachability calls: %v", reachLog)
	reachMu.Unlock()
}
