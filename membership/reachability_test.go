package membership

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// script drives a Reachability with one event per line and returns its
// callbacks, one per line. Lines read "join p1 1 a:1" (kind, node name,
// participant id or "c" for a coordinator, gRPC address).
func script(t *testing.T, r *Reachability, lines string) string {
	t.Helper()
	var calls []string
	r.OnAlive = func(id uint16, addr string) { calls = append(calls, fmt.Sprintf("alive %d %s", id, addr)) }
	r.OnDead = func(id uint16) { calls = append(calls, fmt.Sprintf("dead %d", id)) }
	for line := range strings.Lines(lines) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 4 {
			t.Fatalf("bad script line %q", line)
		}
		r.Observe(scriptEvent(t, f[0], f[1], f[2], f[3]))
	}
	return strings.Join(calls, "\n")
}

func scriptEvent(t *testing.T, kind, name, id, addr string) Event {
	kinds := map[string]EventKind{"join": EventJoin, "update": EventUpdate, "leave": EventLeave, "failed": EventFailed}
	k, ok := kinds[kind]
	if !ok {
		t.Fatalf("unknown kind %q", kind)
	}
	m := Meta{Name: name, GRPCAddr: addr, Role: RoleCoordinator}
	if id != "c" {
		m.Role = RoleParticipant
		if _, err := fmt.Sscan(id, &m.ParticipantID); err != nil {
			t.Fatal(err)
		}
	}
	return Event{Kind: k, Member: Member{Meta: m, Addr: "gossip:" + name, Alive: k == EventJoin || k == EventUpdate}}
}

func TestReachability(t *testing.T) {
	for _, tc := range []struct{ name, events, want string }{
		{"join, fail, come back", `
			join p1 1 a:1
			failed p1 1 a:1
			join p1 1 a:1`, `
			alive 1 a:1
			dead 1
			alive 1 a:1`},
		{"coordinators are not dialled", `
			join c c c:1
			leave c c c:1`, ``},
		{"graceful leave", `
			join p1 1 a:1
			join p2 2 b:1
			leave p2 2 b:1`, `
			alive 1 a:1
			alive 2 b:1
			dead 2`},
		{"an update that keeps the address is silent", `
			join p1 1 a:1
			update p1 1 a:1
			update p1 1 a:2`, `
			alive 1 a:1
			alive 1 a:2`},
		{"a node that changes id releases the old one", `
			join p1 1 a:1
			update p1 2 a:1`, `
			alive 1 a:1
			dead 1
			alive 2 a:1`},
		{"a participant that turns coordinator", `
			join p1 1 a:1
			update p1 c a:1`, `
			alive 1 a:1
			dead 1`},
		{"leave of a node never seen", `
			leave p9 9 z:1
			failed p9 9 z:1`, ``},
		{"duplicate id: the latest claimant wins, the other takes over", `
			join p1 1 a:1
			join p1b 1 b:1
			failed p1b 1 b:1
			failed p1 1 a:1`, `
			alive 1 a:1
			alive 1 b:1
			alive 1 a:1
			dead 1`},
		{"duplicate id: the older claimant going is silent", `
			join p1 1 a:1
			join p1b 1 b:1
			failed p1 1 a:1
			failed p1b 1 b:1`, `
			alive 1 a:1
			alive 1 b:1
			dead 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := script(t, &Reachability{}, tc.events)
			if want := dedent(tc.want); got != want {
				t.Fatalf("callbacks:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestReachabilityLookup(t *testing.T) {
	r := &Reachability{} // nil callbacks are allowed
	r.Observe(scriptEvent(t, "join", "p1", "1", "a:1"))
	if addr, ok := r.Lookup(1); !ok || addr != "a:1" {
		t.Fatalf("Lookup(1) = %q, %v", addr, ok)
	}
	r.Observe(scriptEvent(t, "failed", "p1", "1", "a:1"))
	if _, ok := r.Lookup(1); ok {
		t.Fatal("Lookup(1) reachable after failure")
	}
	if _, ok := r.Lookup(2); ok {
		t.Fatal("Lookup of an unknown id reports reachable")
	}
}

// Against a model: after any event sequence, what the callbacks said
// (replayed into a map) is, for each id, the address of the live node that
// claimed it most recently; and OnDead is never said of an id not alive.
func TestReachabilityModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		type state struct {
			meta  Meta
			alive bool
			seq   int // when last heard alive
		}
		nodes := map[string]*state{}
		said := map[uint16]string{}
		var bad string
		r := &Reachability{
			OnAlive: func(id uint16, addr string) { said[id] = addr },
			OnDead: func(id uint16) {
				if _, ok := said[id]; !ok {
					bad = fmt.Sprintf("OnDead(%d) for an id not alive", id)
				}
				delete(said, id)
			},
		}
		for i := range rapid.IntRange(1, 40).Draw(t, "events") {
			name := rapid.SampledFrom([]string{"a", "b", "c", "d"}).Draw(t, "node")
			kind := rapid.SampledFrom([]EventKind{EventJoin, EventUpdate, EventLeave, EventFailed}).Draw(t, "kind")
			m := Meta{Name: name, Role: RoleParticipant, ParticipantID: rapid.Uint16Range(1, 3).Draw(t, "id"),
				GRPCAddr: rapid.SampledFrom([]string{"x:1", "y:1"}).Draw(t, "addr")}
			if rapid.IntRange(0, 5).Draw(t, "coordinator?") == 0 {
				m.Role, m.ParticipantID = RoleCoordinator, 0
			}
			alive := kind == EventJoin || kind == EventUpdate
			if !alive && nodes[name] != nil {
				m = nodes[name].meta // a node leaves with the Meta it had
			}
			nodes[name] = &state{meta: m, alive: alive, seq: i}
			r.Observe(Event{Kind: kind, Member: Member{Meta: m, Alive: alive}})
			if bad != "" {
				t.Fatal(bad)
			}

			want := map[uint16]string{}
			latest := map[uint16]int{}
			for _, s := range nodes {
				id := s.meta.ParticipantID
				if s.alive && s.meta.Role == RoleParticipant && (want[id] == "" || s.seq > latest[id]) {
					want[id], latest[id] = s.meta.GRPCAddr, s.seq
				}
			}
			if !maps.Equal(said, want) {
				t.Fatalf("after event %d: callbacks say %v, want %v", i, said, want)
			}
			for id := range uint16(4) {
				addr, ok := r.Lookup(id)
				if w, wok := want[id]; ok != wok || addr != w {
					t.Fatalf("Lookup(%d) = %q %v, want %q %v", id, addr, ok, w, wok)
				}
			}
		}
	})
}

func dedent(s string) string {
	var out []string
	for line := range strings.Lines(s) {
		if l := strings.TrimSpace(line); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
