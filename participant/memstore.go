package participant

import (
	"fmt"
	"sort"
	"sync"

	"github.com/frostd/frostd/protocol"
)

// MemoryStore is a NonceStore in memory, for tests and simulations. Its
// "durable" means "until the process exits": a participant restarted with
// a new MemoryStore has lost its nonces, which is safe (they are never used)
// but wasteful.
type MemoryStore struct {
	mu       sync.Mutex
	unspent  map[uint64]Nonce
	spent    map[uint64]Tombstone
	sessions map[protocol.SessionID]struct{}
	closed   bool
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		unspent:  make(map[uint64]Nonce),
		spent:    make(map[uint64]Tombstone),
		sessions: make(map[protocol.SessionID]struct{}),
	}
}

var errClosed = fmt.Errorf("nonce store is closed: %w", protocol.ErrUnavailable)

// Put implements NonceStore.
func (s *MemoryStore) Put(nonces []Nonce) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	seen := make(map[uint64]bool, len(nonces))
	for _, n := range nonces {
		id := n.Commitment.ID
		if _, ok := s.unspent[id]; ok || seen[id] {
			return fmt.Errorf("commitment id %d is already stored", id)
		}
		if _, ok := s.spent[id]; ok {
			return fmt.Errorf("commitment id %d was already spent", id)
		}
		seen[id] = true
	}
	for _, n := range nonces {
		s.unspent[n.Commitment.ID] = n
	}
	return nil
}

// Lookup implements NonceStore.
func (s *MemoryStore) Lookup(id uint64) (protocol.Commitment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return protocol.Commitment{}, errClosed
	}
	if n, ok := s.unspent[id]; ok {
		return n.Commitment, nil
	}
	if t, ok := s.spent[id]; ok {
		return protocol.Commitment{}, SpentError(id, t)
	}
	return protocol.Commitment{}, UnknownCommitmentError(id)
}

// Spend implements NonceStore.
func (s *MemoryStore) Spend(spends []Spend) ([]Nonce, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	if err := CheckSpends(spends, func(id uint64) (bool, *Tombstone) {
		if _, ok := s.unspent[id]; ok {
			return true, nil
		}
		if t, ok := s.spent[id]; ok {
			return false, &t
		}
		return false, nil
	}, func(sid protocol.SessionID) bool {
		_, ok := s.sessions[sid]
		return ok
	}); err != nil {
		return nil, err
	}
	out := make([]Nonce, len(spends))
	for i, sp := range spends {
		n := s.unspent[sp.CommitmentID]
		out[i] = n
		s.spent[sp.CommitmentID] = Tombstone{Commitment: n.Commitment, Session: sp.Session}
		s.sessions[sp.Session] = struct{}{}
		clear(n.Hiding[:]) // n is a copy; the map's copy goes with delete
		clear(n.Binding[:])
		delete(s.unspent, sp.CommitmentID)
	}
	return out, nil
}

// Unspent implements NonceStore.
func (s *MemoryStore) Unspent() ([]protocol.Commitment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	out := make([]protocol.Commitment, 0, len(s.unspent))
	for _, n := range s.unspent {
		out = append(out, n.Commitment)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Close implements NonceStore.
func (s *MemoryStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, n := range s.unspent {
		clear(n.Hiding[:])
		clear(n.Binding[:])
		delete(s.unspent, id)
	}
	s.closed = true
	return nil
}

// CheckSpends validates a Spend batch against a store's state, for
// NonceStore implementations: every nonce unspent, no session recorded
// before, no commitment or session twice in the batch. state reports
// whether a nonce is unspent, or its tombstone if spent.
func CheckSpends(spends []Spend, state func(id uint64) (unspent bool, t *Tombstone), sessionSeen func(protocol.SessionID) bool) error {
	ids := make(map[uint64]bool, len(spends))
	sessions := make(map[protocol.SessionID]bool, len(spends))
	for _, sp := range spends {
		if ids[sp.CommitmentID] {
			return fmt.Errorf("commitment %d appears twice in one request: %w", sp.CommitmentID, protocol.ErrNonceSpent)
		}
		if sessions[sp.Session] {
			return fmt.Errorf("session %s appears twice in one request: %w", sp.Session, protocol.ErrSessionReplayed)
		}
		ids[sp.CommitmentID], sessions[sp.Session] = true, true
		unspent, t := state(sp.CommitmentID)
		switch {
		case t != nil:
			return SpentError(sp.CommitmentID, *t)
		case !unspent:
			return UnknownCommitmentError(sp.CommitmentID)
		case sessionSeen(sp.Session):
			return fmt.Errorf("session %s was already signed by this participant: %w", sp.Session, protocol.ErrSessionReplayed)
		}
	}
	return nil
}

// SpentError is the error a NonceStore returns for a spent nonce.
func SpentError(id uint64, t Tombstone) error {
	return fmt.Errorf("commitment %d was already used in session %s; a nonce signs once, ever: %w", id, t.Session, protocol.ErrNonceSpent)
}

// UnknownCommitmentError is the error a NonceStore returns for a commitment
// it never stored.
func UnknownCommitmentError(id uint64) error {
	return fmt.Errorf("commitment %d was never issued by this participant (or it restarted without its nonce store); ask for fresh commitments: %w", id, protocol.ErrUnknownCommitment)
}
