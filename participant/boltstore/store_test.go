package boltstore_test

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/participant/boltstore"
	"github.com/frostd/frostd/participant/storetest"
	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/sealed"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testKey seals the data key with scrypt at its lowest work factor, so that
// each Open costs microseconds, not a second.
var testKey = sealed.Key{Passphrase: "test passphrase", ScryptWorkFactor: 1}

func storePath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "nonces.db")
}

func mustOpen(t testing.TB, path string, k sealed.Key, opts ...boltstore.Option) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path, k, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformance runs the suite with the store on tmpfs where there is
// one: the suite checks logic and makes thousands of commits, and an fsync
// on a busy disk can take many milliseconds. The tests below, which look at
// the files, use the ordinary temporary directory.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (participant.NonceStore, func() participant.NonceStore) {
		path := filepath.Join(fastDir(t), "nonces.db")
		return mustOpen(t, path, testKey), func() participant.NonceStore { return mustOpen(t, path, testKey) }
	})
}

// fastDir returns a new directory on tmpfs if /dev/shm is one, else t.TempDir.
func fastDir(t *testing.T) string {
	if dir, err := os.MkdirTemp("/dev/shm", "boltstore-test-"); err == nil {
		t.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	return t.TempDir()
}

var nextID uint64 = 1

func nonces(n int) []participant.Nonce {
	out := make([]participant.Nonce, n)
	for i := range out {
		out[i].Commitment = protocol.Commitment{Signer: 2, ID: nextID}
		nextID++
		rand.Read(out[i].Commitment.Hiding[:])
		rand.Read(out[i].Commitment.Binding[:])
		rand.Read(out[i].Hiding[:])
		rand.Read(out[i].Binding[:])
	}
	return out
}

func spend(n participant.Nonce) participant.Spend {
	sp := participant.Spend{CommitmentID: n.Commitment.ID}
	rand.Read(sp.Session[:])
	return sp
}

// TestKeyModes opens, uses and reopens a store with each way of sealing
// its data key.
func TestKeyModes(t *testing.T) {
	idFile := filepath.Join(t.TempDir(), "identity.txt")
	if _, err := sealed.GenerateIdentityFile(idFile); err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]sealed.Key{
		"passphrase": testKey,
		"identity":   {IdentityFile: idFile},
		"plaintext":  {InsecurePlaintext: true},
	} {
		t.Run(name, func(t *testing.T) {
			path := storePath(t)
			s := mustOpen(t, path, k)
			ns := nonces(2)
			if err := s.Put(ns); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = mustOpen(t, path, k)
			defer s.Close()
			got, err := s.Spend([]participant.Spend{spend(ns[1])})
			if err != nil || got[0] != ns[1] {
				t.Fatalf("Spend after reopen: %v", err)
			}
		})
	}
}

func TestWrongKey(t *testing.T) {
	path := storePath(t)
	s := mustOpen(t, path, testKey)
	ns := nonces(1)
	if err := s.Put(ns); err != nil {
		t.Fatal(err)
	}
	s.Close()

	wrong := testKey
	wrong.Passphrase = "not the passphrase"
	_, err := boltstore.Open(path, wrong)
	if !errors.Is(err, sealed.ErrWrongKey) || !strings.Contains(err.Error(), "wrong passphrase") {
		t.Fatalf("Open with a wrong passphrase: %v; want sealed.ErrWrongKey saying so", err)
	}
	_, err = boltstore.Open(path, sealed.Key{InsecurePlaintext: true})
	if !errors.Is(err, sealed.ErrModeMismatch) {
		t.Fatalf("Open of an encrypted store in plaintext mode: %v; want sealed.ErrModeMismatch", err)
	}
	_, err = boltstore.Open(path, sealed.Key{})
	if !errors.Is(err, sealed.ErrNoKey) {
		t.Fatalf("Open with no key: %v; want sealed.ErrNoKey", err)
	}

	// The failed opens released the lock and changed nothing.
	s = mustOpen(t, path, testKey)
	defer s.Close()
	if _, err := s.Lookup(ns[0].Commitment.ID); err != nil {
		t.Fatal(err)
	}
}

func TestSecondOpenRefused(t *testing.T) {
	path := storePath(t)
	s := mustOpen(t, path, testKey)
	_, err := boltstore.Open(path, testKey, boltstore.LockTimeout(0))
	if !errors.Is(err, boltstore.ErrInUse) || !strings.Contains(err.Error(), "store is in use by another process") {
		t.Fatalf("second Open: %v; want ErrInUse", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, path, testKey, boltstore.LockTimeout(0))
	s.Close()
}

// TestOneTransactionPerBatch checks that a batch costs one fsync'd commit,
// and a refused batch none.
func TestOneTransactionPerBatch(t *testing.T) {
	s := mustOpen(t, storePath(t), testKey)
	defer s.Close()
	ns := nonces(64)
	before := boltstore.Commits(s)
	if err := s.Put(ns); err != nil {
		t.Fatal(err)
	}
	if c := boltstore.Commits(s) - before; c != 1 {
		t.Fatalf("Put of 64 nonces committed %d transactions, want 1", c)
	}
	batch := make([]participant.Spend, len(ns))
	for i, n := range ns {
		batch[i] = spend(n)
	}
	before = boltstore.Commits(s)
	if _, err := s.Spend(append(batch[:63:63], batch[0])); !errors.Is(err, protocol.ErrNonceSpent) {
		t.Fatalf("Spend with a duplicate: %v", err)
	}
	if c := boltstore.Commits(s) - before; c != 0 {
		t.Fatalf("a refused Spend committed %d transactions", c)
	}
	got, err := s.Spend(batch)
	if err != nil {
		t.Fatal(err)
	}
	if c := boltstore.Commits(s) - before; c != 1 {
		t.Fatalf("Spend of 64 nonces committed %d transactions, want 1", c)
	}
	for i := range got {
		if got[i] != ns[i] {
			t.Fatalf("nonce %d differs from the one Put", i)
		}
	}
}

func TestFilesArePrivate(t *testing.T) {
	path := storePath(t)
	s := mustOpen(t, path, testKey)
	if err := s.Put(nonces(1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, p := range []string{path, path + ".slots"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", p, fi.Mode().Perm())
		}
	}
}
