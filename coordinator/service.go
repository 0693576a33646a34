package coordinator

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/signer"
)

// Transport carries requests to participants and brings back their answers.
// The gRPC adapter implements it over mutual TLS; MemoryTransport calls
// participants in the same process.
type Transport interface {
	Commit(ctx context.Context, to protocol.ParticipantID, req protocol.CommitRequest) (protocol.CommitResponse, error)
	Sign(ctx context.Context, to protocol.ParticipantID, req protocol.SignRequest) (protocol.SignResponse, error)
}

// ServiceConfig configures a Service.
type ServiceConfig struct {
	Config

	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// TickInterval is how often deadlines are checked; default a quarter
	// of AttemptTimeout.
	TickInterval time.Duration

	// Logger receives reports of cheaters and failed rounds; nil discards.
	Logger *slog.Logger

	// MaxInFlight bounds the requests in progress at once; more wait their
	// turn (honouring their context). It keeps a burst from turning into
	// round timeouts. Default 32.
	MaxInFlight int

	// OnResult, if set, is called (without locks held) with every result,
	// for metrics.
	OnResult func(Result, time.Duration)
}

// Service runs a Coordinator against a Transport. It is a signer.Signer for
// the group key, safe for concurrent use: concurrent Sign calls share the
// commitment pools and run in parallel.
type Service struct {
	cfg ServiceConfig
	tr  Transport
	log *slog.Logger

	slots chan struct{} // one per request in flight
	pub   ed25519.PublicKey

	mu      sync.Mutex
	sm      *Coordinator
	waiters map[RequestID]chan Result
	closed  bool

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ signer.Signer = (*Service)(nil)

// NewService starts a Service. Members start unreachable; call
// SetReachable, or MarkAllReachable for a static cluster.
func NewService(cfg ServiceConfig, tr Transport) (*Service, error) {
	sm, err := New(cfg.Config)
	if err != nil {
		return nil, err
	}
	cfg.Config = sm.Config()
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 32
	}
	if cfg.TickInterval <= 0 {
		cfg.TickInterval = max(cfg.AttemptTimeout/4, time.Millisecond)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{cfg: cfg, tr: tr, log: log, sm: sm, slots: make(chan struct{}, cfg.MaxInFlight), pub: sm.Group().PublicKey, waiters: make(map[RequestID]chan Result), ctx: ctx, cancel: cancel}
	s.wg.Add(1)
	go s.ticker()
	return s, nil
}

// PublicKey returns the group's public key. It never changes.
func (s *Service) PublicKey() ed25519.PublicKey { return s.pub }

// Sign signs one message with the group key.
func (s *Service) Sign(ctx context.Context, message []byte) ([]byte, error) {
	sigs, err := s.SignBatch(ctx, [][]byte{message})
	if err != nil {
		return nil, err
	}
	return sigs[0], nil
}

// SignBatch signs several messages with one round trip to each quorum
// member, and returns one signature per message.
func (s *Service) SignBatch(ctx context.Context, messages [][]byte) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("coordinator: %w", err)
	}
	res, err := s.do(ctx, func(now time.Time) RequestID { return s.sm.Sign(now, messages) })
	if err != nil {
		return nil, err
	}
	return res.Signatures, res.Err
}

func (s *Service) do(ctx context.Context, start func(time.Time) RequestID) (Result, error) {
	begin := time.Now()
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		return Result{}, fmt.Errorf("coordinator: waiting for a free slot: %w", ctx.Err())
	}
	ch := make(chan Result, 1)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Result{}, fmt.Errorf("coordinator is shut down: %w", signer.ErrUnavailable)
	}
	id := start(s.cfg.Now())
	s.waiters[id] = ch
	s.flush()
	s.mu.Unlock()

	var res Result
	select {
	case res = <-ch:
	case <-ctx.Done():
		s.mu.Lock()
		s.sm.Cancel(id, fmt.Errorf("coordinator: %w", ctx.Err()))
		s.flush()
		s.mu.Unlock()
		res = <-ch
	}
	if res.Cheaters != nil {
		s.log.Warn("cheating participants excluded", "ids", res.Cheaters.IDs, "request", res.Request)
	}
	if s.cfg.OnResult != nil {
		s.cfg.OnResult(res, time.Since(begin))
	}
	return res, nil
}

// SetReachable records whether a member is reachable.
func (s *Service) SetReachable(id protocol.ParticipantID, reachable bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sm.SetReachable(s.cfg.Now(), id, reachable)
	s.flush()
}

// MarkAllReachable marks every member reachable, for static clusters.
func (s *Service) MarkAllReachable() {
	for _, id := range s.Group().IDs() {
		s.SetReachable(id, true)
	}
}

// AddCommitments adds commitments a participant pushed ahead of time.
func (s *Service) AddCommitments(from protocol.ParticipantID, cs []protocol.Commitment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sm.AddCommitments(from, cs)
}

// Stats is a snapshot of the coordinator's state, for metrics.
type Stats struct {
	Reachable []protocol.ParticipantID
	Cheaters  []protocol.ParticipantID
	Pools     map[protocol.ParticipantID]int
	Pending   int
}

// Stats returns a snapshot of the coordinator's state.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Reachable: s.sm.Reachable(), Cheaters: s.sm.Cheaters(), Pools: s.sm.PoolSizes(), Pending: s.sm.Pending()}
}

// Close fails requests in flight with ErrUnavailable and waits for the
// Service's goroutines.
func (s *Service) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for id := range s.waiters {
		s.sm.Cancel(id, fmt.Errorf("coordinator is shutting down: %w", signer.ErrUnavailable))
	}
	s.flush()
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

// flush sends what the state machine produced. Called with mu held.
func (s *Service) flush() {
	out, done := s.sm.Ready()
	for _, r := range done {
		if ch, ok := s.waiters[r.Request]; ok {
			ch <- r
			delete(s.waiters, r.Request)
		}
	}
	if s.closed {
		return // only pool refills and retries of cancelled requests remain
	}
	for _, o := range out {
		s.wg.Add(1)
		go s.deliver(o)
	}
}

func (s *Service) deliver(o Outgoing) {
	defer s.wg.Done()
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.AttemptTimeout)
	defer cancel()
	r := Reply{From: o.To, Tag: o.Tag}
	switch {
	case o.Commit != nil:
		resp, err := s.tr.Commit(ctx, o.To, *o.Commit)
		if err != nil {
			r.Err = err
		} else {
			r.Commit = &resp
		}
	case o.Sign != nil:
		resp, err := s.tr.Sign(ctx, o.To, *o.Sign)
		if err != nil {
			r.Err = err
		} else {
			r.Sign = &resp
		}
	}
	if r.Err != nil && !errors.Is(r.Err, context.Canceled) {
		s.log.Debug("participant round failed", "participant", o.To, "err", r.Err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sm.Deliver(s.cfg.Now(), r)
	s.flush()
}

func (s *Service) ticker() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.TickInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.mu.Lock()
			s.sm.Tick(s.cfg.Now())
			s.flush()
			s.mu.Unlock()
		}
	}
}

// Config returns the coordinator configuration in force, defaults filled in.
func (s *Service) Config() Config { return s.cfg.Config }

// Group returns the group the Service signs for.
func (s *Service) Group() *protocol.Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sm.Group()
}

// SetGroup installs the new public key shares of a refreshed group; see
// Coordinator.SetGroup.
func (s *Service) SetGroup(g *protocol.Group) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sm.SetGroup(g)
}
