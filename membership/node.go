package membership

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// ErrShutdown is returned by the methods of a Node that has been shut down.
var ErrShutdown = errors.New("membership: node is shut down")

// Node is this process's membership in the cluster. Its methods are safe
// for concurrent use.
type Node struct {
	ml     *memberlist.Memberlist
	log    *slog.Logger
	name   string
	events func(Event)

	// meta is read by memberlist (NodeMeta) without our locks; metaMu
	// orders UpdateMeta and Leave, which replace it.
	meta   atomic.Pointer[localMeta]
	metaMu sync.Mutex

	// table mirrors memberlist's live nodes. It is written from memberlist's
	// event callbacks, which run under memberlist's node lock, so it is a
	// consistent copy; memberlist's own Members and LocalNode return
	// pointers into structures it keeps writing, which cannot be read
	// safely once its lock is released.
	tableMu   sync.Mutex
	table     map[string]Member
	localAddr string

	queue *eventQueue
	stop  chan struct{} // closed by Shutdown
	done  chan struct{} // closed when the dispatcher has returned

	// life is held shared while a method uses memberlist and exclusively
	// by Shutdown, because memberlist panics on Leave after Shutdown.
	life   sync.RWMutex
	closed bool
}

type localMeta struct {
	meta    Meta
	wire    []byte
	leaving bool // set by Leave, never cleared
}

// Start starts a node: it listens on cfg.BindAddr:cfg.BindPort, joins
// through cfg.Join if set, and returns. events, if not nil, is then called
// for every membership change, this node's own included (its EventJoin
// comes first), in order, on one goroutine. A slow callback delays later
// events but never gossip, and Shutdown waits for a callback in progress,
// so the callback must not call Shutdown itself.
func Start(cfg Config, events func(Event)) (*Node, error) {
	cfg, err := cfg.validated()
	if err != nil {
		return nil, err
	}
	wire, err := encodeMeta(cfg.Meta, false)
	if err != nil {
		return nil, err
	}
	n := &Node{
		log:    cfg.Logger.With("node", cfg.Name),
		name:   cfg.Name,
		events: events,
		table:  make(map[string]Member),
		queue:  newEventQueue(),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	n.meta.Store(&localMeta{meta: cfg.Meta, wire: wire})

	mc := cfg.memberlistConfig()
	d := &delegate{n: n}
	mc.Delegate = d
	mc.Events = d

	go func() {
		defer close(n.done)
		n.queue.run(n.stop, n.deliver)
	}()
	ml, err := memberlist.Create(mc)
	if err != nil {
		close(n.stop)
		<-n.done
		return nil, fmt.Errorf("membership: starting node %q on %s:%d: %w; check that the address is local and the port free (bound to 0.0.0.0, a host without a private address needs AdvertiseAddr)",
			cfg.Name, cfg.BindAddr, cfg.BindPort, err)
	}
	n.ml = ml
	n.log.Info("membership started", "addr", n.LocalAddr(), "profile", cfg.Profile, "encrypted", !cfg.InsecureNoEncryption)
	if cfg.InsecureNoEncryption {
		n.log.Warn("membership gossip is not encrypted: anyone who reaches the port can join (Config.InsecureNoEncryption)")
	}
	if len(cfg.Join) > 0 {
		if err := n.Join(cfg.Join); err != nil {
			n.Shutdown()
			return nil, err
		}
	}
	return n, nil
}

// Name returns the node's name, Config.Name.
func (n *Node) Name() string { return n.name }

// LocalAddr returns the gossip address this node advertises, host:port,
// with the port actually bound: what other nodes pass to Join.
func (n *Node) LocalAddr() string {
	n.tableMu.Lock()
	defer n.tableMu.Unlock()
	return n.localAddr
}

// Meta returns what this node currently advertises.
func (n *Node) Meta() Meta { return n.meta.Load().meta }

// Members returns the members this node believes alive, itself included,
// sorted by name. Members only suspected of failure are still listed.
func (n *Node) Members() []Member {
	n.tableMu.Lock()
	ms := make([]Member, 0, len(n.table))
	for _, m := range n.table {
		ms = append(ms, m)
	}
	n.tableMu.Unlock()
	slices.SortFunc(ms, func(a, b Member) int { return strings.Compare(a.Meta.Name, b.Meta.Name) })
	return ms
}

// Join contacts the nodes at addrs ("host:port") and merges state with
// them. It succeeds if at least one answered. A node holding a different
// SecretKey never answers: its reply cannot be decrypted.
func (n *Node) Join(addrs []string) error {
	if len(addrs) == 0 {
		return errors.New("membership: Join needs at least one host:port of a running member")
	}
	n.life.RLock()
	defer n.life.RUnlock()
	if n.closed {
		return ErrShutdown
	}
	contacted, err := n.ml.Join(addrs)
	if err != nil {
		return fmt.Errorf("membership: %q could not join through %v: %w; check that a member is up at one of these addresses and that every node has the same SecretKey",
			n.name, addrs, oneLine{err})
	}
	n.log.Info("joined the cluster", "through", addrs, "answered", contacted)
	return nil
}

// UpdateMeta changes what this node advertises and waits, at most timeout,
// until the change has been gossiped. The others see EventUpdate. Meta.Name
// may be left empty; it cannot change.
func (n *Node) UpdateMeta(m Meta, timeout time.Duration) error {
	if timeout <= 0 {
		return fmt.Errorf("membership: UpdateMeta needs a positive timeout, got %s", timeout)
	}
	if m.Name == "" {
		m.Name = n.name
	} else if m.Name != n.name {
		return fmt.Errorf("membership: Meta.Name %q differs from the node name %q, which cannot change; leave it empty", m.Name, n.name)
	}
	wire, err := encodeMeta(m, false)
	if err != nil {
		return err
	}
	n.life.RLock()
	defer n.life.RUnlock()
	if n.closed {
		return ErrShutdown
	}
	n.metaMu.Lock()
	leaving := n.meta.Load().leaving
	if !leaving {
		n.meta.Store(&localMeta{meta: m, wire: wire})
	}
	n.metaMu.Unlock()
	if leaving {
		return fmt.Errorf("membership: %q has left the cluster and cannot change its metadata; start a new node", n.name)
	}
	if err := n.ml.UpdateNode(timeout); err != nil {
		return fmt.Errorf("membership: new metadata of %q is set, but sending it: %w; the others will still learn it at the next full state sync", n.name, err)
	}
	return nil
}

// Leave tells the cluster this node is going away, waiting at most timeout
// for the news to be gossiped; the others see EventLeave. The node still
// gossips until Shutdown, which should follow. A member that misses the
// news (lost packets) sees EventFailed instead, once the node stops.
func (n *Node) Leave(timeout time.Duration) error {
	if timeout <= 0 {
		return fmt.Errorf("membership: Leave needs a positive timeout, got %s", timeout)
	}
	deadline := time.Now().Add(timeout)
	n.life.RLock()
	defer n.life.RUnlock()
	if n.closed {
		return ErrShutdown
	}
	// First the leaving flag, gossiped to completion: memberlist's own
	// leave message would cancel it if both were queued at once, and
	// alone it reads as a failure (see meta.go).
	n.metaMu.Lock()
	cur := n.meta.Load()
	announce := !cur.leaving
	if announce {
		wire, err := encodeMeta(cur.meta, true)
		if err != nil {
			n.metaMu.Unlock()
			return fmt.Errorf("membership: %q leaving: %w", n.name, err) // cannot happen: cur.meta was encoded before
		}
		n.meta.Store(&localMeta{meta: cur.meta, wire: wire, leaving: true})
	}
	n.metaMu.Unlock()
	if announce {
		if err := n.ml.UpdateNode(timeout); err != nil {
			n.log.Warn("leave announcement not fully gossiped; some members may report a failure instead", "err", err)
		}
	}
	if err := n.ml.Leave(max(time.Until(deadline), time.Millisecond)); err != nil {
		return fmt.Errorf("membership: %q leaving: %w; members that missed it will declare the node failed once it shuts down", n.name, err)
	}
	return nil
}

// Shutdown stops gossip and event delivery, without saying goodbye: to
// the others it looks like a crash (call Leave first for a clean exit).
// Events still queued are dropped. When it returns, every goroutine the
// node started has stopped or is about to, and no more events arrive. It
// is safe to call more than once.
func (n *Node) Shutdown() {
	n.life.Lock()
	if n.closed {
		n.life.Unlock()
		return
	}
	n.closed = true
	// memberlist.Shutdown always returns nil; transport errors it logs.
	_ = n.ml.Shutdown()
	n.life.Unlock()

	close(n.stop)
	<-n.done
	n.log.Info("membership stopped")
}

// oneLine wraps memberlist's multierror, which prints as an indented list
// over several lines, to print as one line instead.
type oneLine struct{ err error }

func (e oneLine) Unwrap() error { return e.err }

func (e oneLine) Error() string {
	m, ok := e.err.(interface{ WrappedErrors() []error })
	if !ok {
		return e.err.Error()
	}
	var parts []string
	for _, err := range m.WrappedErrors() {
		parts = append(parts, err.Error())
	}
	return strings.Join(parts, "; ")
}

// callback names the memberlist EventDelegate method that fired.
type callback int

const (
	notifyJoin callback = iota
	notifyUpdate
	notifyLeave
)

// record applies what memberlist reported about a node to the member table
// and returns the event to deliver, if any. It runs in memberlist's
// callbacks, so the table and memberlist's node states change together.
//
// Our events follow the table, not memberlist's callbacks one for one: a
// node enters with EventJoin (whichever callback first shows it alive with
// readable metadata, not leaving) and goes with EventLeave (its metadata
// says leaving) or EventFailed (memberlist declared it dead without that).
func (n *Node) record(cb callback, name, addr string, meta Meta, leaving bool) (Event, bool) {
	n.tableMu.Lock()
	defer n.tableMu.Unlock()
	if name == n.name {
		n.localAddr = addr
	}
	old, known := n.table[name]
	member := Member{Meta: meta, Addr: addr, Alive: true}
	switch {
	case cb != notifyLeave && !leaving:
		if known && old == member {
			return Event{}, false // only memberlist-internal fields changed
		}
		n.table[name] = member
		if known {
			return Event{Kind: EventUpdate, Member: member}, true
		}
		return Event{Kind: EventJoin, Member: member}, true
	case known:
		delete(n.table, name)
		member.Alive = false
		if leaving {
			return Event{Kind: EventLeave, Member: member}, true
		}
		return Event{Kind: EventFailed, Member: member}, true
	default:
		return Event{}, false // gone already, or never announced
	}
}

// deliver runs on the dispatcher goroutine.
func (n *Node) deliver(q queued) {
	if q.err != nil {
		n.log.Warn("ignoring a member whose metadata cannot be read; is it a frostd node of the same release?",
			"member", q.name, "addr", q.addr, "err", q.err)
		return
	}
	n.log.Debug("membership event", "event", q.ev.String())
	if n.events != nil {
		n.events(q.ev)
	}
}

// delegate receives memberlist's callbacks. They run with memberlist's
// node lock held, so they only copy, decode and queue.
type delegate struct {
	n *Node
}

var (
	_ memberlist.Delegate      = (*delegate)(nil)
	_ memberlist.EventDelegate = (*delegate)(nil)
)

func (d *delegate) NotifyJoin(node *memberlist.Node)   { d.notify(notifyJoin, node) }
func (d *delegate) NotifyUpdate(node *memberlist.Node) { d.notify(notifyUpdate, node) }

// NotifyLeave cannot tell a leave from a failure by node.State, which
// memberlist leaves at StateAlive; record uses the leaving flag instead.
func (d *delegate) NotifyLeave(node *memberlist.Node) { d.notify(notifyLeave, node) }

func (d *delegate) notify(cb callback, node *memberlist.Node) {
	addr := node.Address()
	meta, leaving, err := decodeMeta(node.Name, node.Meta) // copies: node.Meta is not ours
	if err != nil {
		d.n.queue.push(queued{name: node.Name, addr: addr, err: err})
		return
	}
	if ev, ok := d.n.record(cb, node.Name, addr, meta, leaving); ok {
		d.n.queue.push(queued{ev: ev})
	}
}

// NodeMeta is checked against memberlist.MetaMaxSize by encodeMeta, before
// it gets here; memberlist would panic on a longer one.
func (d *delegate) NodeMeta(limit int) []byte { return d.n.meta.Load().wire }

// frostd sends no user messages or state over gossip.
func (d *delegate) NotifyMsg([]byte)                           {}
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *delegate) LocalState(join bool) []byte                { return nil }
func (d *delegate) MergeRemoteState(buf []byte, join bool)     {}
