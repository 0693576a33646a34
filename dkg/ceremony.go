package dkg

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/bytemare/ecc"

	"github.com/frostd/frostd/protocol"
)

// MaxParticipants bounds the participants of a ceremony. It keeps every
// message, and a reveal of n round-1 packages, within a few megabytes.
const MaxParticipants = 256

// Config is what one participant knows before a ceremony starts. Every
// participant must be given the same ID, Threshold and Roster.
type Config struct {
	// ID names the ceremony; draw it with NewCeremonyID, once per
	// ceremony, never reused.
	ID CeremonyID

	// Threshold is how many participants will be needed to sign. For a
	// refresh it may be left zero (it is the group's).
	Threshold uint16

	// Self is this participant's id, 1..len(Roster).
	Self protocol.ParticipantID

	// Identity signs this participant's messages. Its public key must be
	// Roster[Self-1]. An ed25519.PrivateKey will do; so will any
	// crypto.Signer with an Ed25519 key (signer.CryptoSigner, an HSM).
	Identity crypto.Signer

	// Roster lists every participant's long-term Ed25519 identity public
	// key: participant i's at index i-1. Its length is n.
	Roster []ed25519.PublicKey
}

type phase uint8

const (
	phaseNew     phase = iota // Start not called yet
	phaseCommit               // collecting round-1 packages
	phaseEcho                 // collecting echoes of the round-1 set
	phaseReveal               // an echo differed: collecting the reveals that name the culprit
	phaseShare                // collecting encrypted shares
	phaseConfirm              // collecting confirmations
	phaseDone
	phaseFailed
)

type slot struct {
	round Round
	from  protocol.ParticipantID
}

// Ceremony is one participant's side of a key generation or a refresh, as
// a state machine with no I/O: Start, then Step with every message received,
// sending what each call returns, until Done. It is not safe for concurrent
// use; a driver serialises calls into it.
type Ceremony struct {
	kind   kind
	id     CeremonyID
	ctx    [hashSize]byte
	t, n   uint16
	self   protocol.ParticipantID
	roster []ed25519.PublicKey
	ident  crypto.Signer
	deal   dealer
	key    hpke.PrivateKey // receives this ceremony's shares; dropped at the end
	own    Message         // our round-1 package
	alt    *Message        // a second one, only when injecting equivocation
	fault  faults

	phase      phase
	got        map[slot]Message // the first authenticated message per round and sender
	set        []*peer          // the round-1 set, index id-1, once complete and valid
	setHash    [hashSize]byte
	revealed   map[protocol.ParticipantID]bool // reveals checked against their sender's echo
	complaints []Message                       // awaiting judgement
	transcript [hashSize]byte
	group      *protocol.Group
	share      protocol.KeyShare
	err        error
	out        []Message
}

// NewKeygen prepares a ceremony that makes a new t-of-n group key. No
// machine ever holds the key: each participant ends with its own share and
// the group's public data.
func NewKeygen(cfg Config) (*Ceremony, error) {
	if err := checkConfig(cfg, cfg.Threshold); err != nil {
		return nil, err
	}
	d, err := newKeygen(cfg.Self, cfg.Threshold, uint16(len(cfg.Roster)))
	if err != nil {
		return nil, err
	}
	return newCeremony(cfg, kindKeygen, cfg.Threshold, nil, d)
}

// NewRefresh prepares a ceremony in which the n current holders of the
// group's shares replace them with new shares of the same key: the group
// key (and its ID52) stays, every share and public key share changes, and
// old shares no longer combine with new ones. Every one of the n holders
// must take part: the roster must list all of them.
func NewRefresh(cfg Config, g *protocol.Group, share protocol.KeyShare) (*Ceremony, error) {
	if g == nil {
		return nil, errors.New("dkg: a refresh needs the current group")
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("dkg: current group: %w", err)
	}
	if len(cfg.Roster) != int(g.MaxSigners) {
		return nil, fmt.Errorf("%w: the roster lists %d of the group's %d members; give every member's identity key", ErrAllMustTakePart, len(cfg.Roster), g.MaxSigners)
	}
	if cfg.Threshold != 0 && cfg.Threshold != g.Threshold {
		return nil, fmt.Errorf("dkg: a refresh keeps the threshold %d; Config asks for %d (leave it zero)", g.Threshold, cfg.Threshold)
	}
	if share.ID != cfg.Self {
		return nil, fmt.Errorf("dkg: the key share is participant %d's, Config.Self is %d", share.ID, cfg.Self)
	}
	if _, err := share.Frost(g); err != nil {
		return nil, fmt.Errorf("dkg: current key share: %w", err)
	}
	if err := checkConfig(cfg, g.Threshold); err != nil {
		return nil, err
	}
	d, err := newRefresh(cfg.Self, g, share)
	if err != nil {
		return nil, err
	}
	return newCeremony(cfg, kindRefresh, g.Threshold, g, d)
}

func checkConfig(cfg Config, t uint16) error {
	n := len(cfg.Roster)
	if n < 2 || n > MaxParticipants {
		return fmt.Errorf("dkg: a ceremony needs 2 to %d participants, the roster lists %d", MaxParticipants, n)
	}
	if t < 2 || int(t) > n {
		// In a 1-of-n group every share is the key itself, which FROST
		// (bytemare/frost) refuses as duplicate public key shares.
		return fmt.Errorf("dkg: threshold %d must be between 2 and the number of participants %d", t, n)
	}
	if cfg.Self == 0 || int(cfg.Self) > n {
		return fmt.Errorf("dkg: Config.Self %d is outside 1..%d", cfg.Self, n)
	}
	seen := make(map[string]protocol.ParticipantID, n)
	for i, pk := range cfg.Roster {
		if len(pk) != ed25519.PublicKeySize {
			return fmt.Errorf("dkg: roster key of participant %d is %d bytes, want %d", i+1, len(pk), ed25519.PublicKeySize)
		}
		if j, dup := seen[string(pk)]; dup {
			return fmt.Errorf("dkg: participants %d and %d have the same identity key; every participant needs its own", j, i+1)
		}
		seen[string(pk)] = protocol.ParticipantID(i + 1)
	}
	if cfg.Identity == nil {
		return errors.New("dkg: Config.Identity is nil; give this participant's identity key")
	}
	pub, ok := cfg.Identity.Public().(ed25519.PublicKey)
	if !ok || !pub.Equal(cfg.Roster[cfg.Self-1]) {
		return fmt.Errorf("dkg: Config.Identity is not the Ed25519 key the roster lists for participant %d", cfg.Self)
	}
	return nil
}

func newCeremony(cfg Config, k kind, t uint16, old *protocol.Group, d dealer) (*Ceremony, error) {
	c := &Ceremony{
		kind:     k,
		id:       cfg.ID,
		ctx:      contextHash(k, cfg.ID, t, cfg.Roster, old),
		t:        t,
		n:        uint16(len(cfg.Roster)),
		self:     cfg.Self,
		roster:   cfg.Roster,
		ident:    cfg.Identity,
		deal:     d,
		got:      make(map[slot]Message),
		revealed: make(map[protocol.ParticipantID]bool),
	}
	var err error
	if c.key, err = shareKEM.GenerateKey(); err != nil {
		return nil, fmt.Errorf("dkg: making the HPKE key for this ceremony: %w", err)
	}
	return c, nil
}

// round1 signs this participant's round-1 package (and, to inject
// equivocation, a second one).
func (c *Ceremony) round1() error {
	var hk [32]byte
	copy(hk[:], c.key.PublicKey().Bytes())
	pkg := func(alt bool) (Message, error) {
		coms, proof, err := c.deal.round1(alt, &c.fault)
		if err != nil {
			return Message{}, err
		}
		return c.sign(RoundCommit, 0, round1{hpkeKey: hk, commitment: coms, proof: proof}.encode())
	}
	var err error
	if c.own, err = pkg(false); err != nil {
		return err
	}
	if c.fault.equivocate {
		alt, err := pkg(true)
		if err != nil {
			return err
		}
		c.alt = &alt
	}
	return nil
}

// Start returns this participant's round-1 package, to broadcast. Call it
// once. Messages stepped in before Start are kept.
func (c *Ceremony) Start() ([]Message, error) {
	if c.phase != phaseNew {
		return nil, errors.New("dkg: Start was already called; call it once, then Step")
	}
	if err := c.round1(); err != nil {
		c.fail(fmt.Errorf("dkg: round 1: %w", err))
		return c.flush()
	}
	c.phase = phaseCommit
	c.got[slot{RoundCommit, c.self}] = c.own
	c.out = append(c.out, c.own)
	if c.alt != nil {
		c.out = append(c.out, *c.alt)
	}
	c.advance()
	return c.flush()
}

// Step takes one message received from another participant (or relayed)
// and returns the messages to send in response: To 0 to every other
// participant, otherwise to the one named.
//
// An error wrapping ErrRejected means the message was ignored (another
// ceremony, a bad signature, misrouted) and the ceremony goes on. Any other
// error ends the ceremony: usually a *CulpritError naming who is at fault.
// Send the messages returned along with it: they carry the evidence that
// makes the other participants abort too. Once the ceremony has ended, Step
// returns no messages and the same error (nil after success).
func (c *Ceremony) Step(m Message) ([]Message, error) {
	switch c.phase {
	case phaseFailed:
		return nil, c.err
	case phaseDone:
		return nil, nil
	}
	if err := c.authenticate(m, false); err != nil {
		return nil, err
	}
	if m.From == c.self {
		return nil, nil // our own broadcast, relayed back
	}
	if err := c.ingest(m); err != nil {
		c.fail(err)
		return c.flush()
	}
	c.advance()
	return c.flush()
}

// Done reports whether the ceremony has ended, in success or failure.
func (c *Ceremony) Done() bool { return c.phase == phaseDone || c.phase == phaseFailed }

// Err returns why the ceremony failed, or nil.
func (c *Ceremony) Err() error { return c.err }

// Result returns the group and this participant's own key share once every
// participant has confirmed the same transcript. It returns ErrNotFinished
// before that, and after a failure the ceremony's error and nothing else.
// The share is secret: store it (sealed) and pass it to participant.New.
func (c *Ceremony) Result() (*protocol.Group, protocol.KeyShare, error) {
	switch c.phase {
	case phaseDone:
		g := *c.group
		g.Members = append([]protocol.Member(nil), c.group.Members...)
		return &g, c.share, nil
	case phaseFailed:
		return nil, protocol.KeyShare{}, c.err
	}
	return nil, protocol.KeyShare{}, ErrNotFinished
}

// Waiting lists the participants whose messages the ceremony needs to
// make progress. A driver that times out names them.
func (c *Ceremony) Waiting() []protocol.ParticipantID {
	var r Round
	switch c.phase {
	case phaseCommit:
		r = RoundCommit
	case phaseEcho:
		r = RoundEcho
	case phaseShare:
		r = RoundShare
	case phaseConfirm:
		r = RoundConfirm
	case phaseReveal:
		// Those whose echo differs and who have not revealed, and those
		// whose echo is missing.
		var ids []protocol.ParticipantID
		for id := protocol.ParticipantID(1); id <= c.n; id++ {
			e, ok := c.got[slot{RoundEcho, id}]
			if id != c.self && (!ok || !bytes.Equal(e.Payload, c.setHash[:]) && !c.revealed[id]) {
				ids = append(ids, id)
			}
		}
		return ids
	default:
		return nil
	}
	var ids []protocol.ParticipantID
	for id := protocol.ParticipantID(1); id <= c.n; id++ {
		if _, ok := c.got[slot{r, id}]; !ok && id != c.self {
			ids = append(ids, id)
		}
	}
	return ids
}

func (c *Ceremony) flush() ([]Message, error) {
	out := c.out
	c.out = nil
	return out, c.err
}

func (c *Ceremony) sign(r Round, to protocol.ParticipantID, payload []byte) (Message, error) {
	sig, err := c.ident.Sign(rand.Reader, signedBytes(c.ctx, r, c.self, to, payload), crypto.Hash(0))
	if err != nil {
		return Message{}, fmt.Errorf("dkg: signing the %s message: %w", r, err)
	}
	return Message{Ceremony: c.id, Round: r, From: c.self, To: to, Payload: payload, Signature: sig}, nil
}

// send signs and queues a message; broadcasts are also kept as our own.
func (c *Ceremony) send(r Round, to protocol.ParticipantID, payload []byte) error {
	m, err := c.sign(r, to, payload)
	if err != nil {
		return err
	}
	if to == 0 {
		c.got[slot{r, c.self}] = m
	}
	c.out = append(c.out, m)
	return nil
}

// authenticate checks that a message is from a participant of this
// ceremony, untouched. Messages embedded as evidence may be addressed to
// someone else.
func (c *Ceremony) authenticate(m Message, embedded bool) error {
	if m.Ceremony != c.id {
		return rejected("message of ceremony %s, this is ceremony %s", m.Ceremony, c.id)
	}
	if m.From == 0 || m.From > c.n {
		return rejected("sender %d is not in 1..%d", m.From, c.n)
	}
	if m.To > c.n {
		return rejected("recipient %d is not in 1..%d", m.To, c.n)
	}
	if !embedded && m.To != 0 && m.To != c.self {
		return rejected("%s message for participant %d delivered to participant %d: misrouted", m.Round, m.To, c.self)
	}
	if len(m.Signature) != signatureSize || !ed25519.Verify(c.roster[m.From-1], signedBytes(c.ctx, m.Round, m.From, m.To, m.Payload), m.Signature) {
		return rejected("%s message from participant %d does not verify under its identity key: forged, altered in transit, or signed for a ceremony with other parameters (threshold, roster, kind)", m.Round, m.From)
	}
	if !m.Round.valid() {
		return rejected("%s from participant %d: a newer version?", m.Round, m.From)
	}
	return nil
}

// wellFormed checks what can be checked of an authenticated message alone:
// its addressing and its payload's layout. A failure is its sender's fault.
func (c *Ceremony) wellFormed(m Message) error {
	if m.Round.directed() != (m.To != 0) || m.To == m.From {
		return fmt.Errorf("it is addressed to %d", m.To)
	}
	switch m.Round {
	case RoundCommit:
		_, err := decodeRound1(m.Payload, c.kind, c.t)
		return err
	case RoundEcho, RoundConfirm:
		if len(m.Payload) != hashSize {
			return fmt.Errorf("%w: %d bytes, want %d", errPayload, len(m.Payload), hashSize)
		}
	case RoundShare:
		if len(m.Payload) != sharePayloadLen {
			return fmt.Errorf("%w: %d bytes, want %d", errPayload, len(m.Payload), sharePayloadLen)
		}
	case RoundReveal:
		_, err := c.revealedSet(m)
		return err
	case RoundComplaint:
		_, err := decodeComplaint(m.Payload)
		return err
	}
	return nil
}

// revealedSet checks a reveal: exactly one authentic commit message of
// every participant, and echoes. It returns the commit payloads in id order.
func (c *Ceremony) revealedSet(m Message) ([][]byte, error) {
	ms, err := decodeReveal(m.Payload)
	if err != nil {
		return nil, err
	}
	payloads := make([][]byte, c.n)
	for _, e := range ms {
		if err := c.authenticate(e, true); err != nil {
			return nil, fmt.Errorf("it reveals a message that is not authentic: %w", err)
		}
		switch e.Round {
		case RoundCommit:
			if payloads[e.From-1] != nil {
				return nil, fmt.Errorf("it reveals two commit messages of participant %d", e.From)
			}
			payloads[e.From-1] = e.Payload
		case RoundEcho:
		default:
			return nil, fmt.Errorf("it reveals a %s message; a reveal holds commit and echo messages", e.Round)
		}
	}
	for i, p := range payloads {
		if p == nil {
			return nil, fmt.Errorf("it reveals no commit message of participant %d", i+1)
		}
	}
	return payloads, nil
}

// ingest keeps an authenticated message from another participant, and
// catches equivocation: two different messages for one round.
func (c *Ceremony) ingest(m Message) error {
	k := slot{m.Round, m.From}
	if prev, ok := c.got[k]; ok {
		if prev.To == m.To && bytes.Equal(prev.Payload, m.Payload) {
			return nil // a duplicate
		}
		return culprit(m.From, OffenceEquivocation, []Message{prev, m}, "it signed two different %s messages", m.Round)
	}
	if err := c.wellFormed(m); err != nil {
		return culprit(m.From, OffenceMalformed, []Message{m}, "its %s message: %v", m.Round, err)
	}
	c.got[k] = m
	switch m.Round {
	case RoundReveal:
		// What it saw counts as received: it is signed by its senders,
		// and a conflicting copy convicts its sender of equivocation.
		ms, _ := decodeReveal(m.Payload)
		for _, e := range ms {
			if e.From == c.self {
				continue
			}
			if err := c.ingest(e); err != nil {
				return err
			}
		}
	case RoundComplaint:
		c.complaints = append(c.complaints, m)
	}
	return nil
}

// advance moves through the rounds as far as the messages at hand allow.
func (c *Ceremony) advance() {
	for c.phase != phaseNew && !c.Done() {
		progressed, err := c.next()
		if err != nil {
			c.fail(err)
			return
		}
		if !progressed {
			return
		}
	}
}

func (c *Ceremony) next() (bool, error) {
	if err := c.judgeComplaints(); err != nil {
		return false, err
	}
	if c.set != nil {
		if err := c.checkReveals(); err != nil {
			return false, err
		}
		if err := c.maybeReveal(); err != nil {
			return false, err
		}
	}
	switch c.phase {
	case phaseCommit:
		return c.closeCommit()
	case phaseEcho:
		return c.closeEcho()
	case phaseShare:
		return c.closeShare()
	case phaseConfirm:
		return c.closeConfirm()
	}
	return false, nil
}

// parsePeer checks a participant's round-1 package: every point, the HPKE
// key and the proof of knowledge. Our own is parsed, not checked.
func (c *Ceremony) parsePeer(m Message) (*peer, *CulpritError) {
	own := m.From == c.self
	r1, err := decodeRound1(m.Payload, c.kind, c.t)
	if err != nil {
		return nil, culprit(m.From, OffenceMalformed, []Message{m}, "its commit message: %v", err)
	}
	p := &peer{msg: m, r1: r1}
	if c.kind == kindRefresh {
		p.coms = append(p.coms, group.NewElement()) // the identity: a commitment to zero
	}
	for i, b := range r1.commitment {
		if err := checkPoint(b); err != nil && !own {
			return nil, culprit(m.From, OffenceBadCommitment, []Message{m}, "point %d of its commitment %v", i, err)
		}
		e := group.NewElement()
		if err := e.Decode(b[:]); err != nil {
			return nil, culprit(m.From, OffenceBadCommitment, []Message{m}, "point %d of its commitment: %v", i, err)
		}
		p.coms = append(p.coms, e)
	}
	if own {
		return p, nil
	}
	if err := checkShareKey(r1.hpkeKey); err != nil {
		return nil, culprit(m.From, OffenceBadCommitment, []Message{m}, "its HPKE key cannot be encrypted to: %v", err)
	}
	if ce := c.deal.checkProof(m.From, p); ce != nil {
		return nil, ce
	}
	return p, nil
}

// closeCommit checks the round-1 set once complete and echoes its hash.
func (c *Ceremony) closeCommit() (bool, error) {
	for id := protocol.ParticipantID(1); id <= c.n; id++ {
		if _, ok := c.got[slot{RoundCommit, id}]; !ok {
			return false, nil
		}
	}
	set := make([]*peer, c.n)
	payloads := make([][]byte, c.n)
	for i := range set {
		m := c.got[slot{RoundCommit, protocol.ParticipantID(i + 1)}]
		p, ce := c.parsePeer(m)
		if ce != nil {
			return false, ce
		}
		set[i], payloads[i] = p, m.Payload
	}
	c.set, c.setHash = set, setHash(c.ctx, payloads)
	echo := c.setHash
	if c.fault.badEcho {
		echo[0] ^= 1
	}
	c.phase = phaseEcho
	return true, c.send(RoundEcho, 0, echo[:])
}

// differing lists the participants whose echo differs from ours.
func (c *Ceremony) differing() []protocol.ParticipantID {
	var ids []protocol.ParticipantID
	for id := protocol.ParticipantID(1); id <= c.n; id++ {
		if e, ok := c.got[slot{RoundEcho, id}]; ok && id != c.self && !bytes.Equal(e.Payload, c.setHash[:]) {
			ids = append(ids, id)
		}
	}
	return ids
}

// maybeReveal reveals the round-1 set we saw, once, when an echo differs
// from ours or someone else revealed: someone equivocated or lied, and the
// reveals (each signed, each holding signed packages) show who.
func (c *Ceremony) maybeReveal() error {
	if _, done := c.got[slot{RoundReveal, c.self}]; done {
		return nil
	}
	differ := c.differing()
	other := false
	for id := protocol.ParticipantID(1); id <= c.n && !other; id++ {
		_, other = c.got[slot{RoundReveal, id}]
	}
	if len(differ) == 0 && !other {
		return nil
	}
	evidence := make([]Message, 0, int(c.n)+len(differ))
	for id := protocol.ParticipantID(1); id <= c.n; id++ {
		evidence = append(evidence, c.got[slot{RoundCommit, id}])
	}
	for _, id := range differ {
		evidence = append(evidence, c.got[slot{RoundEcho, id}])
	}
	payload, err := encodeReveal(evidence)
	if err != nil {
		return err
	}
	if c.phase == phaseEcho {
		c.phase = phaseReveal
	}
	return c.send(RoundReveal, 0, payload)
}

// closeEcho sends the shares once every echo matches ours.
func (c *Ceremony) closeEcho() (bool, error) {
	if len(c.differing()) > 0 {
		return false, nil // maybeReveal has taken over
	}
	for id := protocol.ParticipantID(1); id <= c.n; id++ {
		if _, ok := c.got[slot{RoundEcho, id}]; !ok {
			return false, nil
		}
	}
	shares, err := c.deal.shares(c.set, &c.fault)
	if err != nil {
		return false, err
	}
	defer func() {
		for _, s := range shares {
			s.Zero()
		}
	}()
	for to := protocol.ParticipantID(1); to <= c.n; to++ {
		if to == c.self {
			continue
		}
		pt := shares[to].Encode()
		ct, err := sealShare(c.set[to-1].r1.hpkeKey, shareAAD(c.id, c.ctx, c.self, to), pt)
		clear(pt)
		if err != nil {
			return false, fmt.Errorf("dkg: encrypting the share for participant %d: %w", to, err)
		}
		if err := c.send(RoundShare, to, ct); err != nil {
			return false, err
		}
	}
	c.phase = phaseShare
	return true, nil
}

// checkReveals holds every reveal to its sender's echo: the set it
// reveals must hash to what it echoed. (A reveal whose packages differ
// from ours has already convicted their sender in ingest.)
func (c *Ceremony) checkReveals() error {
	for id := protocol.ParticipantID(1); id <= c.n; id++ {
		rv, ok := c.got[slot{RoundReveal, id}]
		echo, ok2 := c.got[slot{RoundEcho, id}]
		if !ok || !ok2 || c.revealed[id] || id == c.self {
			continue
		}
		payloads, err := c.revealedSet(rv)
		if err != nil {
			return culprit(id, OffenceMalformed, []Message{rv}, "its reveal: %v", err)
		}
		if h := setHash(c.ctx, payloads); !bytes.Equal(h[:], echo.Payload) {
			return culprit(id, OffenceBadEcho, []Message{echo, rv}, "its echo does not match the round-1 set it revealed")
		}
		c.revealed[id] = true
	}
	return nil
}

// closeShare decrypts and checks every share once all have come, and
// confirms the resulting transcript.
func (c *Ceremony) closeShare() (bool, error) {
	for id := protocol.ParticipantID(1); id <= c.n; id++ {
		if _, ok := c.got[slot{RoundShare, id}]; !ok && id != c.self {
			return false, nil
		}
	}
	got := make(map[protocol.ParticipantID]*ecc.Scalar, c.n-1)
	defer func() {
		for _, s := range got {
			s.Zero()
		}
	}()
	for id := protocol.ParticipantID(1); id <= c.n; id++ {
		if id == c.self {
			continue
		}
		m := c.got[slot{RoundShare, id}]
		s, err := c.openShare(c.key, m)
		if err != nil {
			return false, culprit(id, OffenceBadShare, []Message{m}, "its share for participant %d %v", c.self, err)
		}
		if c.fault.falseComplaintAgainst == id {
			return false, culprit(id, OffenceBadShare, []Message{m}, "(a false accusation, injected for a test)")
		}
		got[id] = s
	}
	g, ks, err := c.deal.finish(c.set, got)
	if err != nil {
		var ce *CulpritError
		if errors.As(err, &ce) && ce.Evidence == nil {
			ce.Evidence = []Message{c.got[slot{RoundShare, ce.ID}]}
		}
		return false, err
	}
	c.group, c.share = g, ks
	c.transcript = transcriptHash(c.ctx, c.id, g, c.setHash)
	conf := c.transcript
	if c.fault.badConfirm {
		conf[0] ^= 1
	}
	c.phase = phaseConfirm
	return true, c.send(RoundConfirm, 0, conf[:])
}

// openShare decrypts a share message addressed to its recipient.
func (c *Ceremony) openShare(k hpke.PrivateKey, m Message) (*ecc.Scalar, error) {
	pt, err := openShare(k, shareAAD(c.id, c.ctx, m.From, m.To), m.Payload)
	if err != nil {
		return nil, fmt.Errorf("does not decrypt: %w", err)
	}
	defer clear(pt)
	s := group.NewScalar()
	if err := s.Decode(pt); err != nil {
		return nil, fmt.Errorf("is not a canonical scalar: %w", err)
	}
	return s, nil
}

// closeConfirm ends the ceremony once every confirmation matches ours, and
// aborts naming everyone whose confirmation differs.
func (c *Ceremony) closeConfirm() (bool, error) {
	var errs []error
	complete := true
	for id := protocol.ParticipantID(1); id <= c.n; id++ {
		m, ok := c.got[slot{RoundConfirm, id}]
		switch {
		case id == c.self:
		case !ok:
			complete = false
		case !bytes.Equal(m.Payload, c.transcript[:]):
			errs = append(errs, culprit(id, OffenceDisagreement, []Message{m}, "it confirmed a different transcript (group key, public key shares or round-1 set) from ours"))
		}
	}
	if len(errs) == 1 {
		return false, errs[0]
	}
	if len(errs) > 1 {
		return false, errors.Join(errs...)
	}
	if complete {
		c.phase = phaseDone
		c.deal.wipe()
		c.key = nil
	}
	return false, nil
}

// fail ends the ceremony. For every culprit it found itself it queues a
// complaint carrying the evidence, so the others abort too.
func (c *Ceremony) fail(err error) {
	var ces []*CulpritError
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if ce, ok := e.(*CulpritError); ok {
				ces = append(ces, ce)
			}
		}
	} else if ce, ok := err.(*CulpritError); ok {
		ces = append(ces, ce)
	}
	for _, ce := range ces {
		if ce.reported {
			continue
		}
		cp := complaint{accused: ce.ID, offence: ce.Offence, evidence: ce.Evidence}
		if ce.Offence == OffenceBadShare && c.key != nil {
			// Only this ceremony's shares were ever sealed to this key,
			// and the ceremony is over: revealing it lets everyone decrypt
			// the share and see whose fault it is.
			if b, kerr := c.key.Bytes(); kerr == nil {
				cp.key = b
			}
		}
		if payload, perr := cp.encode(); perr == nil {
			if m, serr := c.sign(RoundComplaint, 0, payload); serr == nil {
				c.out = append(c.out, m)
			}
		}
	}
	c.err = err
	c.phase = phaseFailed
	c.deal.wipe()
	c.key = nil
	c.group = nil
	clear(c.share.Secret[:])
	c.share = protocol.KeyShare{}
}
