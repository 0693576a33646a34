package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/protocol"
)

// Put implements participant.NonceStore. The secrets are durable in their
// slots before the index names them, so a crash never indexes a missing
// secret.
func (s *Store) Put(nonces []participant.Nonce) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	if len(nonces) == 0 {
		return nil
	}
	// No other write runs while s.mu is held, so what this read sees still
	// holds when the index is committed below.
	err := s.db.View(func(tx *bbolt.Tx) error {
		unspent, spent := tx.Bucket(bucketUnspent), tx.Bucket(bucketSpent)
		seen := make(map[uint64]bool, len(nonces))
		for _, n := range nonces {
			id := n.Commitment.ID
			switch k := idKey(id); {
			case seen[id]:
				return fmt.Errorf("commitment id %d appears twice in one request", id)
			case unspent.Get(k) != nil:
				return fmt.Errorf("commitment id %d is already stored", id)
			case spent.Get(k) != nil:
				return fmt.Errorf("commitment id %d was already spent; ids are never reused", id)
			}
			seen[id] = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("boltstore: storing none of %d nonces: %w", len(nonces), err)
	}

	slots := s.alloc(len(nonces))
	if err := s.writeRecords(nonces, slots); err != nil {
		s.erase(slots) // on failure they wait in s.dirty; never indexed either way
		return fmt.Errorf("boltstore: storing none of %d nonces: %w", len(nonces), err)
	}
	if s.crashAt(crashPutBeforeIndex) {
		return errCrashed
	}
	err = s.update(func(tx *bbolt.Tx) error {
		unspent := tx.Bucket(bucketUnspent)
		for i, n := range nonces {
			if err := unspent.Put(idKey(n.Commitment.ID), encodeIndex(slots[i], n.Commitment)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.erase(slots)
		return fmt.Errorf("boltstore: storing none of %d nonces: committing the index: %w", len(nonces), err)
	}
	return nil
}

// writeRecords seals the nonces into their slots and fsyncs the file.
func (s *Store) writeRecords(nonces []participant.Nonce, slots []uint64) error {
	for i, n := range nonces {
		rec, err := s.sealRecord(n.Commitment, &n.Hiding, &n.Binding)
		if err != nil {
			return err
		}
		_, err = s.slots.WriteAt(rec, int64(slots[i])*slotSize)
		clear(rec)
		if err != nil {
			return fmt.Errorf("writing slot %d: %w", slots[i], err)
		}
	}
	if err := s.slots.Sync(); err != nil {
		return fmt.Errorf("syncing %s.slots: %w", s.path, err)
	}
	return nil
}

// Spend implements participant.NonceStore: one bbolt transaction checks and
// spends the whole batch, its fsync'd commit makes the marks durable, then
// the slots are zeroed and fsynced, and only then are the secrets returned.
func (s *Store) Spend(spends []participant.Spend) ([]participant.Nonce, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return nil, err
	}
	if len(spends) == 0 {
		return []participant.Nonce{}, nil
	}
	out := make([]participant.Nonce, len(spends))
	slots := make([]uint64, len(spends))
	var refused error // the batch is invalid: not a failure of the store
	err := s.update(func(tx *bbolt.Tx) error {
		unspent, spent, sessions := tx.Bucket(bucketUnspent), tx.Bucket(bucketSpent), tx.Bucket(bucketSessions)
		refused = participant.CheckSpends(spends, func(id uint64) (bool, *participant.Tombstone) {
			k := idKey(id)
			if unspent.Get(k) != nil {
				return true, nil
			}
			if v := spent.Get(k); v != nil {
				t, err := decodeTombstone(v)
				if err != nil { // damaged, but certainly spent
					t = participant.Tombstone{Commitment: protocol.Commitment{ID: id}}
				}
				return false, &t
			}
			return false, nil
		}, func(sid protocol.SessionID) bool {
			return sessions.Get(sid[:]) != nil
		})
		if refused != nil {
			return refused // rolls back; nothing was written
		}
		for i, sp := range spends {
			k := idKey(sp.CommitmentID)
			slot, c, err := decodeIndex(unspent.Get(k))
			if err != nil {
				return fmt.Errorf("commitment %d: %w", sp.CommitmentID, err)
			}
			rec, err := s.readSlot(slot)
			if err != nil {
				return fmt.Errorf("commitment %d: %w", sp.CommitmentID, err)
			}
			out[i].Hiding, out[i].Binding, err = s.openRecord(rec, c)
			clear(rec)
			if err != nil {
				return fmt.Errorf("commitment %d, slot %d: %w", sp.CommitmentID, slot, err)
			}
			out[i].Commitment, slots[i] = c, slot
			if err := unspent.Delete(k); err != nil {
				return err
			}
			if err := spent.Put(k, encodeTombstone(participant.Tombstone{Commitment: c, Session: sp.Session})); err != nil {
				return err
			}
			if err := sessions.Put(bytes.Clone(sp.Session[:]), k); err != nil {
				return err
			}
		}
		return s.recordOrder(tx, spends)
	})
	if err != nil {
		wipe(out)
		if refused != nil {
			return nil, refused
		}
		return nil, fmt.Errorf("boltstore: spending none of %d nonces (no share may be made): %w: %w", len(spends), protocol.ErrInternal, err)
	}
	// The spent marks are durable: from here on the nonces are gone.
	if s.crashAt(crashSpendBeforeErase) {
		wipe(out)
		return nil, errCrashed
	}
	if err := s.erase(slots); err != nil {
		wipe(out)
		return nil, fmt.Errorf("boltstore: %d nonces are spent, but their secrets could not be erased from disk, so they are not released "+
			"(the store retries the erasure before its next write, and Open does too): %w: %w", len(spends), protocol.ErrInternal, err)
	}
	return out, nil
}

func wipe(ns []participant.Nonce) {
	for i := range ns {
		clear(ns[i].Hiding[:])
		clear(ns[i].Binding[:])
	}
}

// Lookup implements participant.NonceStore.
func (s *Store) Lookup(id uint64) (protocol.Commitment, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return protocol.Commitment{}, errClosed
	}
	var c protocol.Commitment
	var state error
	err := s.db.View(func(tx *bbolt.Tx) error {
		k := idKey(id)
		if v := tx.Bucket(bucketUnspent).Get(k); v != nil {
			var err error
			_, c, err = decodeIndex(v)
			return err
		}
		if v := tx.Bucket(bucketSpent).Get(k); v != nil {
			t, err := decodeTombstone(v)
			if err != nil {
				return err
			}
			state = participant.SpentError(id, t)
			return nil
		}
		state = participant.UnknownCommitmentError(id)
		return nil
	})
	if err != nil {
		return protocol.Commitment{}, fmt.Errorf("boltstore: looking up commitment %d: %w", id, err)
	}
	return c, state
}

// Unspent implements participant.NonceStore. The commitments are in id order.
func (s *Store) Unspent() ([]protocol.Commitment, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed
	}
	var out []protocol.Commitment
	err := s.db.View(func(tx *bbolt.Tx) error {
		out = []protocol.Commitment{}
		return tx.Bucket(bucketUnspent).ForEach(func(_, v []byte) error {
			_, c, err := decodeIndex(v)
			out = append(out, c)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: listing unspent nonces: %w", err)
	}
	return out, nil
}

// crashPoint names a place where a test can make the store stop as if the
// process died there.
type crashPoint int

const (
	crashPutBeforeIndex   crashPoint = iota + 1 // secrets durable in slots, index not committed
	crashSpendBeforeErase                       // spent marks committed, slots not yet zeroed
)

var errCrashed = errors.New("boltstore: simulated crash")

// crashAt abandons the store, without any further write, if a test asked
// for a crash at p.
func (s *Store) crashAt(p crashPoint) bool {
	if s.crash == nil || !s.crash(p) {
		return false
	}
	s.abandon()
	return true
}

// recordOrder notes the spends in order and, with KeepTombstones, forgets
// the oldest tombstones and sessions beyond the bound, in the same
// transaction.
func (s *Store) recordOrder(tx *bbolt.Tx, spends []participant.Spend) error {
	order, err := tx.CreateBucketIfNotExists(bucketOrder)
	if err != nil {
		return err
	}
	meta := tx.Bucket(bucketMeta)
	var count uint64
	if v := meta.Get(keyTombstones); len(v) == 8 {
		count = binary.BigEndian.Uint64(v)
	}
	for _, sp := range spends {
		seq, err := order.NextSequence()
		if err != nil {
			return err
		}
		v := binary.BigEndian.AppendUint64(nil, sp.CommitmentID)
		v = append(v, sp.Session[:]...)
		if err := order.Put(binary.BigEndian.AppendUint64(nil, seq), v); err != nil {
			return err
		}
		count++
	}
	if s.keep > 0 {
		spent, sessions := tx.Bucket(bucketSpent), tx.Bucket(bucketSessions)
		c := order.Cursor()
		for k, v := c.First(); k != nil && count > uint64(s.keep); k, v = c.First() {
			if len(v) == 8+len(protocol.SessionID{}) {
				if err := spent.Delete(v[:8]); err != nil {
					return err
				}
				if err := sessions.Delete(v[8:]); err != nil {
					return err
				}
			}
			if err := c.Delete(); err != nil {
				return err
			}
			count--
		}
	}
	return meta.Put(keyTombstones, binary.BigEndian.AppendUint64(nil, count))
}
