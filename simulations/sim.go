// Package simulations runs the protocol core, unchanged, against a
// simulated network: a virtual clock, message latencies, crashes, silent
// members and cheaters, with as many participants as memory allows. It is
// the same Coordinator and Participant code that production drives through
// gRPC; only the edges are simulated.
//
// A Sim is deterministic for a given seed, apart from the participants'
// nonces (which come from crypto/rand inside bytemare/frost, on purpose).
package simulations

import (
	"container/heap"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/frostd/frostd/coordinator"
	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/protocol"
)

// Config describes a simulation.
type Config struct {
	Threshold, Participants uint16
	Seed                    uint64

	Requests     int           // sign requests to issue
	Interval     time.Duration // between requests (virtual time)
	Latency      time.Duration // mean one-way latency; each message draws uniformly in [0.5, 1.5] x Latency
	DropRate     float64       // probability a message is lost
	Silent       int           // members that never answer
	Cheaters     int           // members whose shares are corrupted
	Crashes      int           // crash-and-restart events spread over the run
	CrashFor     time.Duration // how long a crashed member stays down
	Coordinator  coordinator.Config
	TickInterval time.Duration
}

// Report summarises a run.
type Report struct {
	Completed, Failed int
	Attempts          map[int]int // attempts per request -> count
	MaxLatency        time.Duration
	MeanLatency       time.Duration
	CheatersNamed     []protocol.ParticipantID // by the coordinator
	Cheaters          []protocol.ParticipantID // as configured
	SharesReleased    int
	VirtualTime       time.Duration
	Messages          int
}

type member struct {
	p       *participant.Participant
	share   protocol.KeyShare
	store   *participant.MemoryStore
	silent  bool
	cheater bool
	downTil time.Time
}

type event struct {
	at  time.Time
	seq uint64
	fn  func()
}

type events []*event

func (e events) Len() int { return len(e) }
func (e events) Less(i, j int) bool {
	if !e[i].at.Equal(e[j].at) {
		return e[i].at.Before(e[j].at)
	}
	return e[i].seq < e[j].seq
}
func (e events) Swap(i, j int) { e[i], e[j] = e[j], e[i] }
func (e *events) Push(x any)   { *e = append(*e, x.(*event)) }
func (e *events) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}

// Sim is one simulated cluster.
type Sim struct {
	cfg     Config
	rng     *rand.Rand
	now     time.Time
	seq     uint64
	queue   events
	group   *protocol.Group
	coord   *coordinator.Coordinator
	members map[protocol.ParticipantID]*member

	started  map[coordinator.RequestID]time.Time
	messages map[coordinator.RequestID][]byte
	used     map[[2]uint64]bool // (member, commitment id) that produced a share
	report   Report
}

// New deals a key and builds the simulated cluster.
func New(cfg Config) (*Sim, error) {
	if cfg.TickInterval <= 0 {
		cfg.TickInterval = 50 * time.Millisecond
	}
	if cfg.Latency <= 0 {
		cfg.Latency = 5 * time.Millisecond
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Millisecond
	}
	if cfg.CrashFor <= 0 {
		cfg.CrashFor = time.Second
	}
	g, shares, err := dkg.DealRandom(cfg.Threshold, cfg.Participants)
	if err != nil {
		return nil, err
	}
	s := &Sim{
		cfg:      cfg,
		rng:      rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		now:      time.Unix(1_700_000_000, 0),
		group:    g,
		members:  make(map[protocol.ParticipantID]*member),
		started:  make(map[coordinator.RequestID]time.Time),
		messages: make(map[coordinator.RequestID][]byte),
		used:     make(map[[2]uint64]bool),
		report:   Report{Attempts: map[int]int{}},
	}
	ccfg := cfg.Coordinator
	ccfg.Group = g
	ccfg.Rand = seededReader{s.rng}
	if s.coord, err = coordinator.New(ccfg); err != nil {
		return nil, err
	}
	perm := s.rng.Perm(int(cfg.Participants))
	for i, ks := range shares {
		m := &member{share: ks, store: participant.NewMemoryStore()}
		if m.p, err = participant.New(participant.Config{Group: g, KeyShare: ks, Store: m.store}); err != nil {
			return nil, err
		}
		m.silent = perm[i] < cfg.Silent
		m.cheater = !m.silent && perm[i] < cfg.Silent+cfg.Cheaters
		s.members[ks.ID] = m
		s.coord.SetReachable(s.now, ks.ID, true)
	}
	return s, nil
}

type seededReader struct{ r *rand.Rand }

func (s seededReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(s.r.Uint32())
	}
	return len(p), nil
}

func (s *Sim) at(t time.Time, fn func()) {
	s.seq++
	heap.Push(&s.queue, &event{at: t, seq: s.seq, fn: fn})
}

func (s *Sim) latency() time.Duration {
	return time.Duration(float64(s.cfg.Latency) * (0.5 + s.rng.Float64()))
}

// Run issues the requests, runs until all finish, and reports. It returns
// an error if any invariant breaks: a nonce used twice, or a returned
// signature that does not verify.
func (s *Sim) Run() (Report, error) {
	start := s.now
	for i := range s.cfg.Requests {
		at := start.Add(time.Duration(i) * s.cfg.Interval)
		msg := fmt.Appendf(nil, "simulated message %d", i)
		s.at(at, func() {
			id := s.coord.Sign(s.now, [][]byte{msg})
			s.started[id], s.messages[id] = s.now, msg
		})
	}
	end := start.Add(time.Duration(s.cfg.Requests) * s.cfg.Interval)
	for range s.cfg.Crashes {
		at := start.Add(time.Duration(s.rng.Int64N(int64(end.Sub(start)) + 1)))
		s.at(at, s.crashOne)
	}
	s.at(start, s.tick)
	var err error
	for s.queue.Len() > 0 && err == nil {
		ev := heap.Pop(&s.queue).(*event)
		s.now = ev.at
		ev.fn()
		err = s.drain()
		if s.report.Completed+s.report.Failed == s.cfg.Requests {
			break
		}
	}
	s.report.VirtualTime = s.now.Sub(start)
	s.report.CheatersNamed = s.coord.Cheaters()
	for _, id := range s.group.IDs() {
		if s.members[id].cheater {
			s.report.Cheaters = append(s.report.Cheaters, id)
		}
	}
	if s.report.Completed > 0 {
		s.report.MeanLatency /= time.Duration(s.report.Completed)
	}
	return s.report, err
}

func (s *Sim) tick() {
	s.coord.Tick(s.now)
	if s.report.Completed+s.report.Failed < s.cfg.Requests {
		s.at(s.now.Add(s.cfg.TickInterval), s.tick)
	}
}

// crashOne restarts a random member: it is unreachable for CrashFor, then
// comes back with the same durable store (as a bbolt store would).
func (s *Sim) crashOne() {
	id := protocol.ParticipantID(1 + s.rng.IntN(int(s.cfg.Participants)))
	m := s.members[id]
	m.downTil = s.now.Add(s.cfg.CrashFor)
	s.coord.SetReachable(s.now, id, false)
	s.at(m.downTil, func() {
		p, err := participant.New(participant.Config{Group: s.group, KeyShare: m.share, Store: m.store})
		if err != nil {
			panic(err) // the same config worked at start
		}
		m.p = p
		s.coord.SetReachable(s.now, id, true)
	})
}

// drain moves the coordinator's output onto the simulated network.
func (s *Sim) drain() error {
	out, done := s.coord.Ready()
	for _, r := range done {
		if err := s.finish(r); err != nil {
			return err
		}
	}
	for _, o := range out {
		s.report.Messages++
		if s.rng.Float64() < s.cfg.DropRate {
			continue
		}
		o := o
		s.at(s.now.Add(s.latency()), func() { s.handle(o) })
	}
	return nil
}

func (s *Sim) handle(o coordinator.Outgoing) {
	m := s.members[o.To]
	if m.silent || s.now.Before(m.downTil) {
		return
	}
	r := coordinator.Reply{From: o.To, Tag: o.Tag}
	switch {
	case o.Commit != nil:
		resp, err := m.p.Commit("sim-coordinator", *o.Commit)
		r.Commit, r.Err = &resp, err
	case o.Sign != nil:
		resp, err := m.p.Sign("sim-coordinator", *o.Sign)
		if err == nil {
			for i, item := range o.Sign.Items {
				for _, c := range item.Commitments {
					if c.Signer == o.To {
						key := [2]uint64{uint64(o.To), c.ID}
						if s.used[key] {
							panic(fmt.Sprintf("participant %d released a second share for nonce %d", o.To, c.ID))
						}
						s.used[key] = true
						s.report.SharesReleased++
					}
				}
				if m.cheater {
					resp.Shares[i].Share[0] ^= 1
				}
			}
		}
		r.Sign, r.Err = &resp, err
	}
	if r.Err != nil {
		r.Commit, r.Sign = nil, nil
	}
	if s.rng.Float64() < s.cfg.DropRate {
		return
	}
	s.at(s.now.Add(s.latency()), func() { s.coord.Deliver(s.now, r) })
}

func (s *Sim) finish(r coordinator.Result) error {
	msg, ok := s.messages[r.Request]
	if !ok {
		return nil
	}
	lat := s.now.Sub(s.started[r.Request])
	delete(s.messages, r.Request)
	delete(s.started, r.Request)
	s.report.Attempts[r.Attempts]++
	if r.Err != nil {
		s.report.Failed++
		return nil
	}
	if !ed25519.Verify(s.group.PublicKey, msg, r.Signatures[0]) {
		return fmt.Errorf("request %d: the coordinator returned a signature that does not verify", r.Request)
	}
	s.report.Completed++
	s.report.MeanLatency += lat
	s.report.MaxLatency = max(s.report.MaxLatency, lat)
	return nil
}
