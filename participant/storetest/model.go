package storetest

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/protocol"
)

// testModel drives a store with random steps and compares it with a model
// made of three maps. Besides agreeing with the model, the store must never
// return one commitment from Spend twice, across restarts, and must return
// exactly the secrets that were Put.
func testModel(t *testing.T, open Opener) {
	var stats modelStats
	defer func() {
		if t.Failed() {
			return
		}
		t.Logf("%+v", stats)
		// A model that never spends, or never refuses, checks little.
		if stats.Spent == 0 || stats.Refused == 0 || stats.RefusedPuts == 0 {
			t.Errorf("the model exercised too little: %+v", stats)
		}
	}()
	rapid.Check(t, func(rt *rapid.T) {
		store, reopen := open(t)
		if store == nil {
			rt.Fatal("open returned a nil store")
		}
		m := &model{
			store:    store,
			reopen:   reopen,
			salt:     rapid.Uint64().Draw(rt, "salt"),
			put:      map[uint64]participant.Nonce{},
			unspent:  map[uint64]bool{},
			spent:    map[uint64]protocol.SessionID{},
			sessions: map[protocol.SessionID]bool{},
			returned: map[uint64]bool{},
			nextID:   1,
			stats:    &stats,
		}
		defer func() {
			if m.store != nil {
				m.store.Close()
			}
		}()
		rt.Repeat(map[string]func(*rapid.T){
			"Put":    m.doPut,
			"Spend":  m.doSpend,
			"Lookup": m.doLookup,
			"Reopen": m.doReopen,
			"":       m.check,
		})
	})
}

type model struct {
	store  participant.NonceStore
	reopen func() participant.NonceStore
	salt   uint64

	put      map[uint64]participant.Nonce // every nonce ever stored
	unspent  map[uint64]bool
	spent    map[uint64]protocol.SessionID
	sessions map[protocol.SessionID]bool
	returned map[uint64]bool // ids Spend has returned, ever
	nextID   uint64          // ids from here on were never Put
	nextSess uint64
	stats    *modelStats
}

// modelStats counts what the model did across all runs.
type modelStats struct {
	Spent, Refused, RefusedPuts, Reopens int
}

func (m *model) nonce(id uint64, variant uint64) participant.Nonce {
	h, b := seedSecret(m.salt+variant, id)
	n := participant.Nonce{Commitment: protocol.Commitment{Signer: 1, ID: id}, Hiding: h, Binding: b}
	ch, cb := seedSecret(^m.salt, id)
	n.Commitment.Hiding, n.Commitment.Binding = ch, cb
	return n
}

func (m *model) freshSession() protocol.SessionID {
	m.nextSess++
	var s protocol.SessionID
	s[0] = 0xf0
	for i := range 8 {
		s[15-i] = byte(m.nextSess >> (8 * i))
	}
	return s
}

func (m *model) unknownID(t *rapid.T) uint64 {
	return m.nextID + rapid.Uint64Range(0, 3).Draw(t, "unknown offset")
}

func pick[K comparable](t *rapid.T, set map[K]bool, label string, less func(a, b K) int) (K, bool) {
	keys := slices.SortedFunc(maps.Keys(set), less)
	if len(keys) == 0 {
		var zero K
		return zero, false
	}
	return rapid.SampledFrom(keys).Draw(t, label), true
}

func cmpID(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpSession(a, b protocol.SessionID) int { return slices.Compare(a[:], b[:]) }

func (m *model) knownIDs() map[uint64]bool {
	known := maps.Clone(m.unspent)
	for id := range m.spent {
		known[id] = true
	}
	return known
}

func (m *model) doPut(t *rapid.T) {
	count := rapid.IntRange(1, 4).Draw(t, "count")
	batch := make([]participant.Nonce, count)
	for i := range batch {
		batch[i] = m.nonce(m.nextID+uint64(i), 0)
	}
	m.nextID += uint64(count)

	fault := rapid.SampledFrom([]string{"none", "none", "none", "known id", "id twice"}).Draw(t, "fault")
	switch fault {
	case "known id":
		id, ok := pick(t, m.knownIDs(), "known id", cmpID)
		if !ok {
			fault = "none"
			break
		}
		batch[rapid.IntRange(0, count-1).Draw(t, "at")] = m.nonce(id, 1)
	case "id twice":
		if count == 1 {
			fault = "none"
			break
		}
		i := rapid.IntRange(1, count-1).Draw(t, "at")
		batch[i] = m.nonce(batch[i-1].Commitment.ID, 1)
	}

	err := m.store.Put(batch)
	if fault != "none" {
		if err == nil {
			t.Fatalf("Put with a %s (%v) succeeded", fault, ids(batch))
		}
		m.stats.RefusedPuts++
		return // the check after this step shows that nothing was stored
	}
	if err != nil {
		t.Fatalf("Put(%v): %v", ids(batch), err)
	}
	for _, n := range batch {
		m.put[n.Commitment.ID] = n
		m.unspent[n.Commitment.ID] = true
	}
}

func (m *model) doSpend(t *rapid.T) {
	count := rapid.IntRange(1, 3).Draw(t, "count")
	var batch []participant.Spend
	inBatch := map[uint64]bool{}
	batchSessions := map[protocol.SessionID]bool{}
	for range count {
		var id uint64
		var ok bool
		switch kind := rapid.IntRange(0, 9).Draw(t, "item kind"); {
		case kind <= 5: // valid
			free := maps.Clone(m.unspent)
			for id := range inBatch {
				delete(free, id)
			}
			id, ok = pick(t, free, "unspent id", cmpID)
		case kind == 6: // replayed nonce
			spent := map[uint64]bool{}
			for id := range m.spent {
				spent[id] = true
			}
			id, ok = pick(t, spent, "spent id", cmpID)
		case kind == 7: // duplicated inside the batch
			id, ok = pick(t, inBatch, "id again", cmpID)
		case kind == 8: // any id the store knows
			id, ok = pick(t, m.knownIDs(), "known id", cmpID)
		}
		if !ok { // kind 9, or nothing to pick: unknown
			id = m.unknownID(t)
		}
		var session protocol.SessionID
		switch kind := rapid.IntRange(0, 5).Draw(t, "session kind"); {
		case kind == 4: // replayed session
			session, ok = pick(t, m.sessions, "signed session", cmpSession)
		case kind == 5: // session twice in the batch
			session, ok = pick(t, batchSessions, "session again", cmpSession)
		default:
			ok = false
		}
		if !ok {
			session = m.freshSession()
		}
		batch = append(batch, participant.Spend{CommitmentID: id, Session: session})
		inBatch[id], batchSessions[session] = true, true
	}

	want := m.expectedErrors(batch)
	got, err := m.store.Spend(batch)
	if len(want) > 0 {
		if err == nil {
			t.Fatalf("Spend(%v) succeeded; the model expects an error wrapping one of %v", batch, want)
		}
		if !slices.ContainsFunc(want, func(s error) bool { return errors.Is(err, s) }) {
			t.Fatalf("Spend(%v): error %v, want one wrapping one of %v", batch, err, want)
		}
		if got != nil {
			t.Fatalf("a refused Spend returned %d nonces", len(got))
		}
		m.stats.Refused++
		return
	}
	if err != nil {
		t.Fatalf("Spend(%v): %v; the model expects success", batch, err)
	}
	if len(got) != len(batch) {
		t.Fatalf("Spend of %d items returned %d nonces", len(batch), len(got))
	}
	for i, sp := range batch {
		if m.returned[sp.CommitmentID] {
			t.Fatalf("Spend returned commitment %d a second time: its nonce would sign twice", sp.CommitmentID)
		}
		if got[i] != m.put[sp.CommitmentID] {
			t.Fatalf("Spend returned for commitment %d a nonce other than the one Put (commitment %d)", sp.CommitmentID, got[i].Commitment.ID)
		}
		m.returned[sp.CommitmentID] = true
		m.stats.Spent++
		delete(m.unspent, sp.CommitmentID)
		m.spent[sp.CommitmentID] = sp.Session
		m.sessions[sp.Session] = true
	}
}

// expectedErrors lists the sentinels a Spend of batch may fail with: every
// fault in it, since a store may report whichever it finds first.
func (m *model) expectedErrors(batch []participant.Spend) []error {
	var want []error
	ids := map[uint64]bool{}
	sessions := map[protocol.SessionID]bool{}
	for _, sp := range batch {
		_, isSpent := m.spent[sp.CommitmentID]
		switch {
		case ids[sp.CommitmentID], isSpent:
			want = append(want, protocol.ErrNonceSpent)
		case !m.unspent[sp.CommitmentID]:
			want = append(want, protocol.ErrUnknownCommitment)
		}
		if sessions[sp.Session] || m.sessions[sp.Session] {
			want = append(want, protocol.ErrSessionReplayed)
		}
		ids[sp.CommitmentID], sessions[sp.Session] = true, true
	}
	return want
}

func (m *model) doLookup(t *rapid.T) {
	var id uint64
	var ok bool
	switch rapid.IntRange(0, 2).Draw(t, "lookup kind") {
	case 0:
		id, ok = pick(t, m.unspent, "unspent id", cmpID)
	case 1:
		id, ok = pick(t, m.knownIDs(), "known id", cmpID)
	}
	if !ok {
		id = m.unknownID(t)
	}
	c, err := m.store.Lookup(id)
	switch session, spent := m.spent[id]; {
	case m.unspent[id]:
		if err != nil || c != m.put[id].Commitment {
			t.Fatalf("Lookup(%d) of an unspent nonce = %+v, %v", id, c, err)
		}
	case spent:
		if !errors.Is(err, protocol.ErrNonceSpent) {
			t.Fatalf("Lookup(%d) of a nonce spent in session %s: %+v, %v; want ErrNonceSpent", id, session, c, err)
		}
	default:
		if !errors.Is(err, protocol.ErrUnknownCommitment) {
			t.Fatalf("Lookup(%d) of an id never stored: %+v, %v; want ErrUnknownCommitment", id, c, err)
		}
	}
}

func (m *model) doReopen(t *rapid.T) {
	if m.reopen == nil {
		t.Skip("the store does not survive a restart")
	}
	if err := m.store.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	m.store = nil
	m.store = m.reopen()
	if m.store == nil {
		t.Fatal("reopen returned a nil store")
	}
	m.stats.Reopens++
}

// check runs after every step: Unspent lists exactly the model's unspent.
func (m *model) check(t *rapid.T) {
	got, err := m.store.Unspent()
	if err != nil {
		t.Fatalf("Unspent: %v", err)
	}
	gotIDs := commitIDs(got)
	slices.Sort(gotIDs)
	want := slices.Sorted(maps.Keys(m.unspent))
	if !slices.Equal(gotIDs, want) {
		t.Fatalf("Unspent lists %v, the model %v", gotIDs, want)
	}
	for _, c := range got {
		if c != m.put[c.ID].Commitment {
			t.Fatalf("Unspent returned commitment %d as %+v, Put stored %+v", c.ID, c, m.put[c.ID].Commitment)
		}
	}
}
