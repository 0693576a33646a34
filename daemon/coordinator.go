package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/frostd/frostd/coordinator"
	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/membership"
	"github.com/frostd/frostd/pki"
	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/state"
	"github.com/frostd/frostd/transport/grpctransport"
)

// CoordinatorNode is a running coordinator: the signing service, its gRPC
// server for clients and participants, membership, and metrics.
type CoordinatorNode struct {
	cfg     *CoordinatorConfig
	log     *slog.Logger
	group   *protocol.Group
	svc     *coordinator.Service
	tr      *grpctransport.Participants
	grpc    *grpc.Server
	lis     net.Listener
	member  *membership.Node
	metrics *CoordinatorMetrics
	http    *http.Server

	reach membership.Reachability

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// StartCoordinator starts a coordinator from its configuration.
func StartCoordinator(cfg *CoordinatorConfig, log *slog.Logger) (*CoordinatorNode, error) {
	if log == nil {
		log = slog.Default()
	}
	log = log.With("node", cfg.Name)
	g, err := state.Dir{Path: cfg.StateDir}.LoadGroup()
	if err != nil {
		return nil, err
	}
	files := pki.Files(cfg.TLS)
	id, err := files.Identity()
	if err != nil {
		return nil, fmt.Errorf("[tls]: %w", err)
	}
	if id.Role != pki.RoleCoordinator {
		return nil, fmt.Errorf("[tls] cert is %s, not a coordinator's: issue one with frostd certs issue --role coordinator", id)
	}
	gossipKey, err := readGossipKey(cfg.Gossip.KeyFile)
	if err != nil {
		return nil, err
	}
	clientTLS, err := pki.ClientTLS(files, pki.RoleParticipant)
	if err != nil {
		return nil, err
	}

	n := &CoordinatorNode{cfg: cfg, log: log, group: g}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	ok := false
	defer func() {
		if !ok {
			n.Close()
		}
	}()

	reg := prometheus.NewRegistry()
	n.metrics = NewCoordinatorMetrics(reg)
	n.tr = grpctransport.NewParticipants(clientTLS, grpctransport.ParticipantsOptions{})
	ccfg := coordinator.Config{Group: g, AttemptTimeout: cfg.AttemptTimeout.Duration, PoolLow: cfg.Pool.Low, PoolBatch: cfg.Pool.Batch}
	n.svc, err = coordinator.NewService(coordinator.ServiceConfig{
		Config:      ccfg,
		Logger:      log,
		MaxInFlight: cfg.MaxInFlight,
		OnResult:    n.metrics.Observe,
	}, n.tr)
	if err != nil {
		return nil, err
	}
	n.reach = membership.Reachability{
		OnAlive: func(id uint16, addr string) {
			if _, member := g.Member(id); !member {
				log.Warn("gossip names a participant id outside the group; ignored", "id", id, "addr", addr)
				return
			}
			n.tr.SetAddress(id, addr)
			n.svc.SetReachable(id, true)
			log.Info("participant alive", "id", id, "addr", addr)
		},
		OnDead: func(id uint16) {
			n.svc.SetReachable(id, false)
			n.tr.RemoveAddress(id)
			log.Warn("participant gone", "id", id)
		},
	}

	tlsConf, err := pki.ServerTLS(files, pki.RoleClient, pki.RoleParticipant)
	if err != nil {
		return nil, err
	}
	n.grpc = grpc.NewServer(append(grpctransport.ServerOptions(tlsConf, grpctransport.CoordinatorRecvLimit(n.svc.Config(), 0)),
		serverCreds(tlsConf, log))...)
	if err := grpctransport.RegisterCoordinator(n.grpc, n.svc, grpctransport.CoordinatorOptions{Group: g, Logger: log}); err != nil {
		return nil, err
	}
	if n.lis, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, fmt.Errorf("listen on %s (is another frostd using it? change listen, or --base-port for dev): %w", cfg.Listen, err)
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.grpc.Serve(n.lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
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
	mcfg.Meta = membership.Meta{Role: membership.RoleCoordinator, GRPCAddr: n.lis.Addr().String()}
	if n.member, err = membership.Start(mcfg, n.reach.Observe); err != nil {
		return nil, fmt.Errorf("starting gossip: %w", err)
	}
	keepJoined(n.ctx, n.member, cfg.Gossip.Join, log, &n.wg)
	n.wg.Add(2)
	go n.gauges()
	go n.watchGroup()
	ok = true
	log.Info("coordinator started", "grpc", n.lis.Addr().String(), "gossip", n.member.LocalAddr(),
		"group", id52.Encode(g.PublicKey), "threshold", g.Threshold, "participants", g.MaxSigners)
	return n, nil
}

// Addr is the gRPC address the coordinator serves.
func (n *CoordinatorNode) Addr() string { return n.lis.Addr().String() }

// GossipAddr is the address other nodes join.
func (n *CoordinatorNode) GossipAddr() string { return n.member.LocalAddr() }

// Group is the group the coordinator signs for.
func (n *CoordinatorNode) Group() *protocol.Group { return n.group }

// Service is the signing service, a signer.Signer for the group key.
func (n *CoordinatorNode) Service() *coordinator.Service { return n.svc }

func (n *CoordinatorNode) gauges() {
	defer n.wg.Done()
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		n.metrics.Snapshot(n.svc.Stats())
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// watchGroup installs a refreshed group.json (frost-dkg refresh
// --group-out writes it) without a restart: stale public shares would make
// the coordinator blame honest participants when it checks shares.
func (n *CoordinatorNode) watchGroup() {
	defer n.wg.Done()
	dir := state.Dir{Path: n.cfg.StateDir}
	path := filepath.Join(n.cfg.StateDir, state.GroupFile)
	last, _ := os.Stat(path)
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		fi, err := os.Stat(path)
		if err != nil || (last != nil && fi.ModTime().Equal(last.ModTime()) && fi.Size() == last.Size()) {
			continue
		}
		last = fi
		g, err := dir.LoadGroup()
		if err == nil && g.Equal(n.svc.Group()) {
			continue
		}
		if err == nil {
			err = n.svc.SetGroup(g)
		}
		if err != nil {
			n.log.Error("group.json changed but cannot be installed; still signing with the old public shares", "err", err)
			continue
		}
		n.log.Info("installed refreshed public key shares", "group", id52.Encode(g.PublicKey))
	}
}

// Close leaves gossip, fails requests in flight with ErrUnavailable, and
// stops the servers.
func (n *CoordinatorNode) Close() error {
	n.cancel()
	leaveAndStop(n.log, n.member, n.grpc)
	if n.svc != nil {
		n.svc.Close()
	}
	if n.tr != nil {
		n.tr.Close()
	}
	if n.http != nil {
		n.http.Close()
	}
	n.wg.Wait()
	n.log.Info("coordinator stopped")
	return nil
}

// RunCoordinator runs a coordinator until ctx ends.
func RunCoordinator(ctx context.Context, cfg *CoordinatorConfig, log *slog.Logger) error {
	n, err := StartCoordinator(cfg, log)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return n.Close()
}
