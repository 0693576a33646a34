package membership

import (
	"slices"
	"testing"
	"time"
)

// memberlist reports events under its node lock. A callback that blocks
// must hold up only later events, never gossip: here the seed's callback
// blocks, and a node still joins through it; the queued events then arrive
// in order.
func TestSlowCallbackDoesNotStallGossip(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	got := make(chan Event, 10)
	seed := start(t, localConfig(t, "seed", Meta{Role: RoleCoordinator}), func(ev Event) {
		<-release
		got <- ev
	})
	t.Cleanup(func() { // before the seed's Shutdown, which waits for the callback
		select {
		case <-release:
		default:
			close(release)
		}
	})

	joiner := localConfig(t, "p1", participant(1))
	joiner.Join = []string{seed.LocalAddr()}
	start(t, joiner, nil)
	waitUntil(t, 5*time.Second, "the seed to list p1 while its callback is blocked", func() bool {
		return slices.Equal(names(seed.Members()), []string{"p1", "seed"})
	})
	select {
	case ev := <-got:
		t.Fatalf("event %v delivered while the callback was blocked", ev)
	default:
	}

	close(release)
	var order []string
	for range 2 {
		select {
		case ev := <-got:
			order = append(order, ev.Kind.String()+" "+ev.Member.Meta.Name)
		case <-time.After(5 * time.Second):
			t.Fatalf("after release, only %v arrived", order)
		}
	}
	if want := []string{"join seed", "join p1"}; !slices.Equal(order, want) {
		t.Fatalf("events %v, want %v", order, want)
	}
}
