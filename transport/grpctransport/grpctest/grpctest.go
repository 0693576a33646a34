// Package grpctest starts real frostd clusters for tests: a cluster CA,
// n participants each with its own gRPC server on a loopback port, and a
// coordinator Service that reaches them through grpctransport.Participants
// and serves clients on a loopback port of its own. Every connection is
// mutual TLS with certificates of the cluster's CA, as in production.
//
//	c := grpctest.New(t, 3, 5, grpctest.Options{})
//	client, _ := grpctransport.DialCoordinator(c.CoordinatorAddr, c.ClientTLS(t))
//
// Everything is stopped when the test ends.
package grpctest

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/frostd/frostd/coordinator"
	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/pki"
	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/transport/grpctransport"
)

// CoordinatorName is the name in the cluster's coordinator certificate,
// which participants see as their peer.
const CoordinatorName = "coordinator"

// Options adjust New.
type Options struct {
	// Policy is every participant's policy.
	Policy participant.Policy
	// Service configures the coordinator; its Group is set by New, a
	// zero AttemptTimeout is 20 s, ample for the race detector, and a zero
	// PoolBatch makes pools of 16 refilled below 4, cheaper than the
	// defaults.
	Service coordinator.ServiceConfig
	// Logger receives the servers' logs; nil discards them.
	Logger *slog.Logger
}

// Participant is one running participant.
type Participant struct {
	ID          protocol.ParticipantID
	Participant *participant.Participant
	Files       pki.Files
	Addr        string
	Server      *grpc.Server
}

// Cluster is a running t-of-n cluster.
type Cluster struct {
	CADir        string
	Group        *protocol.Group
	Participants []*Participant // index i is participant i+1

	// The coordinator. RestartCoordinator replaces all but the files and
	// the address.
	CoordinatorFiles pki.Files
	CoordinatorAddr  string
	Transport        *grpctransport.Participants
	Service          *coordinator.Service
	Coordinator      *grpc.Server

	opts  Options
	mu    sync.Mutex
	stops []func()
}

// New deals a t-of-n key and starts the cluster, all members reachable.
func New(tb testing.TB, t, n uint16, opts Options) *Cluster {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	g, shares, err := dkg.DealRandom(t, n)
	if err != nil {
		tb.Fatal(err)
	}
	c := &Cluster{CADir: filepath.Join(tb.TempDir(), "ca"), Group: g, opts: opts}
	tb.Cleanup(c.stopAll)
	if _, err := pki.InitCA(c.CADir); err != nil {
		tb.Fatal(err)
	}
	for _, ks := range shares {
		p, err := participant.New(participant.Config{Group: g, KeyShare: ks, Store: participant.NewMemoryStore(), Policy: opts.Policy})
		if err != nil {
			tb.Fatal(err)
		}
		files := c.Issue(tb, fmt.Sprintf("p%d", ks.ID), pki.RoleParticipant, ks.ID)
		node := &Participant{ID: ks.ID, Participant: p, Files: files}
		c.Participants = append(c.Participants, node)
		c.StartParticipant(tb, ks.ID, "127.0.0.1:0")
	}
	c.CoordinatorFiles = c.Issue(tb, CoordinatorName, pki.RoleCoordinator, 0)
	c.startCoordinator(tb, "127.0.0.1:0")
	return c
}

// Issue makes a certificate of the cluster's CA in a fresh directory.
func (c *Cluster) Issue(tb testing.TB, name string, role pki.Role, id protocol.ParticipantID) pki.Files {
	tb.Helper()
	f, err := pki.Issue(c.CADir, name, role, tb.TempDir(), pki.IssueOptions{ParticipantID: id})
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// ClientTLS returns the TLS configuration of a new client certificate.
func (c *Cluster) ClientTLS(tb testing.TB) *tls.Config {
	tb.Helper()
	return ClientTLS(tb, c.Issue(tb, "client", pki.RoleClient, 0))
}

// ClientTLS returns the client TLS configuration of f.
func ClientTLS(tb testing.TB, f pki.Files) *tls.Config {
	tb.Helper()
	conf, err := pki.ClientTLS(f)
	if err != nil {
		tb.Fatal(err)
	}
	return conf
}

// Listen listens on addr, failing the test if it cannot.
func Listen(tb testing.TB, addr string) net.Listener {
	tb.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	return lis
}

// Serve serves srv on lis until the cluster stops, and returns a function
// that stops it at once.
func (c *Cluster) serve(srv *grpc.Server, lis net.Listener) func() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			srv.Stop()
			<-done
		})
	}
	c.mu.Lock()
	c.stops = append(c.stops, stop)
	c.mu.Unlock()
	return stop
}

// StartParticipant (re)starts participant id's server on addr; the
// coordinator's transport is told the address.
func (c *Cluster) StartParticipant(tb testing.TB, id protocol.ParticipantID, addr string) {
	tb.Helper()
	p := c.Participants[id-1]
	tlsConf, err := pki.ServerTLS(p.Files)
	if err != nil {
		tb.Fatal(err)
	}
	srv := grpc.NewServer(grpctransport.ServerOptions(tlsConf, grpctransport.ParticipantRecvLimit(c.opts.Policy, c.Group.MaxSigners))...)
	if err := grpctransport.RegisterParticipant(srv, p.Participant, grpctransport.ParticipantOptions{Logger: c.opts.Logger}); err != nil {
		tb.Fatal(err)
	}
	lis := Listen(tb, addr)
	p.Server, p.Addr = srv, lis.Addr().String()
	c.serve(srv, lis)
	if c.Transport != nil {
		c.Transport.SetAddress(id, p.Addr)
	}
}

// StopParticipant stops participant id's server at once.
func (c *Cluster) StopParticipant(id protocol.ParticipantID) {
	c.Participants[id-1].Server.Stop()
}

func (c *Cluster) startCoordinator(tb testing.TB, addr string) {
	tb.Helper()
	clientTLS, err := pki.ClientTLS(c.CoordinatorFiles, pki.RoleParticipant)
	if err != nil {
		tb.Fatal(err)
	}
	tr := grpctransport.NewParticipants(clientTLS, grpctransport.ParticipantsOptions{})
	for _, p := range c.Participants {
		tr.SetAddress(p.ID, p.Addr)
	}
	cfg := c.opts.Service
	cfg.Group = c.Group
	if cfg.AttemptTimeout == 0 {
		// The participants of an in-process cluster take turns in the
		// curve arithmetic (protocol.Serialize), which the race detector
		// slows about tenfold: give rounds time enough for tests that sign
		// concurrently. It only bounds how long a silent member is waited
		// for; no test waits for it to pass.
		cfg.AttemptTimeout = 20 * time.Second
	}
	if cfg.PoolBatch == 0 {
		// Small pools: every nonce costs curve arithmetic that the
		// whole in-process cluster takes turns at.
		cfg.PoolLow, cfg.PoolBatch = 4, 16
	}
	if cfg.Logger == nil {
		cfg.Logger = c.opts.Logger
	}
	svc, err := coordinator.NewService(cfg, tr)
	if err != nil {
		tb.Fatal(err)
	}
	svc.MarkAllReachable()
	serverTLS, err := pki.ServerTLS(c.CoordinatorFiles)
	if err != nil {
		tb.Fatal(err)
	}
	srv := grpc.NewServer(grpctransport.ServerOptions(serverTLS, grpctransport.CoordinatorRecvLimit(cfg.Config, 0))...)
	if err := grpctransport.RegisterCoordinator(srv, svc, grpctransport.CoordinatorOptions{Group: c.Group, Logger: c.opts.Logger}); err != nil {
		tb.Fatal(err)
	}
	lis := Listen(tb, addr)
	c.Transport, c.Service, c.Coordinator, c.CoordinatorAddr = tr, svc, srv, lis.Addr().String()
	stopServer := c.serve(srv, lis)
	c.mu.Lock()
	// Stop the server before the service it calls, and the service before
	// the transport it uses: stops run last first.
	c.stops = append(c.stops[:len(c.stops)-1], func() { tr.Close() }, func() { svc.Close() }, stopServer)
	c.mu.Unlock()
}

// StopCoordinator stops the coordinator's server, service and transport.
func (c *Cluster) StopCoordinator() {
	c.Coordinator.Stop()
	c.Service.Close()
	c.Transport.Close()
}

// RestartCoordinator stops the coordinator and starts a new one, with
// empty commitment pools, on the same address.
func (c *Cluster) RestartCoordinator(tb testing.TB) {
	tb.Helper()
	c.StopCoordinator()
	c.startCoordinator(tb, c.CoordinatorAddr)
}

func (c *Cluster) stopAll() {
	c.mu.Lock()
	stops := c.stops
	c.stops = nil
	c.mu.Unlock()
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
}
