package storetest_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/participant/storetest"
	"github.com/frostd/frostd/protocol"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestMemoryStore runs the suite on the in-memory store, which does not
// survive a restart: its restart checks are skipped.
func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) (participant.NonceStore, func() participant.NonceStore) {
		return participant.NewMemoryStore(), nil
	})
}

// brokenEnv names the broken store TestBrokenStore runs the suite on, in a
// child process started by TestSuiteCatchesBrokenStores.
const brokenEnv = "STORETEST_BROKEN_STORE"

// TestSuiteCatchesBrokenStores checks that the suite fails stores that break
// the promise in typical ways. Each runs in a child test process, since a
// failing subtest cannot be observed from inside one.
func TestSuiteCatchesBrokenStores(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip("in the child process")
	}
	for _, kind := range []string{"reuse", "partial", "wrong-error", "forget-session"} {
		t.Run(kind, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenStore$", "-test.count=1", "-rapid.nofailfile", "-rapid.shrinktime=2s")
			cmd.Env = append(os.Environ(), brokenEnv+"="+kind)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("the suite passed a store that does %q (err %v):\n%s", kind, err, out)
			}
			if !strings.Contains(string(out), "--- FAIL: TestBrokenStore") {
				t.Fatalf("the child failed, but not in the suite:\n%s", out)
			}
		})
	}
}

// TestBrokenStore runs the suite on a broken store when asked to by
// TestSuiteCatchesBrokenStores.
func TestBrokenStore(t *testing.T) {
	kind := os.Getenv(brokenEnv)
	if kind == "" {
		t.Skip("runs only as a child of TestSuiteCatchesBrokenStores")
	}
	storetest.Run(t, func(*testing.T) (participant.NonceStore, func() participant.NonceStore) {
		return &broken{MemoryStore: participant.NewMemoryStore(), kind: kind, copies: map[uint64]participant.Nonce{}}, nil
	})
}

// broken is a MemoryStore with one bug.
type broken struct {
	*participant.MemoryStore
	kind   string
	mu     sync.Mutex
	copies map[uint64]participant.Nonce
}

func (b *broken) Put(ns []participant.Nonce) error {
	if err := b.MemoryStore.Put(ns); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, n := range ns {
		b.copies[n.Commitment.ID] = n
	}
	return nil
}

func (b *broken) Spend(sp []participant.Spend) ([]participant.Nonce, error) {
	switch b.kind {
	case "reuse": // a spent nonce comes back: the bug the system exists to prevent
		got, err := b.MemoryStore.Spend(sp)
		if errors.Is(err, protocol.ErrNonceSpent) && len(sp) == 1 {
			b.mu.Lock()
			defer b.mu.Unlock()
			if n, ok := b.copies[sp[0].CommitmentID]; ok {
				return []participant.Nonce{n}, nil
			}
		}
		return got, err
	case "partial": // spends item by item, keeping what went through
		var out []participant.Nonce
		for _, s := range sp {
			got, err := b.MemoryStore.Spend([]participant.Spend{s})
			if err != nil {
				return nil, err
			}
			out = append(out, got...)
		}
		return out, nil
	case "wrong-error": // loses the sentinel
		got, err := b.MemoryStore.Spend(sp)
		if err != nil {
			return nil, fmt.Errorf("spend failed: %v", err)
		}
		return got, nil
	case "forget-session": // never records sessions
		got, err := b.MemoryStore.Spend(sp)
		if errors.Is(err, protocol.ErrSessionReplayed) {
			fresh := make([]participant.Spend, len(sp))
			for i, s := range sp {
				fresh[i] = s
				fresh[i].Session[0] ^= 0xff
			}
			return b.MemoryStore.Spend(fresh)
		}
		return got, err
	}
	panic("unknown broken store " + b.kind)
}
