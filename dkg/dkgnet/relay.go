package dkgnet

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/pki"
	frostdv1 "github.com/frostd/frostd/proto/frostd/v1"
	"github.com/frostd/frostd/protocol"
)

// maxMsg bounds a Dkg call either way: a batch of reveals of n round-1
// packages of t points each stays well below it.
const maxMsg = 64 << 20

// Config is what the relay needs to run a ceremony.
type Config struct {
	// Addrs are the participants' gRPC addresses (host:port), in any order;
	// each participant's id comes from its certificate.
	Addrs []string

	// TLS presents a coordinator certificate of the cluster and trusts
	// its CA: pki.ClientTLS(files, pki.RoleParticipant).
	TLS *tls.Config

	// Threshold is t for a key generation or a deal; a refresh keeps the
	// group's (zero, or equal to it).
	Threshold uint16

	// Progress, if set, is called from the relay's goroutine each time a
	// participant reaches a new round or ends.
	Progress func(Event)
}

// Event reports one participant's progress.
type Event struct {
	ID    protocol.ParticipantID
	Addr  string
	Round dkg.Round // the latest round it has sent messages of
	Done  bool
	Err   string // when Done, why it failed; empty on success
}

// Result is a finished ceremony as every participant reported it.
type Result struct {
	Ceremony   dkg.CeremonyID
	Group      *protocol.Group
	Transcript []byte // the confirmed transcript hash, the same at every participant
}

// CeremonyError is a ceremony that failed, stalled or timed out. No
// participant saved a key share, except as the dkg package's known limits
// describe (a participant that confirms differently to different peers).
type CeremonyError struct {
	Ceremony dkg.CeremonyID
	// Culprits are the participants the reports blame.
	Culprits []protocol.ParticipantID
	// Reports holds each failed participant's own error.
	Reports map[protocol.ParticipantID]string
	// Waiting, on a timeout or stall, says whom each unfinished
	// participant still waited for.
	Waiting map[protocol.ParticipantID][]protocol.ParticipantID
	// Cause is a timeout (context.DeadlineExceeded) or a call that failed.
	Cause error
}

func (e *CeremonyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ceremony %s failed", e.Ceremony)
	if len(e.Culprits) > 0 {
		fmt.Fprintf(&b, "; culprits: participant %s (investigate them, then run a new ceremony)", joinIDs(e.Culprits))
	}
	if len(e.Waiting) > 0 {
		blamed := e.Blamed()
		fmt.Fprintf(&b, "; still waiting for participant %s", joinIDs(blamed))
		for _, id := range sortedKeys(e.Waiting) {
			fmt.Fprintf(&b, " (%d waits for %s)", id, joinIDs(e.Waiting[id]))
		}
		b.WriteString(": check that they are running and reachable, then run a new ceremony")
	}
	for _, id := range sortedKeys(e.Reports) {
		fmt.Fprintf(&b, "; participant %d: %s", id, e.Reports[id])
	}
	if e.Cause != nil {
		fmt.Fprintf(&b, ": %v", e.Cause)
	}
	return b.String()
}

func (e *CeremonyError) Unwrap() error { return e.Cause }

// Blamed lists the participants others were still waiting for.
func (e *CeremonyError) Blamed() []protocol.ParticipantID {
	var ids []protocol.ParticipantID
	for _, w := range e.Waiting {
		ids = append(ids, w...)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

func sortedKeys[V any](m map[protocol.ParticipantID]V) []protocol.ParticipantID {
	ids := make([]protocol.ParticipantID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func joinIDs(ids []protocol.ParticipantID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ", ")
}

// Member is one participant as its Roster call describes it.
type Member struct {
	ID          protocol.ParticipantID
	Addr        string
	Certificate []byte          // DER
	Group       *protocol.Group // nil while it awaits a key
}

type conn struct {
	Member
	cc  *grpc.ClientConn
	rpc frostdv1.DkgClient
}

// session holds a connection to every participant, ordered by id.
type session struct {
	conns []*conn
}

func (s *session) close() {
	for _, c := range s.conns {
		c.cc.Close()
	}
}

// Info asks the participant at addr for its id, certificate and group.
func Info(ctx context.Context, addr string, tlsConf *tls.Config) (Member, error) {
	c, err := dial(ctx, addr, tlsConf)
	if err != nil {
		return Member{}, err
	}
	defer c.cc.Close()
	return c.Member, nil
}

func dial(ctx context.Context, addr string, tlsConf *tls.Config) (*conn, error) {
	if tlsConf == nil {
		return nil, errors.New("dkgnet: no TLS configuration; the relay needs a coordinator certificate")
	}
	tc := pki.RequirePeer(tlsConf, func(id pki.Identity) error {
		if id.Role != pki.RoleParticipant {
			return fmt.Errorf("%s answered at %s, not a participant; fix the address", id, addr)
		}
		return nil
	})
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(tc)),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsg), grpc.MaxCallSendMsgSize(maxMsg)))
	if err != nil {
		return nil, fmt.Errorf("participant at %s: %w", addr, err)
	}
	c := &conn{cc: cc, rpc: frostdv1.NewDkgClient(cc)}
	var p peer.Peer
	resp, err := c.rpc.Roster(ctx, &frostdv1.DkgRosterRequest{}, grpc.WaitForReady(true), grpc.Peer(&p))
	if err != nil {
		cc.Close()
		return nil, fmt.Errorf("participant at %s: %w (is it running, and does it accept this coordinator certificate?)", addr, err)
	}
	if err := c.fill(addr, resp, p); err != nil {
		cc.Close()
		return nil, err
	}
	return c, nil
}

// fill checks a Roster answer against the certificate the server
// presented in the handshake.
func (c *conn) fill(addr string, resp *frostdv1.DkgRosterResponse, p peer.Peer) error {
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.PeerCertificates) == 0 {
		return fmt.Errorf("participant at %s: the connection is not mutual TLS", addr)
	}
	if !bytes.Equal(info.State.PeerCertificates[0].Raw, resp.GetCertificate()) {
		return fmt.Errorf("participant at %s reports a certificate other than the one it presented", addr)
	}
	cert, err := x509.ParseCertificate(resp.GetCertificate())
	if err != nil {
		return fmt.Errorf("participant at %s: %w", addr, err)
	}
	id, err := pki.IdentityOf(cert)
	if err != nil {
		return fmt.Errorf("participant at %s: %w", addr, err)
	}
	if id.Role != pki.RoleParticipant || uint32(id.ParticipantID) != resp.GetParticipantId() {
		return fmt.Errorf("participant at %s reports id %d but its certificate is %s's", addr, resp.GetParticipantId(), id)
	}
	c.Member = Member{ID: id.ParticipantID, Addr: addr, Certificate: resp.GetCertificate()}
	if resp.GetGroup() != nil {
		if c.Group, err = groupFromProto(resp.GetGroup()); err != nil {
			return fmt.Errorf("participant %d at %s: %w", c.ID, addr, err)
		}
	}
	return nil
}

// open dials every participant and checks that their ids are 1..n.
func open(ctx context.Context, cfg Config) (*session, error) {
	if len(cfg.Addrs) < 2 || len(cfg.Addrs) > dkg.MaxParticipants {
		return nil, fmt.Errorf("dkgnet: give 2 to %d participant addresses, not %d", dkg.MaxParticipants, len(cfg.Addrs))
	}
	s := &session{conns: make([]*conn, len(cfg.Addrs))}
	errs := make([]error, len(cfg.Addrs))
	var wg sync.WaitGroup
	for i, addr := range cfg.Addrs {
		wg.Go(func() { s.conns[i], errs[i] = dial(ctx, addr, cfg.TLS) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, c := range s.conns {
			if c != nil {
				c.cc.Close()
			}
		}
		return nil, err
	}
	sort.Slice(s.conns, func(i, j int) bool { return s.conns[i].ID < s.conns[j].ID })
	return s, nil
}

// numbered checks that the participants are 1..n, each once.
func (s *session) numbered() error {
	for i, c := range s.conns {
		if c.ID != protocol.ParticipantID(i+1) {
			var have []string
			for _, c := range s.conns {
				have = append(have, fmt.Sprintf("%d at %s", c.ID, c.Addr))
			}
			return fmt.Errorf("dkgnet: the participants must be numbered 1 to %d, each once; got %s", len(s.conns), strings.Join(have, ", "))
		}
	}
	return nil
}

// Keygen runs a t-of-n key generation among the participants at
// cfg.Addrs, none of which may hold a key share yet.
func Keygen(ctx context.Context, cfg Config) (*Result, error) {
	s, err := open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if err := s.numbered(); err != nil {
		return nil, err
	}
	var have []string
	for _, c := range s.conns {
		if c.Group != nil {
			have = append(have, fmt.Sprint(c.ID))
		}
	}
	if len(have) > 0 {
		return nil, fmt.Errorf("dkgnet: participant %s already hold a key share; a key generation needs participants awaiting a key (use refresh to renew shares)", strings.Join(have, ", "))
	}
	if cfg.Threshold < 2 || int(cfg.Threshold) > len(s.conns) {
		return nil, fmt.Errorf("dkgnet: threshold %d must be between 2 and the number of participants %d", cfg.Threshold, len(s.conns))
	}
	return s.run(ctx, cfg, frostdv1.DkgKind_DKG_KIND_KEYGEN, cfg.Threshold)
}

// Refresh gives every member of the participants' group new shares of the
// same key. All n members must take part.
func Refresh(ctx context.Context, cfg Config) (*Result, error) {
	s, err := open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer s.close()
	g, err := s.commonGroup()
	if err != nil {
		return nil, err
	}
	if int(g.MaxSigners) != len(s.conns) {
		return nil, fmt.Errorf("%w: the group has %d members and %d were given; list every participant", dkg.ErrAllMustTakePart, g.MaxSigners, len(s.conns))
	}
	if err := s.numbered(); err != nil {
		return nil, err
	}
	if cfg.Threshold != 0 && cfg.Threshold != g.Threshold {
		return nil, fmt.Errorf("dkgnet: a refresh keeps the group's threshold %d, not %d", g.Threshold, cfg.Threshold)
	}
	res, err := s.run(ctx, cfg, frostdv1.DkgKind_DKG_KIND_REFRESH, 0)
	if err != nil {
		return nil, err
	}
	if !res.Group.PublicKey.Equal(g.PublicKey) {
		return nil, fmt.Errorf("dkgnet: the refresh changed the group key from %x to %x; this is a bug: keep the old shares", g.PublicKey, res.Group.PublicKey)
	}
	return res, nil
}

// commonGroup returns the group every participant holds.
func (s *session) commonGroup() (*protocol.Group, error) {
	var g *protocol.Group
	for _, c := range s.conns {
		if c.Group == nil {
			return nil, fmt.Errorf("dkgnet: participant %d at %s holds no key share; run a key generation first", c.ID, c.Addr)
		}
		if g == nil {
			g = c.Group
		} else if !sameGroup(g, c.Group) {
			return nil, fmt.Errorf("dkgnet: participants 1 and %d hold different groups (%x and %x); they must be members of one group", c.ID, g.PublicKey, c.Group.PublicKey)
		}
	}
	return g, nil
}

func sameGroup(a, b *protocol.Group) bool {
	return a.Threshold == b.Threshold && a.MaxSigners == b.MaxSigners && a.PublicKey.Equal(b.PublicKey) && slices.Equal(a.Members, b.Members)
}

// run relays one ceremony: Begin at every participant, then Step rounds
// delivering each participant's inbox, until no message is in flight.
func (s *session) run(ctx context.Context, cfg Config, kind frostdv1.DkgKind, t uint16) (*Result, error) {
	id, err := dkg.NewCeremonyID()
	if err != nil {
		return nil, err
	}
	roster := make([][]byte, len(s.conns))
	for i, c := range s.conns {
		roster[i] = c.Certificate
	}
	n := len(s.conns)
	last := make([]Status, n)
	round := make([]dkg.Round, n)
	inbox := make([][]dkg.Message, n)
	ended := make([]bool, n)
	progress := func(i int, st Status) {
		c := s.conns[i]
		for _, m := range st.Messages {
			if m.Round > round[i] && m.Round <= dkg.RoundConfirm {
				round[i] = m.Round
				if cfg.Progress != nil {
					cfg.Progress(Event{ID: c.ID, Addr: c.Addr, Round: m.Round})
				}
			}
		}
		if st.Done && !ended[i] {
			ended[i] = true
			if cfg.Progress != nil {
				cfg.Progress(Event{ID: c.ID, Addr: c.Addr, Round: round[i], Done: true, Err: st.Err})
			}
		}
	}
	route := func(i int, st Status) {
		from := s.conns[i].ID
		for _, m := range st.Messages {
			switch {
			case m.To == 0:
				for j := range inbox {
					if j != i {
						inbox[j] = append(inbox[j], m)
					}
				}
			case int(m.To) >= 1 && int(m.To) <= n && m.To != from:
				inbox[m.To-1] = append(inbox[m.To-1], m)
			}
		}
	}
	fail := func(cause error) *CeremonyError {
		e := &CeremonyError{Ceremony: id, Cause: cause, Reports: map[protocol.ParticipantID]string{}, Waiting: map[protocol.ParticipantID][]protocol.ParticipantID{}}
		for i, st := range last {
			pid := s.conns[i].ID
			if st.Err != "" {
				e.Reports[pid] = st.Err
				e.Culprits = append(e.Culprits, st.Culprits...)
			}
			if !st.Done && len(st.Waiting) > 0 {
				e.Waiting[pid] = st.Waiting
			}
		}
		slices.Sort(e.Culprits)
		e.Culprits = slices.Compact(e.Culprits)
		return e
	}

	// call runs f for the participants listed, in parallel.
	call := func(which []int, f func(i int) (*frostdv1.DkgStepResponse, error)) error {
		resps := make([]*frostdv1.DkgStepResponse, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for _, i := range which {
			wg.Go(func() { resps[i], errs[i] = f(i) })
		}
		wg.Wait()
		var bad []error
		for _, i := range which {
			if errs[i] == nil {
				var st Status
				if st, errs[i] = statusFromProto(resps[i]); errs[i] == nil {
					last[i] = st
					progress(i, st)
					route(i, st)
					continue
				}
			}
			bad = append(bad, fmt.Errorf("participant %d at %s: %w", s.conns[i].ID, s.conns[i].Addr, errs[i]))
		}
		return errors.Join(bad...)
	}

	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	err = call(all, func(i int) (*frostdv1.DkgStepResponse, error) {
		return s.conns[i].rpc.Begin(ctx, &frostdv1.DkgBeginRequest{Ceremony: id[:], Kind: kind, Threshold: uint32(t), Roster: roster})
	})
	for err == nil {
		var which []int
		for i := range inbox {
			if len(inbox[i]) > 0 && !last[i].Done {
				which = append(which, i)
			}
		}
		if len(which) == 0 {
			break
		}
		batch := make([][]dkg.Message, n)
		for _, i := range which {
			batch[i], inbox[i] = inbox[i], nil
		}
		err = call(which, func(i int) (*frostdv1.DkgStepResponse, error) {
			msgs, err := messagesToProto(batch[i])
			if err != nil {
				return nil, err
			}
			return s.conns[i].rpc.Step(ctx, &frostdv1.DkgStepRequest{Ceremony: id[:], Messages: msgs})
		})
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fail(fmt.Errorf("timed out: %w", ctx.Err()))
		}
		return nil, fail(err)
	}
	done := true
	failed := false
	for _, st := range last {
		done = done && st.Done
		failed = failed || st.Err != ""
	}
	switch {
	case failed:
		return nil, fail(nil)
	case !done:
		return nil, fail(dkg.ErrStalled)
	}
	res := &Result{Ceremony: id, Group: last[0].Group, Transcript: last[0].Transcript}
	for i, st := range last[1:] {
		if !sameGroup(res.Group, st.Group) || !bytes.Equal(res.Transcript, st.Transcript) {
			return nil, fmt.Errorf("dkgnet: participants 1 and %d report different groups or transcripts (%x, %x); do not use either: run a new ceremony and investigate", s.conns[i+1].ID, res.Transcript, st.Transcript)
		}
	}
	return res, nil
}

// Deal splits an existing Ed25519 key, given by its 32-byte seed, into
// shares for the participants at cfg.Addrs (t = cfg.Threshold) and
// installs one at each over mutual TLS. None may hold a key share yet.
// The group key is the key's own public key. The caller holds the whole
// key: destroy the seed afterwards.
func Deal(ctx context.Context, cfg Config, seed []byte) (*protocol.Group, error) {
	s, err := open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if err := s.numbered(); err != nil {
		return nil, err
	}
	for _, c := range s.conns {
		if c.Group != nil {
			return nil, fmt.Errorf("dkgnet: participant %d at %s already holds a key share of group %x; refusing to deal to it (give it an empty state directory)", c.ID, c.Addr, c.Group.PublicKey)
		}
	}
	g, shares, err := dkg.Deal(seed, cfg.Threshold, uint16(len(s.conns)))
	if err != nil {
		return nil, err
	}
	defer func() {
		for i := range shares {
			clear(shares[i].Secret[:])
		}
	}()
	pg := groupToProto(g)
	for i, c := range s.conns {
		ks := shares[i]
		_, err := c.rpc.InstallShare(ctx, &frostdv1.DkgInstallShareRequest{Group: pg, Id: uint32(ks.ID), Secret: ks.Secret[:]})
		if err != nil {
			return nil, fmt.Errorf("participant %d at %s refused its share after participants 1 to %d installed theirs: %w; fix it, then give every participant an empty state directory and deal again", c.ID, c.Addr, i, err)
		}
		if cfg.Progress != nil {
			cfg.Progress(Event{ID: c.ID, Addr: c.Addr, Done: true})
		}
	}
	return g, nil
}
