package coordinator_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/frostd/frostd/coordinator"
	"github.com/frostd/frostd/internal/testcluster"
	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/signer"
	"github.com/frostd/frostd/signer/signertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// underLoad gives rounds time enough for many concurrent requests under
// the race detector, which slows the curve arithmetic about tenfold; these
// tests check correctness under concurrency, not latency.
var underLoad = testcluster.Options{Service: coordinator.ServiceConfig{Config: coordinator.Config{AttemptTimeout: 20 * time.Second}}}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func TestEndToEnd(t *testing.T) {
	for _, tc := range []struct{ t, n uint16 }{{2, 3}, {3, 5}, {7, 10}} {
		t.Run(fmt.Sprintf("%d-of-%d", tc.t, tc.n), func(t *testing.T) {
			c := testcluster.New(t, tc.t, tc.n, underLoad)
			for i := range 20 {
				msg := fmt.Appendf(nil, "message %d", i)
				sig, err := c.Service.Sign(ctx(t), msg)
				if err != nil {
					t.Fatalf("Sign: %v", err)
				}
				if !ed25519.Verify(c.Group.PublicKey, msg, sig) {
					t.Fatalf("signature %d does not verify against the group key", i)
				}
			}
		})
	}
}

func TestMigratedKeyKeepsPublicKey(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	orig := ed25519.NewKeyFromSeed(seed)
	c := testcluster.New(t, 3, 5, testcluster.Options{Seed: seed, Service: underLoad.Service})
	if !bytes.Equal(c.Group.PublicKey, orig.Public().(ed25519.PublicKey)) {
		t.Fatalf("group key %x differs from the migrated key %x", c.Group.PublicKey, orig.Public())
	}
	msg := []byte("same identity, no single holder")
	sig, err := c.Service.Sign(ctx(t), msg)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(orig.Public().(ed25519.PublicKey), msg, sig) {
		t.Fatal("threshold signature does not verify against the original public key")
	}
}

func TestConformance(t *testing.T) {
	signertest.Run(t, func(t *testing.T) signer.Signer {
		return testcluster.New(t, 3, 5, underLoad).Service
	})
}

func TestBatch(t *testing.T) {
	var results []coordinator.Result
	var mu sync.Mutex
	c := testcluster.New(t, 3, 5, testcluster.Options{Service: coordinator.ServiceConfig{Config: underLoad.Service.Config, OnResult: func(r coordinator.Result, _ time.Duration) {
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
	}}})
	msgs := make([][]byte, 100)
	for i := range msgs {
		msgs[i] = fmt.Appendf(nil, "batch item %d", i)
	}
	sigs, err := c.Service.SignBatch(ctx(t), msgs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range msgs {
		if !ed25519.Verify(c.Group.PublicKey, msgs[i], sigs[i]) {
			t.Fatalf("batch signature %d does not verify", i)
		}
	}
	if len(results) != 1 || results[0].Attempts != 1 {
		t.Fatalf("batch took %+v, want one request in one attempt", results)
	}
}

// resultLog records the coordinator's results.
type resultLog struct {
	mu  sync.Mutex
	all []coordinator.Result
}

func (l *resultLog) add(r coordinator.Result, _ time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, r)
}

func (l *resultLog) last(t *testing.T) coordinator.Result {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.all) == 0 {
		t.Fatal("no result recorded")
	}
	return l.all[len(l.all)-1]
}

func flip(s *protocol.SignatureShare) { s.Share[0] ^= 1 }

func TestCheaterIsNamedAndAvoided(t *testing.T) {
	var log resultLog
	c := testcluster.New(t, 3, 5, testcluster.Options{Service: coordinator.ServiceConfig{Config: underLoad.Service.Config, OnResult: log.add}})
	// The first quorum is the least recently used members: 1, 2, 3.
	c.Transport.SetFault(2, coordinator.Fault{TamperShare: flip})
	msg := []byte("one cheater")
	sig, err := c.Service.Sign(ctx(t), msg)
	if err != nil {
		t.Fatalf("Sign with one cheater: %v", err)
	}
	if !ed25519.Verify(c.Group.PublicKey, msg, sig) {
		t.Fatal("signature does not verify")
	}
	r := log.last(t)
	if r.Cheaters == nil || fmt.Sprint(r.Cheaters.IDs) != "[2]" {
		t.Fatalf("cheaters reported %v, want [2]", r.Cheaters)
	}
	if r.Attempts != 2 {
		t.Fatalf("took %d attempts, want 2", r.Attempts)
	}
	// Later requests never ask the cheater.
	for range 5 {
		if _, err := c.Service.Sign(ctx(t), msg); err != nil {
			t.Fatal(err)
		}
		if r := log.last(t); r.Attempts != 1 || r.Cheaters != nil {
			t.Fatalf("after exclusion: %d attempts, cheaters %v", r.Attempts, r.Cheaters)
		}
	}
	if got := fmt.Sprint(c.Service.Stats().Cheaters); got != "[2]" {
		t.Fatalf("Stats().Cheaters = %s, want [2]", got)
	}
}

func TestTwoCheatersInOneQuorumBothNamed(t *testing.T) {
	var log resultLog
	c := testcluster.New(t, 3, 5, testcluster.Options{Service: coordinator.ServiceConfig{Config: underLoad.Service.Config, OnResult: log.add}})
	c.Transport.SetFault(1, coordinator.Fault{TamperShare: flip})
	c.Transport.SetFault(3, coordinator.Fault{TamperShare: func(s *protocol.SignatureShare) { s.Share = [32]byte{1} }})
	msg := []byte("two cheaters")
	sig, err := c.Service.Sign(ctx(t), msg)
	if err != nil {
		t.Fatalf("Sign with two cheaters: %v", err)
	}
	if !ed25519.Verify(c.Group.PublicKey, msg, sig) {
		t.Fatal("signature does not verify")
	}
	r := log.last(t)
	if r.Cheaters == nil || fmt.Sprint(r.Cheaters.IDs) != "[1 3]" {
		t.Fatalf("cheaters reported %v, want [1 3]", r.Cheaters)
	}
	if r.Attempts != 2 {
		t.Fatalf("took %d attempts, want 2 (both cheaters caught in the first)", r.Attempts)
	}
}

func TestTooManyCheatersFails(t *testing.T) {
	c := testcluster.New(t, 3, 5, underLoad)
	for _, id := range []protocol.ParticipantID{1, 2, 3} {
		c.Transport.SetFault(id, coordinator.Fault{TamperShare: flip})
	}
	_, err := c.Service.Sign(ctx(t), []byte("x"))
	var ce *coordinator.CheatersError
	if !errors.Is(err, signer.ErrUnavailable) || !errors.As(err, &ce) {
		t.Fatalf("got %v, want ErrUnavailable naming the cheaters", err)
	}
	if fmt.Sprint(ce.IDs) != "[1 2 3]" {
		t.Fatalf("cheaters %v, want [1 2 3]", ce.IDs)
	}
}

func TestSilentParticipant(t *testing.T) {
	var log resultLog
	c := testcluster.New(t, 3, 5, testcluster.Options{Service: coordinator.ServiceConfig{
		Config:   coordinator.Config{AttemptTimeout: 3 * time.Second},
		OnResult: log.add,
	}})
	if _, err := c.Service.Sign(ctx(t), []byte("fill the pools")); err != nil {
		t.Fatal(err)
	}
	c.Transport.SetFault(1, coordinator.Fault{Silent: true})
	for i := range 5 {
		msg := fmt.Appendf(nil, "despite silence %d", i)
		sig, err := c.Service.Sign(ctx(t), msg)
		if err != nil {
			t.Fatalf("Sign %d with a silent participant: %v", i, err)
		}
		if !ed25519.Verify(c.Group.PublicKey, msg, sig) {
			t.Fatal("signature does not verify")
		}
		// One silent member costs at most one attempt; the bound n-t+1
		// leaves room for a healthy member that is slow under -race.
		if r := log.last(t); r.Attempts > 3 {
			t.Fatalf("request %d took %d attempts, want at most n-t+1 = 3", i, r.Attempts)
		}
	}
}

// countingTransport counts calls, to show a request failed without asking anyone.
type countingTransport struct {
	coordinator.Transport
	calls atomic.Int64
}

func (c *countingTransport) Commit(ctx context.Context, to protocol.ParticipantID, req protocol.CommitRequest) (protocol.CommitResponse, error) {
	c.calls.Add(1)
	return c.Transport.Commit(ctx, to, req)
}

func (c *countingTransport) Sign(ctx context.Context, to protocol.ParticipantID, req protocol.SignRequest) (protocol.SignResponse, error) {
	c.calls.Add(1)
	return c.Transport.Sign(ctx, to, req)
}

func TestTooFewReachableFailsFast(t *testing.T) {
	c := testcluster.New(t, 3, 5, testcluster.Options{})
	ct := &countingTransport{Transport: c.Transport}
	svc, err := coordinator.NewService(coordinator.ServiceConfig{Config: coordinator.Config{Group: c.Group}}, ct)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	svc.SetReachable(1, true)
	svc.SetReachable(2, true) // t-1 = 2 reachable
	before := ct.calls.Load()
	_, err = svc.Sign(ctx(t), []byte("not enough"))
	if !errors.Is(err, signer.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
	// Pool refills may be in flight; a sign round never started.
	_ = before
	if svc.Stats().Pending != 0 {
		t.Fatal("request still pending after failing")
	}
}

func TestDeadParticipantsFailWithinBoundedAttempts(t *testing.T) {
	var log resultLog
	c := testcluster.New(t, 3, 5, testcluster.Options{Service: coordinator.ServiceConfig{
		Config:   coordinator.Config{AttemptTimeout: 100 * time.Millisecond},
		OnResult: log.add,
	}})
	// Membership still believes they are alive, but three never answer.
	for _, id := range []protocol.ParticipantID{1, 2, 3} {
		c.Transport.SetFault(id, coordinator.Fault{Silent: true})
	}
	_, err := c.Service.Sign(ctx(t), []byte("too few answer"))
	if !errors.Is(err, signer.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
	if r := log.last(t); r.Attempts > 3 {
		t.Fatalf("gave up after %d attempts, want at most n-t+1 = 3", r.Attempts)
	}
}

func TestParticipantRestartWithEmptyStore(t *testing.T) {
	c := testcluster.New(t, 2, 2, underLoad)
	if _, err := c.Service.Sign(ctx(t), []byte("warm the pools")); err != nil {
		t.Fatal(err)
	}
	// Participant 1 restarts with an empty store: the coordinator's pooled
	// commitments for it are now unknown to it.
	p := c.Participants[0]
	fresh := mustParticipant(t, c.Group, c.Shares[0])
	c.Transport.SetParticipant(p.ID(), fresh)
	msg := []byte("after restart")
	sig, err := c.Service.Sign(ctx(t), msg)
	if err == nil {
		if !ed25519.Verify(c.Group.PublicKey, msg, sig) {
			t.Fatal("signature does not verify")
		}
		return
	}
	// With t = n there is no other quorum: the first request may fail,
	// naming the stale commitment; the next one uses fresh commitments.
	if !errors.Is(err, protocol.ErrUnknownCommitment) {
		t.Fatalf("got %v, want an unknown-commitment failure", err)
	}
	sig, err = c.Service.Sign(ctx(t), msg)
	if err != nil {
		t.Fatalf("second request after restart: %v", err)
	}
	if !ed25519.Verify(c.Group.PublicKey, msg, sig) {
		t.Fatal("signature does not verify")
	}
}

func TestConcurrentRequests(t *testing.T) {
	c := testcluster.New(t, 3, 5, underLoad)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := fmt.Appendf(nil, "concurrent %d", i)
			sig, err := c.Service.Sign(ctx(t), msg)
			if err == nil && !ed25519.Verify(c.Group.PublicKey, msg, sig) {
				err = errors.New("bad signature")
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
