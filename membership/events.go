package membership

import (
	"fmt"
	"sync"
)

// EventKind says what happened to a member.
type EventKind int

const (
	// EventJoin: a member is alive, for the first time or again after it
	// left or failed.
	EventJoin EventKind = iota + 1
	// EventUpdate: a live member changed its Meta.
	EventUpdate
	// EventLeave: a member said goodbye (Node.Leave).
	EventLeave
	// EventFailed: a member stopped answering probes and the cluster
	// declared it dead. It may come back, with EventJoin.
	EventFailed
)

func (k EventKind) String() string {
	switch k {
	case EventJoin:
		return "join"
	case EventUpdate:
		return "update"
	case EventLeave:
		return "leave"
	case EventFailed:
		return "failed"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Member is one node as this node sees it.
type Member struct {
	Meta Meta
	// Addr is the member's gossip address, host:port: what Join takes.
	Addr string
	// Alive is false once the member left or failed.
	Alive bool
}

// Event is a change in the membership.
type Event struct {
	Kind   EventKind
	Member Member
}

func (e Event) String() string {
	return fmt.Sprintf("%s %s (%s %d) at %s", e.Kind, e.Member.Meta.Name, e.Member.Meta.Role, e.Member.Meta.ParticipantID, e.Member.Addr)
}

// queued is an event on its way to the callback, or the reason a
// member's event cannot be delivered (metadata this node cannot read),
// logged on the dispatcher goroutine rather than under memberlist's lock.
type queued struct {
	ev         Event
	name, addr string
	err        error
}

// eventQueue decouples memberlist, which reports events while holding its
// node lock and must not be kept waiting, from the user's callback, which
// may be slow. push never blocks; run delivers in order on one goroutine.
// The queue is unbounded, but its input is membership changes, a handful
// per node per minute.
type eventQueue struct {
	mu      sync.Mutex
	pending []queued
	wake    chan struct{} // capacity 1: "pending may be non-empty"
}

func newEventQueue() *eventQueue {
	return &eventQueue{wake: make(chan struct{}, 1)}
}

func (q *eventQueue) push(ev queued) {
	q.mu.Lock()
	q.pending = append(q.pending, ev)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default: // a wake-up is already pending; it will see ev too
	}
}

// run calls deliver for each pushed event, in order, until stop is
// closed. Events still queued then are dropped.
func (q *eventQueue) run(stop <-chan struct{}, deliver func(queued)) {
	for {
		select {
		case <-stop:
			return
		case <-q.wake:
		}
		for {
			q.mu.Lock()
			batch := q.pending
			q.pending = nil
			q.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			for _, ev := range batch {
				select {
				case <-stop:
					return
				default:
				}
				deliver(ev)
			}
		}
	}
}
