// Package testcluster builds in-process FROST clusters for tests,
// benchmarks and simulations: n participants with in-memory nonce stores
// behind a MemoryTransport, and a coordinator Service.
package testcluster

import (
	"testing"

	"github.com/frostd/frostd/coordinator"
	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/protocol"
)

// Cluster is an in-process signing group.
type Cluster struct {
	Group        *protocol.Group
	Shares       []protocol.KeyShare
	Participants []*participant.Participant
	Transport    *coordinator.MemoryTransport
	Service      *coordinator.Service
}

// Options adjust New.
type Options struct {
	Seed    []byte // deal this Ed25519 seed instead of a random key
	Service coordinator.ServiceConfig
	Policy  participant.Policy
	// NewStore opens participant id's nonce store; default a MemoryStore.
	NewStore func(tb testing.TB, id protocol.ParticipantID) participant.NonceStore
}

// New deals a t-of-n key and starts a cluster, all members reachable. The
// Service is closed when the test ends.
func New(tb testing.TB, t, n uint16, opts Options) *Cluster {
	tb.Helper()
	var (
		g      *protocol.Group
		shares []protocol.KeyShare
		err    error
	)
	if opts.Seed != nil {
		g, shares, err = dkg.Deal(opts.Seed, t, n)
	} else {
		g, shares, err = dkg.DealRandom(t, n)
	}
	if err != nil {
		tb.Fatal(err)
	}
	c := &Cluster{Group: g, Shares: shares}
	for _, ks := range shares {
		var store participant.NonceStore = participant.NewMemoryStore()
		if opts.NewStore != nil {
			store = opts.NewStore(tb, ks.ID)
		}
		p, err := participant.New(participant.Config{Group: g, KeyShare: ks, Store: store, Policy: opts.Policy})
		if err != nil {
			tb.Fatal(err)
		}
		c.Participants = append(c.Participants, p)
	}
	c.Transport = coordinator.NewMemoryTransport(c.Participants...)
	cfg := opts.Service
	cfg.Group = g
	c.Service, err = coordinator.NewService(cfg, c.Transport)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Service.Close() })
	c.Service.MarkAllReachable()
	return c
}
