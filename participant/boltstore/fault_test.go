package boltstore_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/participant/boltstore"
	"github.com/frostd/frostd/protocol"
)

// faultyFile is a slots file whose writes and syncs fail on demand, like a
// full or failing disk.
type faultyFile struct {
	boltstore.SlotFile
	mu                    sync.Mutex
	failWrites, failSyncs bool
}

var errNoSpace = fmt.Errorf("simulated: %w", syscall.ENOSPC)

func (f *faultyFile) set(writes, syncs bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failWrites, f.failSyncs = writes, syncs
}

func (f *faultyFile) WriteAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	fail := f.failWrites
	f.mu.Unlock()
	if fail {
		return 0, errNoSpace
	}
	return f.SlotFile.WriteAt(p, off)
}

func (f *faultyFile) Sync() error {
	f.mu.Lock()
	fail := f.failSyncs
	f.mu.Unlock()
	if fail {
		return errNoSpace
	}
	return f.SlotFile.Sync()
}

func openFaulty(t *testing.T, path string) (*boltstore.Store, *faultyFile) {
	t.Helper()
	var ff *faultyFile
	s := mustOpen(t, path, testKey, boltstore.WithSlotFile(func(f boltstore.SlotFile) boltstore.SlotFile {
		ff = &faultyFile{SlotFile: f}
		return ff
	}))
	return s, ff
}

// TestPutWriteFailure: a Put whose secrets cannot be made durable stores
// nothing, and its ids remain free.
func TestPutWriteFailure(t *testing.T) {
	for name, fault := range map[string][2]bool{"write": {true, false}, "sync": {false, true}} {
		t.Run(name, func(t *testing.T) {
			path := storePath(t)
			s, ff := openFaulty(t, path)
			defer s.Close()
			ns := nonces(3)
			ff.set(fault[0], fault[1])
			if err := s.Put(ns); !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Put on a full disk: %v; want the disk's error", err)
			}
			for _, n := range ns {
				if _, err := s.Lookup(n.Commitment.ID); !errors.Is(err, protocol.ErrUnknownCommitment) {
					t.Fatalf("Lookup after a failed Put: %v", err)
				}
			}
			ff.set(false, false)
			if err := s.Put(ns); err != nil {
				t.Fatalf("Put once the disk is back: %v", err)
			}
			got, err := s.Spend([]participant.Spend{spend(ns[2])})
			if err != nil || got[0] != ns[2] {
				t.Fatalf("Spend: %v", err)
			}
		})
	}
}

// TestEraseFailure: the spent marks are committed but the slots cannot be
// zeroed. No secret is released, the store refuses writes until the
// erasure succeeds, and the nonces stay spent.
func TestEraseFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nonces.db")
	s, ff := openFaulty(t, path)
	ns := nonces(3)
	if err := s.Put(ns); err != nil {
		t.Fatal(err)
	}
	tr := traces(t, s, ns[0])
	ff.set(true, false)
	got, err := s.Spend([]participant.Spend{spend(ns[0])})
	if got != nil || !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, protocol.ErrInternal) || !strings.Contains(err.Error(), "not released") {
		t.Fatalf("Spend whose erasure fails = %v, %v; want no nonces and an internal error saying why", got, err)
	}
	if _, err := s.Lookup(ns[0].Commitment.ID); !errors.Is(err, protocol.ErrNonceSpent) {
		t.Fatalf("Lookup: %v; the nonce must be spent", err)
	}
	// While the secret is on disk, the store writes nothing.
	if _, err := s.Spend([]participant.Spend{spend(ns[1])}); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Spend while an erasure is pending: %v; want a refusal", err)
	}
	if err := s.Put(nonces(1)); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Put while an erasure is pending: %v; want a refusal", err)
	}
	if _, err := s.Lookup(ns[1].Commitment.ID); err != nil {
		t.Fatalf("the refused Spend spent something: %v", err)
	}
	wantOnDisk(t, dir, sealedTraces(tr), true)

	// The disk recovers: the next write completes the erasure first.
	ff.set(false, false)
	got, err = s.Spend([]participant.Spend{spend(ns[1])})
	if err != nil || got[0] != ns[1] {
		t.Fatalf("Spend once the disk is back: %v", err)
	}
	wantOnDisk(t, dir, tr, false)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, path, testKey)
	defer s.Close()
	if _, err := s.Spend([]participant.Spend{spend(ns[0])}); !errors.Is(err, protocol.ErrNonceSpent) {
		t.Fatalf("Spend after restart: %v; want ErrNonceSpent", err)
	}
}

// TestEraseFailureThenClose: the erasure still fails at Close; Open does it.
func TestEraseFailureThenClose(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nonces.db")
	s, ff := openFaulty(t, path)
	ns := nonces(2)
	if err := s.Put(ns); err != nil {
		t.Fatal(err)
	}
	tr := traces(t, s, ns[0])
	ff.set(false, true)
	if _, err := s.Spend([]participant.Spend{spend(ns[0])}); err == nil {
		t.Fatal("Spend succeeded though the erasure could not be synced")
	}
	if err := s.Close(); err == nil || !strings.Contains(err.Error(), "next Open erases them") {
		t.Fatalf("Close with a pending erasure: %v; want an error saying so", err)
	}
	s = mustOpen(t, path, testKey)
	defer s.Close()
	wantOnDisk(t, dir, tr, false)
	if _, err := s.Lookup(ns[0].Commitment.ID); !errors.Is(err, protocol.ErrNonceSpent) {
		t.Fatalf("Lookup: %v", err)
	}
}

// TestDatabaseFull: the bbolt file cannot grow, so a Spend's commit fails.
// The failed Spend returns nothing, and no nonce is ever returned twice,
// before or after the store is reopened without the limit.
func TestDatabaseFull(t *testing.T) {
	path := storePath(t)
	s := mustOpen(t, path, testKey)
	ns := nonces(400)
	if err := s.Put(ns); err != nil {
		t.Fatal(err)
	}
	s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, path, testKey, boltstore.WithBoltOptions(func(o *bbolt.Options) { o.MaxSize = int(fi.Size()) }))

	returned := map[uint64]bool{}
	failed := -1
	for i := 0; i+8 <= len(ns); i += 8 {
		batch := make([]participant.Spend, 8)
		for j := range batch {
			batch[j] = spend(ns[i+j])
		}
		got, err := s.Spend(batch)
		if err != nil {
			if got != nil || !errors.Is(err, protocol.ErrInternal) || !errors.Is(err, berrors.ErrMaxSizeReached) {
				t.Fatalf("Spend on a full database = %d nonces, %v", len(got), err)
			}
			failed = i
			break
		}
		for _, n := range got {
			returned[n.Commitment.ID] = true
		}
	}
	if failed < 0 {
		t.Fatal("the database never filled up: the test tests nothing")
	}
	s.Close()

	s = mustOpen(t, path, testKey)
	defer s.Close()
	var rest []participant.Spend
	var restNonces []participant.Nonce
	for _, n := range ns {
		if returned[n.Commitment.ID] {
			if _, err := s.Spend([]participant.Spend{spend(n)}); !errors.Is(err, protocol.ErrNonceSpent) {
				t.Fatalf("commitment %d, returned before the failure: %v; want ErrNonceSpent", n.Commitment.ID, err)
			}
			continue
		}
		rest, restNonces = append(rest, spend(n)), append(restNonces, n)
	}
	// The failed commit (refused before it wrote a page) left the nonces it
	// did not return usable, once.
	got, err := s.Spend(rest)
	if err != nil {
		t.Fatalf("the nonces never returned cannot be spent after the failure: %v", err)
	}
	for i := range got {
		if got[i] != restNonces[i] {
			t.Fatalf("commitment %d: wrong secrets", restNonces[i].Commitment.ID)
		}
	}
	t.Logf("the database filled up after %d spends", failed)
}

// TestDamagedSlots: a truncated slots file fails Open clearly; a damaged
// record fails its Spend and spends nothing.
func TestDamagedSlots(t *testing.T) {
	path := storePath(t)
	s := mustOpen(t, path, testKey)
	ns := nonces(3)
	if err := s.Put(ns); err != nil {
		t.Fatal(err)
	}
	s.Close()

	slots, err := os.ReadFile(path + ".slots")
	if err != nil {
		t.Fatal(err)
	}
	damaged := append([]byte(nil), slots...)
	for i := range len(damaged) / boltstore.SlotSize {
		damaged[i*boltstore.SlotSize+40] ^= 1 // inside every ciphertext
	}
	if err := os.WriteFile(path+".slots", damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, path, testKey)
	got, err := s.Spend([]participant.Spend{spend(ns[0]), spend(ns[1])})
	if got != nil || err == nil || errors.Is(err, protocol.ErrNonceSpent) || !strings.Contains(err.Error(), "does not decrypt") {
		t.Fatalf("Spend of damaged records = %v, %v; want an internal error", got, err)
	}
	if _, err := s.Lookup(ns[0].Commitment.ID); err != nil {
		t.Fatalf("a failed Spend spent the nonce: %v", err)
	}
	s.Close()

	if err := os.WriteFile(path+".slots", slots[:boltstore.SlotSize], 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = boltstore.Open(path, testKey)
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("Open with a truncated slots file: %v", err)
	}
}
