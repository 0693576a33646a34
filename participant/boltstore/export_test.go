package boltstore

import (
	"fmt"

	"go.etcd.io/bbolt"
	"golang.org/x/crypto/chacha20poly1305"
)

// Test hooks, for the external test package.

type SlotFile = slotFile
type CrashPoint = crashPoint

const (
	SlotSize              = slotSize
	CrashPutBeforeIndex   = crashPutBeforeIndex
	CrashSpendBeforeErase = crashSpendBeforeErase
)

var ErrCrashed = errCrashed

// WithBoltOptions edits the bbolt options (to impose a MaxSize, say).
func WithBoltOptions(f func(*bbolt.Options)) Option {
	return func(o *options) { o.bolt = f }
}

// WithSlotFile wraps the slots file, to inject faults.
func WithSlotFile(wrap func(SlotFile) SlotFile) Option {
	return func(o *options) { o.wrapSlots = wrap }
}

// WithCrash makes the store stop, as a dying process would, at each point
// where crash returns true.
func WithCrash(crash func(CrashPoint) bool) Option {
	return func(o *options) { o.crash = crash }
}

// Commits returns the number of update transactions committed.
func Commits(s *Store) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commits
}

// SealedRecord returns the sealed part of an unspent nonce's slot (its
// random nonce and ciphertext): the bytes that must vanish from the disk
// when it is spent.
func SealedRecord(s *Store, id uint64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var slot uint64
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketUnspent).Get(idKey(id))
		if v == nil {
			return fmt.Errorf("commitment %d is not unspent", id)
		}
		var err error
		slot, _, err = decodeIndex(v)
		return err
	})
	if err != nil {
		return nil, err
	}
	rec, err := s.readSlot(slot)
	if err != nil {
		return nil, err
	}
	return rec[1 : 1+chacha20poly1305.NonceSizeX+secretsSize+chacha20poly1305.Overhead], nil
}
