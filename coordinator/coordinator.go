// Package coordinator runs FROST signing sessions: it picks a quorum of
// participants, gathers their commitments and signature shares, and sums
// the shares into an ordinary Ed25519 signature.
//
// The protocol logic is Coordinator, a deterministic state machine in the
// style of etcd's raft: it never touches the network or the clock. Inputs
// arrive as method calls (Sign, Deliver, SetReachable, Tick with the current
// time); what must be sent and what has finished comes out of Ready:
//
//	c.Sign(now, msgs)          // a new request
//	c.Deliver(now, reply)      // a participant answered
//	c.Tick(now)                // time passed: deadlines may expire
//	out, done := c.Ready()     // send out, hand done to the callers
//
// Service wraps a Coordinator with goroutines, a clock and a Transport, and
// is a signer.Signer. Tests and simulations drive Coordinator directly.
//
// # Robustness
//
// A quorum member that does not answer by the attempt deadline, refuses, or
// is unreachable is left out of that request and the coordinator retries
// with another quorum, so a request completes while t honest responsive
// members exist, and fails fast with signer.ErrUnavailable when fewer do.
//
// Aggregation is optimistic: the shares are summed and the final signature
// verified once (crypto/ed25519). Only if that fails is every share checked,
// to name every cheater, not just the first. Cheaters are reported in the
// Result and left out of all later quorums.
package coordinator

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bytemare/frost"

	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/signer"
)

// Config configures a Coordinator. Zero values take the defaults below.
type Config struct {
	Group *protocol.Group

	// AttemptTimeout is how long a quorum has to answer one round.
	AttemptTimeout time.Duration // default 2s

	// MaxAttempts bounds the quorums tried for one request. Each failed
	// attempt leaves at least one member out, so n-t+1 attempts always
	// reach a verdict; the default is n-t+2.
	MaxAttempts int

	// PoolLow and PoolBatch size the commitment pools: when a reachable
	// member has fewer than PoolLow unused commitments, the coordinator
	// asks it for PoolBatch more.
	PoolLow   int // default 16
	PoolBatch int // default 64

	// MaxBatch is the most messages one request may carry.
	MaxBatch int // default 256

	// MaxMessageSize is the largest message accepted, in bytes.
	MaxMessageSize int // default 1 MiB

	// Rand seeds session identifiers; nil means crypto/rand.
	Rand io.Reader
}

func (c *Config) setDefaults() {
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = 2 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = int(c.Group.MaxSigners-c.Group.Threshold) + 2
	}
	if c.PoolLow <= 0 {
		c.PoolLow = 16
	}
	if c.PoolBatch <= 0 {
		c.PoolBatch = 64
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 256
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = 1 << 20
	}
}

// RequestID names a sign request.
type RequestID uint64

// Outgoing is a message to deliver to one participant. Exactly one of
// Commit and Sign is set. The reply must carry the same Tag.
type Outgoing struct {
	To     protocol.ParticipantID
	Tag    uint64
	Commit *protocol.CommitRequest
	Sign   *protocol.SignRequest
}

// Reply is a participant's answer to an Outgoing, or the transport's
// failure to get one (Err set). Exactly one of Commit, Sign and Err is set.
type Reply struct {
	From   protocol.ParticipantID
	Tag    uint64
	Commit *protocol.CommitResponse
	Sign   *protocol.SignResponse
	Err    error
}

// Result is the outcome of a sign request.
type Result struct {
	Request    RequestID
	Signatures [][]byte // one 64-byte Ed25519 signature per message
	Err        error

	// Cheaters lists members caught returning invalid shares during this
	// request, whether or not it then succeeded.
	Cheaters *CheatersError

	// Attempts is how many quorums were tried.
	Attempts int
}

// CheatersError names participants whose signature shares did not verify.
type CheatersError struct {
	IDs []protocol.ParticipantID
}

func (e *CheatersError) Error() string {
	ids := make([]string, len(e.IDs))
	for i, id := range e.IDs {
		ids[i] = fmt.Sprint(id)
	}
	return "invalid signature shares from participants " + strings.Join(ids, ", ") + " (excluded from later quorums; investigate those hosts)"
}

type member struct {
	id        protocol.ParticipantID
	reachable bool
	cheater   bool
	pool      []protocol.Commitment
	refillTag uint64
	refillBy  time.Time
	inflight  int
	failures  int    // consecutive failed answers; ordered last in quorums
	lastUsed  uint64 // spreads load: least recently used first
}

type request struct {
	id       RequestID
	messages [][]byte
	excluded map[protocol.ParticipantID]bool
	refusals []error
	cheaters []protocol.ParticipantID
	attempts int
	att      *attempt
}

type attempt struct {
	req      *request
	quorum   []protocol.ParticipantID // sorted
	deadline time.Time
	commits  map[protocol.ParticipantID][]protocol.Commitment
	waiting  map[protocol.ParticipantID]uint64 // tags not yet answered
	items    []protocol.SignItem               // set once the sign round starts
	shares   map[protocol.ParticipantID][]protocol.SignatureShare
}

type tagInfo struct {
	member protocol.ParticipantID
	att    *attempt // nil for a pool refill
	sign   bool
}

// Coordinator is the signing state machine. It is not safe for concurrent
// use; Service serialises access to it.
type Coordinator struct {
	cfg     Config
	group   *protocol.Group
	conf    *frost.Configuration
	members map[protocol.ParticipantID]*member
	order   []protocol.ParticipantID

	requests map[RequestID]*request
	tags     map[uint64]tagInfo

	nextRequest RequestID
	nextTag     uint64
	useSeq      uint64
	sessionSeed [8]byte
	sessionSeq  uint64

	outbox  []Outgoing
	results []Result
}

// New returns a Coordinator for cfg.Group. All members start unreachable:
// call SetReachable as membership learns of them.
func New(cfg Config) (*Coordinator, error) {
	if cfg.Group == nil {
		return nil, errors.New("coordinator: Config needs a Group")
	}
	cfg.setDefaults()
	conf, err := cfg.Group.Frost()
	if err != nil {
		return nil, fmt.Errorf("coordinator: %w", err)
	}
	c := &Coordinator{
		cfg:      cfg,
		group:    cfg.Group,
		conf:     conf,
		members:  make(map[protocol.ParticipantID]*member),
		requests: make(map[RequestID]*request),
		tags:     make(map[uint64]tagInfo),
	}
	r := cfg.Rand
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, c.sessionSeed[:]); err != nil {
		return nil, fmt.Errorf("coordinator: seeding session ids: %w", err)
	}
	for _, m := range cfg.Group.Members {
		c.members[m.ID] = &member{id: m.ID}
		c.order = append(c.order, m.ID)
	}
	return c, nil
}

// Group returns the group this coordinator signs for.
func (c *Coordinator) Group() *protocol.Group { return c.group }

// SetGroup installs new public key shares after a share refresh. The group
// key, threshold and members must be the same: a refresh changes only the
// shares. Stale public shares would make the coordinator blame honest
// participants whenever it checks shares one by one, so cheater marks are
// cleared too. Pooled commitments stay valid: nonces do not depend on the
// key share.
func (c *Coordinator) SetGroup(g *protocol.Group) error {
	conf, err := g.Frost()
	if err != nil {
		return fmt.Errorf("coordinator: new group: %w", err)
	}
	old := c.group
	if !old.PublicKey.Equal(g.PublicKey) || old.Threshold != g.Threshold || !slices.Equal(old.IDs(), g.IDs()) {
		return fmt.Errorf("coordinator: the new group has another key, threshold or members; only a refresh of the same group can be installed (start a new coordinator for a new group)")
	}
	c.group, c.conf = g, conf
	for _, m := range c.members {
		m.cheater = false
	}
	return nil
}

// Config returns the configuration in force, defaults filled in.
func (c *Coordinator) Config() Config { return c.cfg }

// Ready returns, and forgets, the messages to send and the finished requests.
func (c *Coordinator) Ready() ([]Outgoing, []Result) {
	out, res := c.outbox, c.results
	c.outbox, c.results = nil, nil
	return out, res
}

// Sign starts a request to sign messages, one signature each, and returns
// its id. The Result arrives through Ready.
func (c *Coordinator) Sign(now time.Time, messages [][]byte) RequestID {
	c.nextRequest++
	req := &request{id: c.nextRequest, messages: messages, excluded: make(map[protocol.ParticipantID]bool)}
	switch {
	case len(messages) == 0 || len(messages) > c.cfg.MaxBatch:
		c.results = append(c.results, Result{Request: req.id, Err: fmt.Errorf("coordinator: a request carries 1 to %d messages, got %d (split it): %w", c.cfg.MaxBatch, len(messages), protocol.ErrMalformed)})
		return req.id
	}
	for i, m := range messages {
		if err := signer.CheckMessageSize(m, c.cfg.MaxMessageSize); err != nil {
			c.results = append(c.results, Result{Request: req.id, Err: fmt.Errorf("coordinator: message %d: %w", i, err)})
			return req.id
		}
	}
	c.requests[req.id] = req
	c.startAttempt(now, req)
	c.refillPools(now)
	return req.id
}

// Cancel ends a request with err (typically the caller's ctx.Err()).
func (c *Coordinator) Cancel(id RequestID, err error) {
	if req, ok := c.requests[id]; ok {
		c.finish(req, nil, err)
	}
}

// SetReachable records whether a member is reachable, as membership sees it.
// A member that becomes unreachable is treated as having failed every round
// it was asked to answer.
func (c *Coordinator) SetReachable(now time.Time, id protocol.ParticipantID, reachable bool) {
	m, ok := c.members[id]
	if !ok || m.reachable == reachable {
		return
	}
	m.reachable = reachable
	if reachable {
		m.failures = 0
		c.refillPools(now)
		return
	}
	m.refillTag = 0
	for tag, info := range c.tags {
		if info.member == id && info.att != nil {
			c.Deliver(now, Reply{From: id, Tag: tag, Err: fmt.Errorf("participant %d became unreachable: %w", id, protocol.ErrUnavailable)})
		}
	}
}

// Reachable lists the members currently reachable.
func (c *Coordinator) Reachable() []protocol.ParticipantID {
	var out []protocol.ParticipantID
	for _, id := range c.order {
		if c.members[id].reachable {
			out = append(out, id)
		}
	}
	return out
}

// PoolSizes returns the number of unused commitments held per member.
func (c *Coordinator) PoolSizes() map[protocol.ParticipantID]int {
	out := make(map[protocol.ParticipantID]int, len(c.members))
	for id, m := range c.members {
		out[id] = len(m.pool)
	}
	return out
}

// Cheaters lists members excluded for invalid shares.
func (c *Coordinator) Cheaters() []protocol.ParticipantID {
	var out []protocol.ParticipantID
	for _, id := range c.order {
		if c.members[id].cheater {
			out = append(out, id)
		}
	}
	return out
}

// Pending returns the number of requests in progress.
func (c *Coordinator) Pending() int { return len(c.requests) }

// AddCommitments puts commitments a participant pushed ahead of time into
// its pool. Invalid ones are dropped and reported.
func (c *Coordinator) AddCommitments(from protocol.ParticipantID, cs []protocol.Commitment) error {
	m, ok := c.members[from]
	if !ok {
		return fmt.Errorf("coordinator: participant %d is not a member of the group", from)
	}
	if err := c.checkCommitments(from, cs); err != nil {
		return err
	}
	// A participant pushes its unspent commitments whenever it sees this
	// coordinator (re)appear; skip those already pooled.
	pooled := make(map[uint64]bool, len(m.pool))
	for _, p := range m.pool {
		pooled[p.ID] = true
	}
	for _, cm := range cs {
		if !pooled[cm.ID] {
			m.pool = append(m.pool, cm)
			pooled[cm.ID] = true
		}
	}
	return nil
}

// Tick tells the coordinator the time: rounds past their deadline fail.
func (c *Coordinator) Tick(now time.Time) {
	var expired []*attempt
	for _, req := range c.requests {
		if req.att != nil && now.After(req.att.deadline) {
			expired = append(expired, req.att)
		}
	}
	sort.Slice(expired, func(i, j int) bool { return expired[i].req.id < expired[j].req.id })
	for _, att := range expired {
		silent := make([]protocol.ParticipantID, 0, len(att.waiting))
		for id := range att.waiting {
			silent = append(silent, id)
		}
		slices.Sort(silent)
		for _, id := range silent {
			c.members[id].failures++
			att.req.excluded[id] = true
		}
		att.req.refusals = append(att.req.refusals, fmt.Errorf("participants %v did not answer within %v: %w", silent, c.cfg.AttemptTimeout, signer.ErrUnavailable))
		c.retry(now, att)
	}
	for _, m := range c.members {
		if m.refillTag != 0 && now.After(m.refillBy) {
			delete(c.tags, m.refillTag)
			m.refillTag = 0
			m.failures++
		}
	}
	c.refillPools(now)
}

// Deliver hands the coordinator a participant's reply.
func (c *Coordinator) Deliver(now time.Time, r Reply) {
	info, ok := c.tags[r.Tag]
	if !ok || info.member != r.From {
		// A late reply to a finished attempt. Fresh commitments are still
		// good: keep them.
		if r.Commit != nil {
			_ = c.AddCommitments(r.From, r.Commit.Commitments) // invalid ones are dropped
		}
		return
	}
	delete(c.tags, r.Tag)
	m := c.members[r.From]
	if info.att == nil {
		c.deliverRefill(m, r)
		c.refillPools(now)
		return
	}
	att := info.att
	delete(att.waiting, r.From)
	if r.Err == nil {
		if r.Commit != nil && !info.sign {
			r.Err = c.checkCommitments(r.From, r.Commit.Commitments)
			if r.Err == nil && len(r.Commit.Commitments) < len(att.req.messages) {
				r.Err = fmt.Errorf("participant %d sent %d commitments, %d asked: %w", r.From, len(r.Commit.Commitments), len(att.req.messages), protocol.ErrMalformed)
			}
		} else if r.Sign != nil && info.sign {
			r.Err = c.checkShares(r.From, att, r.Sign.Shares)
		} else {
			r.Err = fmt.Errorf("participant %d answered with the wrong kind of message: %w", r.From, protocol.ErrMalformed)
		}
	}
	if r.Err != nil {
		c.memberFailed(m, att.req, r.Err)
		c.retry(now, att)
		return
	}
	m.failures = 0
	if !info.sign {
		k := len(att.req.messages)
		att.commits[r.From] = r.Commit.Commitments[:k]
		m.pool = append(m.pool, r.Commit.Commitments[k:]...)
		if len(att.waiting) == 0 {
			c.sendSign(now, att)
		}
		return
	}
	att.shares[r.From] = r.Sign.Shares
	if len(att.waiting) == 0 {
		c.aggregate(now, att)
	}
	c.refillPools(now)
}

func (c *Coordinator) deliverRefill(m *member, r Reply) {
	m.refillTag = 0
	if r.Err != nil || r.Commit == nil {
		m.failures++
		return
	}
	if err := c.checkCommitments(m.id, r.Commit.Commitments); err != nil {
		m.failures++
		return
	}
	m.failures = 0
	m.pool = append(m.pool, r.Commit.Commitments...)
}

func (c *Coordinator) memberFailed(m *member, req *request, err error) {
	req.excluded[m.id] = true
	req.refusals = append(req.refusals, fmt.Errorf("participant %d: %w", m.id, err))
	switch {
	case errors.Is(err, protocol.ErrUnknownCommitment), errors.Is(err, protocol.ErrNonceSpent):
		// Our pool for it is stale (it restarted, or another coordinator
		// used them): drop it and let it refill.
		m.pool = nil
	case errors.Is(err, protocol.ErrPolicy):
	default:
		m.failures++
	}
}

func (c *Coordinator) checkCommitments(from protocol.ParticipantID, cs []protocol.Commitment) error {
	if len(cs) == 0 {
		return fmt.Errorf("participant %d sent no commitments: %w", from, protocol.ErrMalformed)
	}
	for _, cm := range cs {
		if cm.Signer != from {
			return fmt.Errorf("participant %d sent a commitment of participant %d: %w", from, cm.Signer, protocol.ErrMalformed)
		}
		err := cm.Validate()
		var f *frost.Commitment
		if err == nil {
			f, err = cm.ToFrost()
		}
		if err == nil {
			err = c.conf.ValidateCommitment(f)
		}
		if err != nil {
			return fmt.Errorf("participant %d sent an invalid commitment: %v: %w", from, err, protocol.ErrMalformed)
		}
	}
	return nil
}

func (c *Coordinator) checkShares(from protocol.ParticipantID, att *attempt, shares []protocol.SignatureShare) error {
	if len(shares) != len(att.items) {
		return fmt.Errorf("participant %d sent %d shares for %d messages: %w", from, len(shares), len(att.items), protocol.ErrMalformed)
	}
	for _, s := range shares {
		if s.Signer != from {
			return fmt.Errorf("participant %d sent a share labelled %d: %w", from, s.Signer, protocol.ErrMalformed)
		}
	}
	return nil
}
