package daemon

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/dkg/dkgnet"
	"github.com/frostd/frostd/membership"
	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/participant/boltstore"
	"github.com/frostd/frostd/pki"
	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/state"
	"github.com/frostd/frostd/transport/grpctransport"
)

// ParticipantNode is a running participant: its gRPC server, its membership
// in the gossip cluster, its nonce store and its metrics.
type ParticipantNode struct {
	cfg     *ParticipantConfig
	log     *slog.Logger
	dir     state.Dir
	policy  participant.Policy
	dkg     *dkgnet.Participant
	store   *boltstore.Store
	grpc    *grpc.Server
	lis     net.Listener
	member  *membership.Node
	metrics *ParticipantMetrics
	http    *http.Server
	files   pki.Files

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	pushed map[string]bool // coordinator addresses pushed to since they joined

	// The key: nil while the participant awaits one; replaced whole by a
	// ceremony or a dealt share, without a restart.
	keyMu sync.RWMutex
	p     *participant.Participant
	group *protocol.Group
	share protocol.KeyShare
}

// StartParticipant starts a participant from its configuration: it loads
// the group and the sealed key share, opens the nonce store, serves gRPC
// over mutual TLS, joins the gossip cluster and serves metrics.
//
// A participant whose state directory holds no key share yet starts
// awaiting one: it serves the Dkg service (package dkg/dkgnet), through
// which frost-dkg runs a key generation or deals shares, and answers the
// Participant service with UNAVAILABLE until it has a key. It starts
// signing as soon as a ceremony succeeds, without a restart.
func StartParticipant(cfg *ParticipantConfig, log *slog.Logger) (*ParticipantNode, error) {
	if log == nil {
		log = slog.Default()
	}
	log = log.With("node", cfg.Name)
	key, err := cfg.SealKey()
	if err != nil {
		return nil, err
	}
	dir := state.Dir{Path: cfg.StateDir, Key: key}
	var g *protocol.Group
	var ks protocol.KeyShare
	defer clear(ks.Secret[:])
	_, serr := os.Stat(filepath.Join(cfg.StateDir, state.KeyShareFile))
	switch {
	case errors.Is(serr, fs.ErrNotExist):
		// Awaiting a key: a group.json without a share is what a crash
		// between the two saves of an install leaves; the next install
		// overwrites it.
	case serr != nil:
		return nil, fmt.Errorf("state dir: %w", serr)
	default:
		if g, err = dir.LoadGroup(); err != nil {
			return nil, err
		}
		if ks, err = dir.LoadKeyShare(g); err != nil {
			return nil, err
		}
		if ks.ID != cfg.ID {
			return nil, fmt.Errorf("the key share in %s is participant %d's, but the config says id = %d", cfg.StateDir, ks.ID, cfg.ID)
		}
	}
	files := pki.Files(cfg.TLS)
	id, err := files.Identity()
	if err != nil {
		return nil, fmt.Errorf("[tls]: %w", err)
	}
	if id.Role != pki.RoleParticipant || id.ParticipantID != cfg.ID {
		return nil, fmt.Errorf("[tls] cert is %s, not participant %d's: issue one with frostd certs issue --role participant --id %d", id, cfg.ID, cfg.ID)
	}
	gossipKey, err := readGossipKey(cfg.Gossip.KeyFile)
	if err != nil {
		return nil, err
	}

	n := &ParticipantNode{cfg: cfg, log: log, files: files, dir: dir, pushed: map[string]bool{}}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	ok := false
	defer func() {
		if !ok {
			n.Close()
		}
	}()

	if n.store, err = dir.OpenNonceStore(boltstore.KeepTombstones(cfg.Store.KeepTombstones)); err != nil {
		return nil, err
	}
	n.policy = cfg.ParticipantPolicy()
	if g != nil {
		if err := n.use(g, ks); err != nil {
			return nil, err
		}
	}

	reg := prometheus.NewRegistry()
	n.metrics = NewParticipantMetrics(reg)
	tlsConf, err := pki.ServerTLS(files, pki.RoleCoordinator)
	if err != nil {
		return nil, err
	}
	// The group may grow up to dkg.MaxParticipants members through a
	// ceremony, and a ceremony's messages (reveals) can be larger than
	// signing requests.
	limit := max(grpctransport.ParticipantRecvLimit(n.policy, dkg.MaxParticipants), dkgRecvLimit)
	opts := append(grpctransport.ServerOptions(tlsConf, limit),
		serverCreds(tlsConf, log), grpc.ChainUnaryInterceptor(n.observe))
	n.grpc = grpc.NewServer(opts...)
	if err := grpctransport.RegisterParticipantFunc(n.grpc, n.participant, grpctransport.ParticipantOptions{Logger: log}); err != nil {
		return nil, err
	}
	if n.dkg, err = dkgnet.NewParticipant(dkgnet.ParticipantConfig{
		Certificate:  tlsConf.Certificates[0],
		Roots:        tlsConf.ClientCAs,
		Coordinators: cfg.Policy.Coordinators,
		Key:          n.key,
		Install:      n.install,
		Logger:       log,
	}); err != nil {
		return nil, err
	}
	n.dkg.Register(n.grpc)
	if n.lis, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, fmt.Errorf("listen on %s (is another frostd using it? change listen, or --base-port for dev): %w", cfg.Listen, err)
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.grpc.Serve(n.lis); err != nil {
			log.Error("gRPC server stopped", "err", err)
		}
	}()

	if n.http, err = serveMetrics(cfg.Metrics, reg, log, &n.wg); err != nil {
		return nil, err
	}

	mcfg, err := gossipConfig(cfg.Name, cfg.Gossip, gossipKey, log)
	if err != nil {
		return nil, err
	}
	mcfg.Meta = membership.Meta{Role: membership.RoleParticipant, ParticipantID: cfg.ID, GRPCAddr: n.lis.Addr().String()}
	if n.member, err = membership.Start(mcfg, n.onEvent); err != nil {
		return nil, fmt.Errorf("starting gossip: %w", err)
	}
	keepJoined(n.ctx, n.member, cfg.Gossip.Join, log, &n.wg)
	n.wg.Add(1)
	go n.gauges()
	ok = true
	if g != nil {
		log.Info("participant started", "id", cfg.ID, "grpc", n.lis.Addr().String(), "gossip", n.member.LocalAddr(), "group", hex.EncodeToString(g.PublicKey))
	} else {
		log.Info("participant started awaiting a key: run frost-dkg run (or deal) with a coordinator certificate", "id", cfg.ID, "grpc", n.lis.Addr().String(), "gossip", n.member.LocalAddr())
	}
	return n, nil
}

// dkgRecvLimit bounds a Dkg request: a batch of messages that may hold
// reveals of every round-1 package.
const dkgRecvLimit = 64 << 20

// participant returns the signing participant, or nil while awaiting a key.
func (n *ParticipantNode) participant() *participant.Participant {
	n.keyMu.RLock()
	defer n.keyMu.RUnlock()
	return n.p
}

// HasKey reports whether the participant holds a key share.
func (n *ParticipantNode) HasKey() bool { return n.participant() != nil }

// Group returns the participant's group, or nil while it awaits a key.
func (n *ParticipantNode) Group() *protocol.Group {
	n.keyMu.RLock()
	defer n.keyMu.RUnlock()
	return n.group
}

// key gives the Dkg service the current group and share.
func (n *ParticipantNode) key() (*protocol.Group, protocol.KeyShare, bool) {
	n.keyMu.RLock()
	defer n.keyMu.RUnlock()
	return n.group, n.share, n.p != nil
}

// use makes g and ks the key the participant signs with.
func (n *ParticipantNode) use(g *protocol.Group, ks protocol.KeyShare) error {
	p, err := participant.New(participant.Config{Group: g, KeyShare: ks, Store: n.store, Policy: n.policy})
	if err != nil {
		return err
	}
	n.keyMu.Lock()
	clear(n.share.Secret[:])
	n.p, n.group, n.share = p, g, ks
	n.keyMu.Unlock()
	return nil
}

// install saves a key from a ceremony or a dealer, then signs with it.
// A new key is saved group first, then the share; a refresh replaces the
// share atomically, then the group (whose public shares changed).
func (n *ParticipantNode) install(g *protocol.Group, ks protocol.KeyShare, replace bool) error {
	if ks.ID != n.cfg.ID {
		return fmt.Errorf("the new key share is participant %d's, but this is participant %d", ks.ID, n.cfg.ID)
	}
	if _, err := participant.New(participant.Config{Group: g, KeyShare: ks, Store: participant.NewMemoryStore(), Policy: n.policy}); err != nil {
		return fmt.Errorf("the new key share is unusable: %w", err)
	}
	if replace {
		if !n.HasKey() {
			return errors.New("a refresh needs a key share to replace")
		}
		if err := n.dir.ReplaceKeyShare(ks); err != nil {
			return fmt.Errorf("replacing the key share: %w", err)
		}
		if err := n.dir.SaveGroup(g); err != nil {
			return fmt.Errorf("the refreshed key share is saved but %s is not (%w); restore it from another participant's or the coordinator's group.json after the refresh", state.GroupFile, err)
		}
	} else {
		if n.HasKey() {
			return errors.New("this participant already holds a key share")
		}
		if err := n.dir.SaveGroup(g); err != nil {
			return fmt.Errorf("saving the group: %w", err)
		}
		if err := n.dir.SaveKeyShare(ks); err != nil {
			return fmt.Errorf("saving the key share: %w", err)
		}
	}
	if err := n.use(g, ks); err != nil {
		return err
	}
	n.log.Info("signing with a new key share", "group", hex.EncodeToString(g.PublicKey), "refresh", replace)
	// Coordinators already known get commitments now.
	if n.member != nil {
		for _, m := range n.member.Members() {
			if m.Alive {
				n.onEvent(membership.Event{Kind: membership.EventJoin, Member: m})
			}
		}
	}
	return nil
}

// Addr is the gRPC address the participant serves.
func (n *ParticipantNode) Addr() string { return n.lis.Addr().String() }

// observe counts requests and refusals.
func (n *ParticipantNode) observe(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	resp, err := h(ctx, req)
	switch {
	case err != nil:
		n.metrics.Refusals.WithLabelValues(status.Code(err).String()).Inc()
	case strings.HasSuffix(info.FullMethod, "/Sign"):
		n.metrics.Shares.Inc()
	case strings.HasSuffix(info.FullMethod, "/Commit"):
		n.metrics.Commits.Inc()
	}
	return resp, err
}

// onEvent pushes commitments to every coordinator that appears, so that
// its first signatures need one round trip.
func (n *ParticipantNode) onEvent(ev membership.Event) {
	m := ev.Member.Meta
	if m.Role != membership.RoleCoordinator || m.GRPCAddr == "" {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	switch ev.Kind {
	case membership.EventJoin, membership.EventUpdate:
		if n.pushed[m.GRPCAddr] || n.ctx.Err() != nil || !n.HasKey() {
			return
		}
		n.pushed[m.GRPCAddr] = true
		n.wg.Add(1)
		go n.push(m.Name, m.GRPCAddr)
	case membership.EventLeave, membership.EventFailed:
		delete(n.pushed, m.GRPCAddr) // push again when it returns
	}
}

func (n *ParticipantNode) push(coordName, addr string) {
	defer n.wg.Done()
	if n.cfg.Pool.Push <= 0 {
		return
	}
	tlsConf, err := pki.ClientTLS(n.files, pki.RoleCoordinator)
	if err != nil {
		n.log.Error("pushing commitments", "err", err)
		return
	}
	c, err := grpctransport.DialCoordinator(addr, tlsConf)
	if err != nil {
		n.log.Error("pushing commitments", "coordinator", addr, "err", err)
		return
	}
	defer c.Close()
	cs, err := n.store.Unspent()
	if err != nil {
		n.log.Error("listing unspent commitments", "err", err)
		return
	}
	if len(cs) > n.cfg.Pool.Push {
		cs = cs[:n.cfg.Pool.Push]
	}
	if missing := n.cfg.Pool.Push - len(cs); missing > 0 {
		resp, err := n.participant().Commit(coordName, protocol.CommitRequest{Count: missing})
		if err != nil {
			n.log.Warn("making commitments to push", "err", err)
		} else {
			cs = append(cs, resp.Commitments...)
		}
	}
	ctx, cancel := context.WithTimeout(n.ctx, 10*time.Second)
	defer cancel()
	if err := c.PushCommitments(ctx, cs); err != nil {
		n.log.Warn("pushing commitments", "coordinator", addr, "err", err)
		n.mu.Lock()
		delete(n.pushed, addr)
		n.mu.Unlock()
		return
	}
	n.log.Info("pushed commitments", "coordinator", addr, "count", len(cs))
}

func (n *ParticipantNode) gauges() {
	defer n.wg.Done()
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if cs, err := n.store.Unspent(); err == nil {
			n.metrics.Unspent.Set(float64(len(cs)))
		}
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close leaves the gossip cluster, drains gRPC and closes the store.
func (n *ParticipantNode) Close() error {
	n.cancel()
	leaveAndStop(n.log, n.member, n.grpc)
	if n.http != nil {
		n.http.Close()
	}
	n.wg.Wait()
	var err error
	if n.store != nil {
		err = n.store.Close()
	}
	n.log.Info("participant stopped")
	return err
}

// RunParticipant runs a participant until ctx ends.
func RunParticipant(ctx context.Context, cfg *ParticipantConfig, log *slog.Logger) error {
	n, err := StartParticipant(cfg, log)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return n.Close()
}

// leaveAndStop is the first half of every node's shutdown: leave gossip
// (so others see a leave, not a failure), then drain gRPC.
func leaveAndStop(log *slog.Logger, m *membership.Node, s *grpc.Server) {
	if m != nil {
		if err := m.Leave(2 * time.Second); err != nil {
			log.Debug("leaving gossip", "err", err)
		}
		m.Shutdown()
	}
	if s != nil {
		stopGracefully(s, 5*time.Second)
	}
}

func stopGracefully(s *grpc.Server, timeout time.Duration) {
	done := make(chan struct{})
	go func() { s.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		s.Stop()
		<-done
	}
}

func readGossipKey(path string) ([]byte, error) {
	b, err := readSmallFile(path, 256)
	if err != nil {
		return nil, fmt.Errorf("[gossip] key_file: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("[gossip] key_file %s must hold 32 bytes in hex (64 characters)", path)
	}
	return key, nil
}

func gossipConfig(name string, g GossipConfig, key []byte, log *slog.Logger) (membership.Config, error) {
	host, port, err := net.SplitHostPort(g.Bind)
	if err != nil {
		return membership.Config{}, fmt.Errorf("[gossip] bind %q: %w", g.Bind, err)
	}
	var p int
	if _, err := fmt.Sscan(port, &p); err != nil {
		return membership.Config{}, fmt.Errorf("[gossip] bind port %q: %w", port, err)
	}
	profile := membership.ProfileLAN
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		profile = membership.ProfileLocal
	}
	// Join happens in keepJoined, so that a node whose seeds are all down
	// (the first to start, or one restarting alone) still starts.
	return membership.Config{Name: name, BindAddr: host, BindPort: p, SecretKey: key, Logger: log, Profile: profile}, nil
}

// keepJoined joins the seeds now and, whenever this node sees no other
// member, again every few seconds: a node that restarts rejoins the others
// through any seed that is up.
func keepJoined(ctx context.Context, m *membership.Node, seeds []string, log *slog.Logger, wg *sync.WaitGroup) {
	if len(seeds) == 0 {
		return
	}
	try := func() {
		if len(m.Members()) > 1 {
			return
		}
		if err := m.Join(seeds); err != nil {
			log.Debug("no gossip seed answered yet; retrying", "seeds", seeds, "err", err)
		}
	}
	try()
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				try()
			}
		}
	}()
}

func serveMetrics(addr string, reg *prometheus.Registry, log *slog.Logger, wg *sync.WaitGroup) (*http.Server, error) {
	if addr == "" {
		return nil, nil
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listen on %s (is another frostd using it? change metrics, or --base-port for dev): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttpHandler(reg))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	return srv, nil
}
