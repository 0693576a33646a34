// Package boltstore is the production participant.NonceStore: nonces on
// disk, encrypted, with every spend made durable before its secret is
// released and the secret erased from the disk as it is released.
//
// # Files
//
// A store at path is two files, locked together by bbolt's file lock:
//
//	path        bbolt database, public data only:
//	              meta      format version, the data key sealed with age
//	              unspent   commitment id -> slot number, public commitment
//	              spent     commitment id -> tombstone (commitment, session)
//	              sessions  session id -> commitment id
//	path.slots  fixed-size slots, one sealed nonce secret in each used slot
//
// A slot holds one nonce pair sealed with XChaCha20-Poly1305 under a random
// 32-byte data key (scrypt per nonce would take a second each), with the
// public commitment as associated data, so a slot cannot be moved to another
// commitment. The data key is sealed with package sealed (a passphrase or an
// age identity) and stored in meta.
//
// # Why a separate slots file
//
// bbolt is copy-on-write and does not zero the pages it frees: a deleted
// value stays in the file until the page happens to be reused. A secret in
// bbolt could not be erased. So bbolt holds nothing secret, and the secrets
// live in slots that are overwritten in place with zeros and fsynced when
// spent. A slot is in use exactly when the unspent bucket names it; every
// other slot is free and, once Open has run, zero.
//
// # Order of writes
//
// Put: seal each nonce into a free slot, fsync the slots file, then commit
// the index (fsync). A crash in between leaves slots that no index entry
// names; Open zeroes them.
//
// Spend, all under one lock: one bbolt update transaction checks every
// item, reads and decrypts the secrets, deletes the index entries and
// writes the tombstones and sessions; its commit (fsync) is the point of no
// return. Then the slots are zeroed and the slots file fsynced, and only
// then are the secrets returned. A crash after the commit loses the nonces
// (safe) and leaves unnamed slots, which Open zeroes. A batch is one
// transaction and one fsync of each file, however many items it has.
//
// If the commit fails, nothing is returned (whether or not the mark reached
// the disk, no share can have used the nonce). If zeroing fails after the
// commit, nothing is returned either, since the secret still on disk plus a
// published share would reveal the key share; the store retries the
// erasure before its next write and refuses writes until it succeeds.
//
// # Limits
//
// Never restore a store from a backup, or copy it to a second machine: the
// copy would hold, as unspent, nonces that were spent since, and could sign
// with them again. A participant that loses its store starts a new, empty
// one; the nonces it had are merely wasted.
//
// Tombstones and sessions are kept forever (about 130 bytes per signature)
// unless KeepTombstones bounds them. Forgetting one does not let a replay
// sign: the nonce's secret is already erased and its index entry deleted, so
// the replay is refused as unknown instead of as spent. Overwriting a slot on
// flash storage may leave the old ciphertext in a remapped block; reading it
// also needs the data key, and so the passphrase or identity.
package boltstore

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/sealed"
)

// ErrInUse is returned by Open when another process (or another Store in
// this one) has the store open.
var ErrInUse = errors.New("store is in use by another process")

// DefaultLockTimeout is how long Open waits for another process to release
// the store.
const DefaultLockTimeout = time.Second

// Option configures Open.
type Option func(*options)

type options struct {
	lockTimeout    time.Duration
	keepTombstones int
	bolt           func(*bbolt.Options)        // tests only: bbolt limits
	wrapSlots      func(slotFile) slotFile     // tests only: fault injection
	crash          func(point crashPoint) bool // tests only: simulated crashes
}

// LockTimeout sets how long Open waits for the store's lock when another
// process holds it. Zero or less means not at all.
func LockTimeout(d time.Duration) Option {
	return func(o *options) { o.lockTimeout = d }
}

// KeepTombstones bounds the tombstones (and recorded sessions) kept to the
// n most recent spends; zero, the default, keeps them all. Nonce safety does
// not rest on tombstones: a spent nonce's secret is erased and its index
// entry deleted, so a forgotten commitment is refused as unknown (and a new
// nonce that drew the same id must still match the replayed points). What
// a tombstone adds is a precise "already spent in session X" and the
// detection of a replayed session with a fresh commitment.
func KeepTombstones(n int) Option {
	return func(o *options) { o.keepTombstones = n }
}

// Store is a participant.NonceStore in a bbolt database and a slots file.
// It is safe for concurrent use.
type Store struct {
	path string

	// mu serialises Put, Spend and Close (bbolt has one writer anyway, and
	// the slot allocator is not shared); Lookup and Unspent share it.
	mu      sync.RWMutex
	db      *bbolt.DB
	slots   slotFile
	dataKey []byte   // zeroed by Close
	free    []uint64 // zeroed slots no index entry names; alloc pops the last
	nslots  uint64   // slots in the file
	dirty   []uint64 // slots whose erasure failed; retried before any write
	closed  bool
	crash   func(crashPoint) bool
	commits int // update transactions committed, for tests
	keep    int // tombstones kept; 0 keeps all
}

var _ participant.NonceStore = (*Store)(nil)

const formatVersion = 1

var (
	bucketMeta     = []byte("meta")
	bucketUnspent  = []byte("unspent")
	bucketSpent    = []byte("spent")
	bucketSessions = []byte("sessions")
	bucketOrder    = []byte("spend order") // sequence -> commitment id ‖ session id
	keyTombstones  = []byte("tombstones")  // count of entries in bucketOrder
	keyVersion     = []byte("version")
	keyDataKey     = []byte("data key")
)

// Open opens the store at path, creating it if it does not exist, with k
// to seal or unseal its data key. Use one Key for the life of the store:
// another passphrase or identity does not open it.
//
// Open zeroes every slot that no unspent nonce names, which completes the
// erasure of nonces spent just before a crash.
func Open(path string, k sealed.Key, opts ...Option) (*Store, error) {
	o := options{lockTimeout: DefaultLockTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if err := k.Validate(); err != nil {
		return nil, fmt.Errorf("boltstore: %w", err)
	}
	bo := &bbolt.Options{Timeout: max(o.lockTimeout, time.Nanosecond)}
	if o.bolt != nil {
		o.bolt(bo)
	}
	created := !exists(path) || !exists(path+".slots")
	db, err := bbolt.Open(path, 0o600, bo)
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("boltstore: %s: %w (waited %v for its lock); stop the other participant or give this one its own store", path, ErrInUse, o.lockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore: opening %s: %w", path, err)
	}
	s := &Store{path: path, db: db, crash: o.crash, keep: o.keepTombstones}
	if err := s.open(k, o, created); err != nil {
		s.abandon()
		return nil, err
	}
	return s, nil
}

func (s *Store) open(k sealed.Key, o options, created bool) error {
	if err := s.loadDataKey(k); err != nil {
		return err
	}
	f, err := os.OpenFile(s.path+".slots", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("boltstore: opening the slots file: %w", err)
	}
	s.slots = f
	if o.wrapSlots != nil {
		s.slots = o.wrapSlots(f)
	}
	if err := s.recover(); err != nil {
		return err
	}
	if created { // make the new directory entries durable
		if err := syncDir(filepath.Dir(s.path)); err != nil {
			return fmt.Errorf("boltstore: syncing the directory of %s: %w", s.path, err)
		}
	}
	return nil
}

// loadDataKey unseals the data key, or makes and seals one in a new store.
func (s *Store) loadDataKey(k sealed.Key) error {
	var sealedKey []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return nil
		}
		if v := meta.Get(keyVersion); !bytes.Equal(v, []byte{formatVersion}) {
			return fmt.Errorf("boltstore: %s has format version %v; this frostd reads version %d", s.path, v, formatVersion)
		}
		for _, b := range [][]byte{bucketUnspent, bucketSpent, bucketSessions} {
			if tx.Bucket(b) == nil {
				return fmt.Errorf("boltstore: %s has no %q bucket: the store is damaged", s.path, b)
			}
		}
		sealedKey = bytes.Clone(meta.Get(keyDataKey))
		if sealedKey == nil {
			return fmt.Errorf("boltstore: %s has no data key: the store is damaged", s.path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if sealedKey != nil {
		key, err := sealed.Unseal(sealedKey, k)
		if err != nil {
			return fmt.Errorf("boltstore: unsealing the data key of %s: %w", s.path, err)
		}
		if len(key) != dataKeySize {
			return fmt.Errorf("boltstore: the data key of %s is %d bytes, want %d: the store is damaged", s.path, len(key), dataKeySize)
		}
		s.dataKey = key
		return nil
	}

	key := make([]byte, dataKeySize)
	rand.Read(key)
	sealedKey, err = sealed.Seal(key, k)
	if err != nil {
		return fmt.Errorf("boltstore: sealing a new data key: %w", err)
	}
	err = s.update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		for _, b := range [][]byte{bucketUnspent, bucketSpent, bucketSessions} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if err := meta.Put(keyVersion, []byte{formatVersion}); err != nil {
			return err
		}
		return meta.Put(keyDataKey, sealedKey)
	})
	if err != nil {
		return fmt.Errorf("boltstore: initialising %s: %w", s.path, err)
	}
	s.dataKey = key
	return nil
}

// update runs fn in a write transaction and commits it (with fsync).
func (s *Store) update(fn func(*bbolt.Tx) error) error {
	if err := s.db.Update(fn); err != nil {
		return err
	}
	s.commits++
	return nil
}

var errClosed = fmt.Errorf("nonce store is closed: %w", protocol.ErrUnavailable)

// Close releases the store and its lock, and erases the data key from
// memory. It retries any erasure that failed before.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	var errs []error
	if len(s.dirty) > 0 {
		if err := s.scrubDirty(); err != nil {
			errs = append(errs, fmt.Errorf("boltstore: spent secrets are still on disk; the next Open erases them: %w", err))
		}
	}
	s.abandon()
	return errors.Join(errs...)
}

// abandon closes the files without any further write, as a crash would.
func (s *Store) abandon() {
	s.closed = true
	if s.slots != nil {
		s.slots.Close()
	}
	s.db.Close()
	clear(s.dataKey)
	s.dataKey = nil
	s.free = nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// syncDir makes new entries in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
