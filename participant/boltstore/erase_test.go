package boltstore_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/participant/boltstore"
	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/sealed"
)

// diskBytes returns the raw content of every file under dir.
func diskBytes(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		all = append(all, b...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// traces lists what of a nonce must not survive its spend on disk: the
// secrets in plaintext and the sealed record (and halves of each, in case a
// partial overwrite left part of one).
func traces(t *testing.T, s *boltstore.Store, n participant.Nonce) map[string][]byte {
	t.Helper()
	rec, err := boltstore.SealedRecord(s, n.Commitment.ID)
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"hiding secret":          n.Hiding[:],
		"binding secret":         n.Binding[:],
		"hiding secret, half":    n.Hiding[:16],
		"binding secret, half":   n.Binding[16:],
		"sealed record":          rec,
		"sealed record, nonce":   rec[:24],
		"sealed record, cipher":  rec[24:56],
		"sealed record, the tag": rec[len(rec)-16:],
	}
}

func wantOnDisk(t *testing.T, dir string, tr map[string][]byte, want bool) {
	t.Helper()
	disk := diskBytes(t, dir)
	for name, b := range tr {
		if bytes.Contains(disk, b) != want {
			if want {
				t.Errorf("the %s of an unspent nonce is not on disk: the test looks in the wrong place", name)
			} else {
				t.Errorf("the %s of a spent nonce is still on disk", name)
			}
		}
	}
}

// sealedTraces is traces without the plaintext secrets, which are never on
// disk in the first place (they are encrypted).
func sealedTraces(tr map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for name, b := range tr {
		if bytes.HasPrefix([]byte(name), []byte("sealed")) {
			out[name] = b
		}
	}
	return out
}

// TestSpendErasesFromDisk is the erasure promise: after a spend, no file of
// the store holds the nonce's secrets, in plaintext or sealed.
func TestSpendErasesFromDisk(t *testing.T) {
	for name, k := range map[string]sealed.Key{"passphrase": testKey, "plaintext": {InsecurePlaintext: true}} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := mustOpen(t, filepath.Join(dir, "nonces.db"), k)
			defer s.Close()
			ns := nonces(40)
			if err := s.Put(ns); err != nil {
				t.Fatal(err)
			}
			single, batch, kept := ns[3], ns[10:30], ns[39]
			trSingle, trKept := traces(t, s, single), traces(t, s, kept)
			var trBatch []map[string][]byte
			for _, n := range batch {
				trBatch = append(trBatch, traces(t, s, n))
			}
			// Positive control: before the spend the sealed records are there.
			wantOnDisk(t, dir, sealedTraces(trSingle), true)
			wantOnDisk(t, dir, sealedTraces(trBatch[7]), true)

			if _, err := s.Spend([]participant.Spend{spend(single)}); err != nil {
				t.Fatal(err)
			}
			wantOnDisk(t, dir, trSingle, false)

			sp := make([]participant.Spend, len(batch))
			for i, n := range batch {
				sp[i] = spend(n)
			}
			if _, err := s.Spend(sp); err != nil {
				t.Fatal(err)
			}
			for _, tr := range trBatch {
				wantOnDisk(t, dir, tr, false)
			}
			// The unspent nonce is untouched, and the erasure lasts.
			wantOnDisk(t, dir, sealedTraces(trKept), true)
			s.Close()
			s = mustOpen(t, filepath.Join(dir, "nonces.db"), k)
			defer s.Close()
			wantOnDisk(t, dir, trSingle, false)
			if got, err := s.Spend([]participant.Spend{spend(kept)}); err != nil || got[0] != kept {
				t.Fatalf("Spend of the kept nonce: %v", err)
			}
			wantOnDisk(t, dir, trKept, false)
		})
	}
}

// crashAt returns an Option that crashes the store at p once armed is set.
func crashAt(p boltstore.CrashPoint, armed *atomic.Bool) boltstore.Option {
	return boltstore.WithCrash(func(at boltstore.CrashPoint) bool { return at == p && armed.Load() })
}

// TestCrashBetweenSpendAndErase: the process dies after the spent marks are
// committed and before the slots are zeroed. Nothing was released; after
// restart the nonce is spent and its secret gone from disk.
func TestCrashBetweenSpendAndErase(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nonces.db")
	var armed atomic.Bool
	s := mustOpen(t, path, testKey, crashAt(boltstore.CrashSpendBeforeErase, &armed))
	ns := nonces(3)
	if err := s.Put(ns); err != nil {
		t.Fatal(err)
	}
	tr := traces(t, s, ns[1])
	armed.Store(true)
	got, err := s.Spend([]participant.Spend{spend(ns[0]), spend(ns[1])})
	if !errors.Is(err, boltstore.ErrCrashed) || got != nil {
		t.Fatalf("Spend with a crash = %v, %v; want no nonces and the crash", got, err)
	}
	wantOnDisk(t, dir, sealedTraces(tr), true) // the crash left it there

	s = mustOpen(t, path, testKey)
	defer s.Close()
	wantOnDisk(t, dir, tr, false) // Open erased it
	for _, n := range ns[:2] {
		if _, err := s.Lookup(n.Commitment.ID); !errors.Is(err, protocol.ErrNonceSpent) {
			t.Fatalf("Lookup after the crash: %v; want ErrNonceSpent", err)
		}
		if _, err := s.Spend([]participant.Spend{spend(n)}); !errors.Is(err, protocol.ErrNonceSpent) {
			t.Fatalf("Spend after the crash: %v; want ErrNonceSpent", err)
		}
	}
	if got, err := s.Spend([]participant.Spend{spend(ns[2])}); err != nil || got[0] != ns[2] {
		t.Fatalf("Spend of the untouched nonce: %v", err)
	}
}

// TestCrashInPut: the process dies after the secrets reach their slots and
// before the index names them. The nonces were never issued; Open erases
// them and their ids stay free.
func TestCrashInPut(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nonces.db")
	var armed atomic.Bool
	s := mustOpen(t, path, testKey, crashAt(boltstore.CrashPutBeforeIndex, &armed))
	old := nonces(1)
	if err := s.Put(old); err != nil {
		t.Fatal(err)
	}
	before := diskBytes(t, dir)
	lost := nonces(2)
	armed.Store(true)
	if err := s.Put(lost); !errors.Is(err, boltstore.ErrCrashed) {
		t.Fatalf("Put with a crash: %v", err)
	}
	if after := diskBytes(t, dir); len(after) <= len(before) {
		t.Fatal("the crashed Put wrote no slot: the test does not test the crash it means")
	}

	s = mustOpen(t, path, testKey)
	defer s.Close()
	unspent, err := s.Unspent()
	if err != nil || len(unspent) != 1 || unspent[0] != old[0].Commitment {
		t.Fatalf("Unspent after the crash: %v, %v; want only the nonce Put before", unspent, err)
	}
	// No record of the lost nonces is left: every slot but the old one is zero.
	slots, err := os.ReadFile(path + ".slots")
	if err != nil {
		t.Fatal(err)
	}
	oldRec, err := boltstore.SealedRecord(s, old[0].Commitment.ID)
	if err != nil {
		t.Fatal(err)
	}
	nonzero := 0
	for i := 0; i < len(slots); i += boltstore.SlotSize {
		slot := slots[i:min(i+boltstore.SlotSize, len(slots))]
		if !bytes.Equal(slot, make([]byte, len(slot))) {
			nonzero++
			if !bytes.Contains(slot, oldRec) {
				t.Errorf("slot %d holds a record of a nonce that was never indexed", i/boltstore.SlotSize)
			}
		}
	}
	if nonzero != 1 {
		t.Fatalf("%d slots hold records, want 1", nonzero)
	}
	for _, n := range lost {
		if _, err := s.Lookup(n.Commitment.ID); !errors.Is(err, protocol.ErrUnknownCommitment) {
			t.Fatalf("Lookup of a nonce lost in the crash: %v", err)
		}
	}
	if err := s.Put(lost); err != nil {
		t.Fatalf("Put of the lost ids again: %v", err)
	}
}
