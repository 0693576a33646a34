package boltstore

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"go.etcd.io/bbolt"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/frostd/frostd/protocol"
)

// A slot is slotSize bytes at offset slot*slotSize of the slots file: all
// zero when free, else a record:
//
//	[0]       recordVersion
//	[1:25]    XChaCha20-Poly1305 nonce, random
//	[25:105]  sealed hiding ‖ binding secrets, with tag
//	[105:128] zero
//
// 128 divides every sector size, so no slot straddles two sectors.
const (
	slotSize      = 128
	recordVersion = 1
	secretsSize   = 64
	recordSize    = 1 + chacha20poly1305.NonceSizeX + secretsSize + chacha20poly1305.Overhead
	dataKeySize   = chacha20poly1305.KeySize
)

// slotFile is what the store needs of the slots file: an *os.File, or a
// faulty one in tests.
type slotFile interface {
	io.ReaderAt
	io.WriterAt
	Stat() (os.FileInfo, error)
	Sync() error
	Close() error
}

// aadPrefix starts the associated data of every record; the encoded public
// commitment follows, binding the secret to its commitment.
var aadPrefix = []byte("frostd/boltstore/nonce/v1\x00")

func aad(c protocol.Commitment) []byte {
	return append(slices.Clip(aadPrefix), encodeCommitment(c)...)
}

// sealRecord seals a nonce's secrets into a slot-sized record.
func (s *Store) sealRecord(c protocol.Commitment, hiding, binding *[32]byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(s.dataKey)
	if err != nil {
		return nil, err
	}
	rec := make([]byte, slotSize)
	rec[0] = recordVersion
	nonce := rec[1 : 1+chacha20poly1305.NonceSizeX]
	rand.Read(nonce) // never fails (it crashes the program instead)
	var plain [secretsSize]byte
	copy(plain[:32], hiding[:])
	copy(plain[32:], binding[:])
	aead.Seal(rec[1+len(nonce):1+len(nonce)], nonce, plain[:], aad(c))
	clear(plain[:])
	return rec, nil
}

// openRecord decrypts a record read from the slot of commitment c.
func (s *Store) openRecord(rec []byte, c protocol.Commitment) (hiding, binding [32]byte, err error) {
	if rec[0] != recordVersion {
		return hiding, binding, fmt.Errorf("slot holds no record (first byte %d)", rec[0])
	}
	aead, err := chacha20poly1305.NewX(s.dataKey)
	if err != nil {
		return hiding, binding, err
	}
	nonce := rec[1 : 1+chacha20poly1305.NonceSizeX]
	var plain [secretsSize]byte
	if _, err := aead.Open(plain[:0], nonce, rec[1+len(nonce):recordSize], aad(c)); err != nil {
		return hiding, binding, errors.New("record does not decrypt: the slots file is damaged, or belongs to another store")
	}
	copy(hiding[:], plain[:32])
	copy(binding[:], plain[32:])
	clear(plain[:])
	return hiding, binding, nil
}

func (s *Store) readSlot(slot uint64) ([]byte, error) {
	rec := make([]byte, slotSize)
	if _, err := s.slots.ReadAt(rec, int64(slot)*slotSize); err != nil {
		return nil, fmt.Errorf("reading slot %d: %w", slot, err)
	}
	return rec, nil
}

// alloc takes n slots: free ones first, then new ones at the end.
func (s *Store) alloc(n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		if k := len(s.free); k > 0 {
			out[i], s.free = s.free[k-1], s.free[:k-1]
		} else {
			out[i] = s.nslots
			s.nslots++
		}
	}
	return out
}

var zeroSlot [slotSize]byte

// erase overwrites slots with zeros and fsyncs them. On success they are
// free; on failure they wait in dirty for the next attempt, and are never
// handed out by alloc meanwhile.
func (s *Store) erase(slots []uint64) error {
	if len(slots) == 0 {
		return nil
	}
	err := func() error {
		for _, slot := range slots {
			if _, err := s.slots.WriteAt(zeroSlot[:], int64(slot)*slotSize); err != nil {
				return err
			}
		}
		return s.slots.Sync()
	}()
	if err != nil {
		s.dirty = append(s.dirty, slots...)
		return fmt.Errorf("erasing %d slot(s) of %s.slots: %w", len(slots), s.path, err)
	}
	s.free = append(s.free, slots...)
	return nil
}

// scrubDirty retries the erasures that failed.
func (s *Store) scrubDirty() error {
	d := s.dirty
	s.dirty = nil
	return s.erase(d)
}

// writable fails if the store is closed or holds secrets it failed to
// erase. Put and Spend call it first, under s.mu.
func (s *Store) writable() error {
	if s.closed {
		return errClosed
	}
	if len(s.dirty) > 0 {
		if err := s.scrubDirty(); err != nil {
			return fmt.Errorf("boltstore: secrets of spent nonces are still on disk and cannot be erased, so the store refuses to write until they are (check the disk): %w", err)
		}
	}
	return nil
}

// scrubChunk is how many slots recover reads at once.
const scrubChunk = 8192

// recover rebuilds the slot allocator from the index and zeroes every slot
// the index does not name: those of nonces spent or Put just before a crash.
func (s *Store) recover() error {
	used := map[uint64]uint64{} // slot -> commitment id
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketUnspent).ForEach(func(k, v []byte) error {
			id, err := decodeID(k)
			if err != nil {
				return err
			}
			slot, _, err := decodeIndex(v)
			if err != nil {
				return fmt.Errorf("index entry of commitment %d: %w", id, err)
			}
			if other, dup := used[slot]; dup {
				return fmt.Errorf("commitments %d and %d both name slot %d", other, id, slot)
			}
			used[slot] = id
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("boltstore: %s is damaged: %w", s.path, err)
	}
	fi, err := s.slots.Stat()
	if err != nil {
		return fmt.Errorf("boltstore: %w", err)
	}
	n := uint64((fi.Size() + slotSize - 1) / slotSize)
	for slot, id := range used {
		if slot >= n {
			return fmt.Errorf("boltstore: %s.slots holds %d slots but commitment %d is in slot %d: the slots file was truncated or replaced; restore it together with %s from one backup",
				s.path, n, id, slot, s.path)
		}
	}

	var free []uint64
	scrubbed := false
	buf := make([]byte, scrubChunk*slotSize)
	for start := uint64(0); start < n; start += scrubChunk {
		m := min(scrubChunk, n-start)
		chunk := buf[:m*slotSize]
		k, err := s.slots.ReadAt(chunk, int64(start)*slotSize)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("boltstore: reading %s.slots: %w", s.path, err)
		}
		clear(chunk[k:]) // a torn last slot: its missing bytes are not on disk
		for i := range m {
			slot := start + i
			if _, ok := used[slot]; ok {
				continue
			}
			if rec := chunk[i*slotSize : (i+1)*slotSize]; !isZero(rec) {
				if _, err := s.slots.WriteAt(zeroSlot[:], int64(slot)*slotSize); err != nil {
					return fmt.Errorf("boltstore: erasing leftover slot %d of %s.slots: %w", slot, s.path, err)
				}
				scrubbed = true
			}
			free = append(free, slot)
		}
	}
	clear(buf)
	if scrubbed {
		if err := s.slots.Sync(); err != nil {
			return fmt.Errorf("boltstore: erasing leftover slots of %s.slots: %w", s.path, err)
		}
	}
	slices.Reverse(free) // alloc pops from the end: lowest slots first
	s.free, s.nslots = free, n
	return nil
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
