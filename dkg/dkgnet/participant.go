package dkgnet

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/pki"
	frostdv1 "github.com/frostd/frostd/proto/frostd/v1"
	"github.com/frostd/frostd/protocol"
)

// ParticipantConfig is what a participant's Dkg service needs.
type ParticipantConfig struct {
	// Certificate is the participant's TLS certificate (a participant
	// certificate of the cluster) with its Ed25519 private key, which is
	// also its DKG identity key.
	Certificate tls.Certificate

	// Roots holds the cluster CA: every roster certificate must chain to it.
	Roots *x509.CertPool

	// Coordinators, if not empty, names the coordinator certificates
	// allowed to call; empty allows any coordinator certificate.
	Coordinators []string

	// Key returns the participant's current group and key share; ok is
	// false while it awaits its first key.
	Key func() (g *protocol.Group, ks protocol.KeyShare, ok bool)

	// Install saves a new group and key share durably and starts signing
	// with them; replace is true after a refresh. It must not return nil
	// before the share is on disk: success is reported to the relay only
	// after it returns.
	Install func(g *protocol.Group, ks protocol.KeyShare, replace bool) error

	// Logger receives refusals and ceremony outcomes; nil means slog.Default().
	Logger *slog.Logger
}

// Participant serves the Dkg service for one participant: it checks the
// roster against the cluster CA, runs the participant's dkg.Ceremony one
// message batch at a time, and installs the result. It runs one ceremony
// at a time; a Begin with a new ceremony id abandons an unfinished one.
type Participant struct {
	cfg   ParticipantConfig
	log   *slog.Logger
	self  protocol.ParticipantID
	ident crypto.Signer
	der   []byte

	mu     sync.Mutex
	id     dkg.CeremonyID
	cer    *dkg.Ceremony
	final  *Status // set once the current ceremony has ended
	used   map[dkg.CeremonyID]bool
	refill bool // the current ceremony is a refresh
}

// NewParticipant checks cfg and returns the service.
func NewParticipant(cfg ParticipantConfig) (*Participant, error) {
	if len(cfg.Certificate.Certificate) == 0 || cfg.Roots == nil || cfg.Key == nil || cfg.Install == nil {
		return nil, errors.New("dkgnet: ParticipantConfig needs Certificate, Roots, Key and Install")
	}
	leaf := cfg.Certificate.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(cfg.Certificate.Certificate[0]); err != nil {
			return nil, fmt.Errorf("dkgnet: the participant's certificate: %w", err)
		}
	}
	id, err := pki.IdentityOf(leaf)
	if err != nil {
		return nil, fmt.Errorf("dkgnet: the participant's certificate: %w", err)
	}
	if id.Role != pki.RoleParticipant {
		return nil, fmt.Errorf("dkgnet: the certificate is %s's; a participant certificate is needed", id)
	}
	priv, ok := cfg.Certificate.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, errors.New("dkgnet: the certificate's private key cannot sign")
	}
	if _, ok := priv.Public().(ed25519.PublicKey); !ok {
		return nil, errors.New("dkgnet: the certificate's key is not Ed25519; issue it with frostd certs issue")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Participant{
		cfg: cfg, log: log.With("dkg_participant", id.ParticipantID), self: id.ParticipantID,
		ident: priv, der: cfg.Certificate.Certificate[0], used: map[dkg.CeremonyID]bool{},
	}, nil
}

// Register serves the Dkg service on srv, which must use mutual TLS.
func (p *Participant) Register(srv *grpc.Server) {
	frostdv1.RegisterDkgServer(srv, dkgServer{p: p})
}

type dkgServer struct {
	frostdv1.UnimplementedDkgServer
	p *Participant
}

// coordinator refuses callers that are not an allowed coordinator.
func (p *Participant) coordinator(ctx context.Context, method string) error {
	id, err := pki.PeerIdentity(ctx)
	if err != nil {
		p.log.Warn("refused an unauthenticated caller", "method", method, "err", err)
		return status.Errorf(codes.Unauthenticated, "%s needs mutual TLS with a certificate of the cluster CA: %v", method, err)
	}
	if id.Role != pki.RoleCoordinator {
		p.log.Warn("refused a caller that is not a coordinator", "method", method, "peer", id.String())
		return status.Errorf(codes.PermissionDenied, "%s may not call %s: only coordinator certificates may run ceremonies (frost-dkg --tls-name a coordinator certificate)", id, method)
	}
	if len(p.cfg.Coordinators) > 0 && !slices.Contains(p.cfg.Coordinators, id.Name) {
		p.log.Warn("refused a coordinator not in [policy] coordinators", "method", method, "peer", id.String())
		return status.Errorf(codes.PermissionDenied, "%s is not among this participant's [policy] coordinators", id)
	}
	return nil
}

func (s dkgServer) Roster(ctx context.Context, _ *frostdv1.DkgRosterRequest) (*frostdv1.DkgRosterResponse, error) {
	if err := s.p.coordinator(ctx, "Dkg.Roster"); err != nil {
		return nil, err
	}
	resp := &frostdv1.DkgRosterResponse{ParticipantId: uint32(s.p.self), Certificate: s.p.der}
	if g, ks, ok := s.p.cfg.Key(); ok {
		clear(ks.Secret[:])
		resp.Group = groupToProto(g)
	}
	return resp, nil
}

func (s dkgServer) Begin(ctx context.Context, req *frostdv1.DkgBeginRequest) (*frostdv1.DkgStepResponse, error) {
	if err := s.p.coordinator(ctx, "Dkg.Begin"); err != nil {
		return nil, err
	}
	st, err := s.p.begin(req)
	if err != nil {
		s.p.log.Info("refused to begin a ceremony", "err", err)
		return nil, err
	}
	return statusToProto(st)
}

func (s dkgServer) Step(ctx context.Context, req *frostdv1.DkgStepRequest) (*frostdv1.DkgStepResponse, error) {
	if err := s.p.coordinator(ctx, "Dkg.Step"); err != nil {
		return nil, err
	}
	st, err := s.p.step(req)
	if err != nil {
		return nil, err
	}
	return statusToProto(st)
}

func (s dkgServer) InstallShare(ctx context.Context, req *frostdv1.DkgInstallShareRequest) (*frostdv1.DkgInstallShareResponse, error) {
	if err := s.p.coordinator(ctx, "Dkg.InstallShare"); err != nil {
		return nil, err
	}
	if err := s.p.installShare(req); err != nil {
		s.p.log.Warn("refused a dealt share", "err", err)
		return nil, err
	}
	return &frostdv1.DkgInstallShareResponse{}, nil
}

// checkRoster verifies every roster certificate against the cluster CA and
// returns the identity keys, participant i's at index i-1.
func (p *Participant) checkRoster(ders [][]byte) ([]ed25519.PublicKey, error) {
	n := len(ders)
	if n < 2 || n > dkg.MaxParticipants {
		return nil, status.Errorf(codes.InvalidArgument, "the roster lists %d certificates; a ceremony needs 2 to %d", n, dkg.MaxParticipants)
	}
	if int(p.self) > n || !bytes.Equal(ders[p.self-1], p.der) {
		return nil, status.Errorf(codes.InvalidArgument, "roster entry %d is not this participant's certificate; the relay must list participant i's certificate (from Roster) at index i", p.self)
	}
	keys := make([]ed25519.PublicKey, n)
	for i, der := range ders {
		want := protocol.ParticipantID(i + 1)
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "roster entry %d: %v", want, err)
		}
		if _, err := c.Verify(x509.VerifyOptions{Roots: p.cfg.Roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			return nil, status.Errorf(codes.PermissionDenied, "roster entry %d is not a certificate of this cluster's CA: %v", want, err)
		}
		id, err := pki.IdentityOf(c)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "roster entry %d: %v", want, err)
		}
		if id.Role != pki.RoleParticipant || id.ParticipantID != want {
			return nil, status.Errorf(codes.InvalidArgument, "roster entry %d is the certificate of %s; entry i must be participant i's", want, id)
		}
		pub, ok := c.PublicKey.(ed25519.PublicKey)
		if !ok {
			return nil, status.Errorf(codes.InvalidArgument, "roster entry %d has no Ed25519 key", want)
		}
		keys[i] = pub
	}
	return keys, nil
}

func (p *Participant) begin(req *frostdv1.DkgBeginRequest) (Status, error) {
	id, err := ceremonyFromProto(req.GetCeremony())
	if err != nil {
		return Status{}, status.Error(codes.InvalidArgument, err.Error())
	}
	roster, err := p.checkRoster(req.GetRoster())
	if err != nil {
		return Status{}, err
	}
	if req.GetThreshold() > dkg.MaxParticipants {
		return Status{}, status.Errorf(codes.InvalidArgument, "threshold %d is over %d", req.GetThreshold(), dkg.MaxParticipants)
	}
	cfg := dkg.Config{ID: id, Threshold: uint16(req.GetThreshold()), Self: p.self, Identity: p.ident, Roster: roster}

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.used[id] {
		return Status{}, status.Errorf(codes.AlreadyExists, "ceremony %s was already begun here; every ceremony needs a new id", id)
	}
	g, ks, has := p.cfg.Key()
	defer clear(ks.Secret[:])
	var c *dkg.Ceremony
	refresh := false
	switch req.GetKind() {
	case frostdv1.DkgKind_DKG_KIND_KEYGEN:
		if has {
			return Status{}, status.Errorf(codes.FailedPrecondition, "participant %d already holds a key share of group %x; a key generation would replace it: run a refresh to renew shares, or give this participant an empty state directory", p.self, g.PublicKey)
		}
		c, err = dkg.NewKeygen(cfg)
	case frostdv1.DkgKind_DKG_KIND_REFRESH:
		if !has {
			return Status{}, status.Errorf(codes.FailedPrecondition, "participant %d holds no key share to refresh; run a key generation first", p.self)
		}
		refresh = true
		c, err = dkg.NewRefresh(cfg, g, ks)
	default:
		return Status{}, status.Errorf(codes.InvalidArgument, "unknown ceremony kind %v", req.GetKind())
	}
	if err != nil {
		return Status{}, status.Errorf(codes.FailedPrecondition, "participant %d cannot take part: %v", p.self, err)
	}
	if p.cer != nil && p.final == nil {
		p.log.Warn("abandoning an unfinished ceremony for a new one", "old", p.id.String(), "new", id.String())
	}
	p.used[id] = true
	p.id, p.cer, p.final, p.refill = id, c, nil, refresh
	p.log.Info("ceremony begun", "ceremony", id.String(), "refresh", refresh, "n", len(roster), "t", req.GetThreshold())
	msgs, err := c.Start()
	return p.status(msgs, err), nil
}

func (p *Participant) step(req *frostdv1.DkgStepRequest) (Status, error) {
	id, err := ceremonyFromProto(req.GetCeremony())
	if err != nil {
		return Status{}, status.Error(codes.InvalidArgument, err.Error())
	}
	msgs, err := messagesFromProto(req.GetMessages())
	if err != nil {
		return Status{}, status.Error(codes.InvalidArgument, err.Error())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.id != id || (p.cer == nil && p.final == nil) {
		return Status{}, status.Errorf(codes.FailedPrecondition, "participant %d runs no ceremony %s (it was never begun here, or another has replaced it): begin a new ceremony", p.self, id)
	}
	if p.final != nil {
		return *p.final, nil
	}
	var out []dkg.Message
	var last error
	for _, m := range msgs {
		o, err := p.cer.Step(m)
		out = append(out, o...)
		if errors.Is(err, dkg.ErrRejected) {
			p.log.Warn("ignored a ceremony message", "msg", m.String(), "err", err)
			continue
		}
		if err != nil {
			last = err
		}
	}
	return p.status(out, last), nil
}

// status reports the ceremony after a call, and installs its result the
// first time it is done. Called with p.mu held.
func (p *Participant) status(msgs []dkg.Message, err error) Status {
	c := p.cer
	st := Status{Messages: msgs}
	if !c.Done() {
		st.Waiting = c.Waiting()
		return st
	}
	st.Done = true
	if err == nil {
		err = c.Err()
	}
	if err == nil {
		err = p.install(&st)
	}
	if err != nil {
		st.Err = err.Error()
		st.Culprits = dkg.Culprits(err)
		p.log.Warn("ceremony failed; nothing was saved", "ceremony", p.id.String(), "culprits", st.Culprits, "err", err)
	}
	final := st
	final.Messages = nil
	p.final, p.cer = &final, nil // drop the ceremony, and the share it holds
	return st
}

func (p *Participant) install(st *Status) error {
	g, ks, err := p.cer.Result()
	if err != nil {
		return err
	}
	defer clear(ks.Secret[:])
	tr, err := p.cer.Transcript()
	if err != nil {
		return err
	}
	if err := p.cfg.Install(g, ks, p.refill); err != nil {
		return fmt.Errorf("participant %d finished the ceremony but could not save its key share: %w", p.self, err)
	}
	st.Group, st.Transcript = g, tr
	p.log.Info("ceremony succeeded; key share saved", "ceremony", p.id.String(), "group", fmt.Sprintf("%x", g.PublicKey), "transcript", fmt.Sprintf("%x", tr))
	return nil
}

func (p *Participant) installShare(req *frostdv1.DkgInstallShareRequest) error {
	g, err := groupFromProto(req.GetGroup())
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	if req.GetId() != uint32(p.self) {
		return status.Errorf(codes.InvalidArgument, "the share is participant %d's, but this is participant %d", req.GetId(), p.self)
	}
	if len(req.GetSecret()) != 32 {
		return status.Errorf(codes.InvalidArgument, "the secret share is %d bytes, want 32", len(req.GetSecret()))
	}
	ks := protocol.KeyShare{ID: p.self}
	copy(ks.Secret[:], req.GetSecret())
	defer clear(ks.Secret[:])
	if _, err := ks.Frost(g); err != nil {
		return status.Errorf(codes.InvalidArgument, "the dealt share does not fit the group: %v", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if cur, _, has := p.cfg.Key(); has {
		return status.Errorf(codes.FailedPrecondition, "participant %d already holds a key share of group %x; refusing to replace it with a dealt one (give it an empty state directory to start over)", p.self, cur.PublicKey)
	}
	if p.cer != nil && p.final == nil {
		return status.Errorf(codes.FailedPrecondition, "participant %d is in ceremony %s; wait for it to end", p.self, p.id)
	}
	if err := p.cfg.Install(g, ks, false); err != nil {
		return status.Errorf(codes.Internal, "participant %d could not save the dealt share: %v", p.self, err)
	}
	p.log.Info("installed a dealt key share", "group", fmt.Sprintf("%x", g.PublicKey))
	return nil
}
