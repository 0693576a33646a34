// Package storetest checks that a participant.NonceStore keeps the promise
// the whole system rests on: a nonce signs at most once, ever.
//
// It is to NonceStore what testing/fstest is to fs.FS: an implementation's
// tests call [Run] once,
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) (participant.NonceStore, func() participant.NonceStore) {
//			path := filepath.Join(t.TempDir(), "nonces.db")
//			open := func() participant.NonceStore {
//				s, err := mystore.Open(path)
//				if err != nil {
//					t.Fatal(err)
//				}
//				return s
//			}
//			return open(), open
//		})
//	}
//
// and Run checks, each in its own subtest:
//
//   - Put, Lookup, Spend and Unspent do what the interface documents, and
//     Spend returns exactly the secrets that were Put, in request order;
//   - Put is all or nothing (a repeated or already known id stores none);
//   - Spend is all or nothing: one spent, unknown, duplicated or replayed
//     item spends nothing, and the error wraps the matching sentinel of
//     package protocol;
//   - a session signed once is refused with a fresh commitment;
//   - 32 goroutines racing to spend one nonce (or to sign one session)
//     get exactly one success;
//   - after a restart, spent stays spent (and its error still names the
//     session, as participant.SpentError does), unspent stays usable,
//     sessions and tombstones are remembered;
//   - a rapid state machine of random Put, Spend (valid, replayed,
//     duplicated, unknown), Lookup and restart steps agrees with a simple
//     model, never returns one commitment twice, and returns what was Put.
//
// open makes a new, empty store for one subtest. reopen, if not nil, opens
// the same store again, as a restarted process would; the suite closes the
// previous handle first. Pass a nil reopen for stores that do not survive a
// restart, such as participant.MemoryStore; the restart checks are then
// skipped. open and reopen may call t.Fatal; the suite closes whatever
// handle is current when a subtest ends.
package storetest

import (
	"crypto/rand"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/protocol"
)

// Opener makes an empty store and, if it survives a restart, a function
// that reopens it.
type Opener = func(t *testing.T) (store participant.NonceStore, reopen func() participant.NonceStore)

// Run checks a NonceStore implementation. See the package documentation.
func Run(t *testing.T, open Opener) {
	t.Helper()
	tests := []struct {
		name string
		f    func(*testing.T, *harness)
	}{
		{"PutLookupUnspent", testPutLookupUnspent},
		{"PutIsAllOrNothing", testPutAllOrNothing},
		{"SpendReturnsWhatWasPut", testSpendReturnsWhatWasPut},
		{"SpentStaysSpent", testSpentStaysSpent},
		{"SpendIsAllOrNothing", testSpendAllOrNothing},
		{"SessionReplay", testSessionReplay},
		{"EmptyBatches", testEmptyBatches},
		{"ConcurrentSpendOfOneNonce", testConcurrentSpendOneNonce},
		{"ConcurrentSpendOfOneSession", testConcurrentSpendOneSession},
		{"ConcurrentMixed", testConcurrentMixed},
		{"Restart", testRestart},
		{"ClosedStoreRefuses", testClosed},
		{"Model", func(t *testing.T, _ *harness) { testModel(t, open) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.f(t, newHarness(t, open))
		})
	}
}

// harness holds the current handle on the store under test.
type harness struct {
	t      *testing.T
	store  participant.NonceStore
	reopen func() participant.NonceStore
}

func newHarness(t *testing.T, open Opener) *harness {
	s, reopen := open(t)
	if s == nil {
		t.Fatal("open returned a nil store")
	}
	h := &harness{t: t, store: s, reopen: reopen}
	t.Cleanup(func() {
		if h.store != nil {
			h.store.Close()
		}
	})
	return h
}

// restart closes the store and opens it again, or skips the test if the
// store does not survive a restart.
func (h *harness) restart() {
	h.t.Helper()
	if h.reopen == nil {
		h.t.Skip("the store does not survive a restart (reopen is nil)")
	}
	if err := h.store.Close(); err != nil {
		h.t.Fatalf("Close before restart: %v", err)
	}
	h.store = nil
	h.store = h.reopen()
	if h.store == nil {
		h.t.Fatal("reopen returned a nil store")
	}
}

// idBase keeps commitment ids of different calls to newNonces apart, and
// away from small numbers a store might treat specially.
var (
	idMu   sync.Mutex
	idNext uint64 = 1 << 40
)

// newNonces returns n nonces with fresh ids and random secrets.
func newNonces(t testing.TB, n int) []participant.Nonce {
	t.Helper()
	idMu.Lock()
	first := idNext
	idNext += uint64(n)
	idMu.Unlock()
	out := make([]participant.Nonce, n)
	for i := range out {
		out[i] = randomNonce(first + uint64(i))
	}
	return out
}

func randomNonce(id uint64) participant.Nonce {
	n := participant.Nonce{Commitment: protocol.Commitment{Signer: 1, ID: id}}
	rand.Read(n.Commitment.Hiding[:])
	rand.Read(n.Commitment.Binding[:])
	rand.Read(n.Hiding[:])
	rand.Read(n.Binding[:])
	return n
}

func newSession() protocol.SessionID {
	var s protocol.SessionID
	rand.Read(s[:])
	return s
}

func spendOf(n participant.Nonce) participant.Spend {
	return participant.Spend{CommitmentID: n.Commitment.ID, Session: newSession()}
}

func ids(ns []participant.Nonce) []uint64 {
	out := make([]uint64, len(ns))
	for i, n := range ns {
		out[i] = n.Commitment.ID
	}
	return out
}

func mustPut(t testing.TB, s participant.NonceStore, ns []participant.Nonce) {
	t.Helper()
	if err := s.Put(ns); err != nil {
		t.Fatalf("Put(%v): %v", ids(ns), err)
	}
}

func mustSpend(t testing.TB, s participant.NonceStore, sp ...participant.Spend) []participant.Nonce {
	t.Helper()
	got, err := s.Spend(sp)
	if err != nil {
		t.Fatalf("Spend: %v", err)
	}
	if len(got) != len(sp) {
		t.Fatalf("Spend of %d items returned %d nonces", len(sp), len(got))
	}
	return got
}

// wantErr fails unless err wraps one of the sentinels.
func wantErr(t testing.TB, op string, err error, sentinels ...error) {
	t.Helper()
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("%s: got error %v, want one wrapping %q", op, err, sentinels)
}

func wantUnspent(t testing.TB, s participant.NonceStore, n participant.Nonce) {
	t.Helper()
	c, err := s.Lookup(n.Commitment.ID)
	if err != nil {
		t.Fatalf("Lookup(%d) of an unspent nonce: %v", n.Commitment.ID, err)
	}
	if c != n.Commitment {
		t.Fatalf("Lookup(%d) = %+v, want %+v", n.Commitment.ID, c, n.Commitment)
	}
}

func wantSpent(t testing.TB, s participant.NonceStore, id uint64, session protocol.SessionID) {
	t.Helper()
	_, err := s.Lookup(id)
	wantErr(t, "Lookup of a spent nonce", err, protocol.ErrNonceSpent)
	if !strings.Contains(err.Error(), session.String()) {
		t.Fatalf("Lookup(%d): error %q does not name the session %s that spent it (use participant.SpentError)", id, err, session)
	}
}

func wantUnspentSet(t testing.TB, s participant.NonceStore, want []protocol.Commitment) {
	t.Helper()
	got, err := s.Unspent()
	if err != nil {
		t.Fatalf("Unspent: %v", err)
	}
	byID := func(a, b protocol.Commitment) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	}
	got, want = slices.Clone(got), slices.Clone(want)
	slices.SortFunc(got, byID)
	slices.SortFunc(want, byID)
	if !slices.Equal(got, want) {
		t.Fatalf("Unspent returned %d commitments %v, want %d %v", len(got), commitIDs(got), len(want), commitIDs(want))
	}
}

func commitIDs(cs []protocol.Commitment) []uint64 {
	out := make([]uint64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func commitments(ns ...participant.Nonce) []protocol.Commitment {
	out := make([]protocol.Commitment, len(ns))
	for i, n := range ns {
		out[i] = n.Commitment
	}
	return out
}

// secretsEqual compares the secret parts too, which Nonce's == would do, but
// says which differs.
func wantNonce(t testing.TB, got, want participant.Nonce) {
	t.Helper()
	switch {
	case got.Commitment != want.Commitment:
		t.Fatalf("Spend returned commitment %+v, want %+v", got.Commitment, want.Commitment)
	case got.Hiding != want.Hiding || got.Binding != want.Binding:
		t.Fatalf("Spend returned secrets of commitment %d that differ from those Put", want.Commitment.ID)
	}
}

func testPutLookupUnspent(t *testing.T, h *harness) {
	s := h.store
	wantUnspentSet(t, s, nil)
	ns := newNonces(t, 3)
	mustPut(t, s, ns)
	for _, n := range ns {
		wantUnspent(t, s, n)
	}
	wantUnspentSet(t, s, commitments(ns...))
	_, err := s.Lookup(ns[2].Commitment.ID + 1000)
	wantErr(t, "Lookup of an id never Put", err, protocol.ErrUnknownCommitment)
	more := newNonces(t, 2)
	mustPut(t, s, more)
	wantUnspentSet(t, s, commitments(append(ns, more...)...))
}

func testPutAllOrNothing(t *testing.T, h *harness) {
	s := h.store
	stored := newNonces(t, 1)[0]
	mustPut(t, s, []participant.Nonce{stored})

	fresh := newNonces(t, 2)
	twin := fresh[0]
	rand.Read(twin.Hiding[:]) // same id, other secrets
	cases := map[string][]participant.Nonce{
		"id twice in one batch":  {fresh[0], fresh[1], twin},
		"id already stored":      {fresh[0], stored, fresh[1]},
		"stored id, new secrets": {fresh[1], func() participant.Nonce { n := stored; rand.Read(n.Binding[:]); return n }()},
	}
	for name, batch := range cases {
		if err := s.Put(batch); err == nil {
			t.Fatalf("Put with %s succeeded", name)
		}
		for _, n := range fresh {
			_, err := s.Lookup(n.Commitment.ID)
			wantErr(t, "Lookup after a refused Put ("+name+")", err, protocol.ErrUnknownCommitment)
		}
	}
	wantUnspentSet(t, s, commitments(stored))

	// The stored nonce was not replaced by the refused batches.
	got := mustSpend(t, s, spendOf(stored))
	wantNonce(t, got[0], stored)

	// A spent id is known too: it can never be Put again.
	again := stored
	rand.Read(again.Hiding[:])
	if err := s.Put([]participant.Nonce{again}); err == nil {
		t.Fatal("Put of a spent id succeeded: its nonce could sign twice")
	}
	_, err := s.Lookup(stored.Commitment.ID)
	wantErr(t, "Lookup after re-Put of a spent id", err, protocol.ErrNonceSpent)
}

func testSpendReturnsWhatWasPut(t *testing.T, h *harness) {
	s := h.store
	ns := newNonces(t, 5)
	mustPut(t, s, ns)
	// A batch in an order other than Put's: results follow the request.
	order := []int{3, 0, 4}
	sp := make([]participant.Spend, len(order))
	for i, j := range order {
		sp[i] = spendOf(ns[j])
	}
	got := mustSpend(t, s, sp...)
	for i, j := range order {
		wantNonce(t, got[i], ns[j])
		wantSpent(t, s, ns[j].Commitment.ID, sp[i].Session)
	}
	wantUnspentSet(t, s, commitments(ns[1], ns[2]))
	one := mustSpend(t, s, spendOf(ns[2]))
	wantNonce(t, one[0], ns[2])
	wantUnspentSet(t, s, commitments(ns[1]))
}

func testSpentStaysSpent(t *testing.T, h *harness) {
	s := h.store
	ns := newNonces(t, 2)
	mustPut(t, s, ns)
	first := spendOf(ns[0])
	mustSpend(t, s, first)
	for name, sp := range map[string]participant.Spend{
		"a new session":  spendOf(ns[0]),
		"its session":    first,
		"a used session": {CommitmentID: ns[0].Commitment.ID, Session: first.Session},
	} {
		got, err := s.Spend([]participant.Spend{sp})
		wantErr(t, "second Spend with "+name, err, protocol.ErrNonceSpent)
		if got != nil {
			t.Fatalf("a refused Spend returned %d nonces", len(got))
		}
	}
	wantSpent(t, s, ns[0].Commitment.ID, first.Session)
	wantUnspent(t, s, ns[1])
}

func testSpendAllOrNothing(t *testing.T, h *harness) {
	s := h.store
	ns := newNonces(t, 4)
	mustPut(t, s, ns)
	used := spendOf(ns[3])
	mustSpend(t, s, used)
	good0, good1 := spendOf(ns[0]), spendOf(ns[1])
	unknown := participant.Spend{CommitmentID: ns[3].Commitment.ID + 1000, Session: newSession()}

	cases := []struct {
		name  string
		batch []participant.Spend
		want  []error // any of these; a batch with two faults may report either
	}{
		{"unknown commitment last", []participant.Spend{good0, good1, unknown}, []error{protocol.ErrUnknownCommitment}},
		{"unknown commitment first", []participant.Spend{unknown, good0}, []error{protocol.ErrUnknownCommitment}},
		{"spent commitment", []participant.Spend{good0, spendOf(ns[3]), good1}, []error{protocol.ErrNonceSpent}},
		{"commitment twice", []participant.Spend{good0, good1, {CommitmentID: ns[0].Commitment.ID, Session: newSession()}}, []error{protocol.ErrNonceSpent}},
		{"session twice", []participant.Spend{good0, {CommitmentID: ns[1].Commitment.ID, Session: good0.Session}}, []error{protocol.ErrSessionReplayed}},
		{"session already signed", []participant.Spend{good0, {CommitmentID: ns[1].Commitment.ID, Session: used.Session}}, []error{protocol.ErrSessionReplayed}},
		{"same item twice", []participant.Spend{good0, good0}, []error{protocol.ErrNonceSpent, protocol.ErrSessionReplayed}},
	}
	for _, c := range cases {
		got, err := s.Spend(c.batch)
		wantErr(t, "Spend with "+c.name, err, c.want...)
		if got != nil {
			t.Fatalf("Spend with %s returned %d nonces with its error", c.name, len(got))
		}
		// Nothing was spent: the good items are still usable.
		wantUnspent(t, s, ns[0])
		wantUnspent(t, s, ns[1])
		wantUnspentSet(t, s, commitments(ns[0], ns[1], ns[2]))
	}
	// The sessions of the refused batches were not recorded either.
	got := mustSpend(t, s, good0, good1)
	wantNonce(t, got[0], ns[0])
	wantNonce(t, got[1], ns[1])
}

func testSessionReplay(t *testing.T, h *harness) {
	s := h.store
	ns := newNonces(t, 2)
	mustPut(t, s, ns)
	first := spendOf(ns[0])
	mustSpend(t, s, first)
	// A coordinator replaying the session with a fresh commitment would get
	// a second share of one message under one session: refused.
	_, err := s.Spend([]participant.Spend{{CommitmentID: ns[1].Commitment.ID, Session: first.Session}})
	wantErr(t, "Spend of a fresh commitment for a signed session", err, protocol.ErrSessionReplayed)
	wantUnspent(t, s, ns[1])
}

func testEmptyBatches(t *testing.T, h *harness) {
	s := h.store
	if err := s.Put(nil); err != nil {
		t.Fatalf("Put(nil): %v", err)
	}
	got, err := s.Spend(nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("Spend(nil) = %d nonces, %v; want none and no error", len(got), err)
	}
	wantUnspentSet(t, s, nil)
}

// race runs f in n goroutines released at once, and returns their results.
func race[T any](n int, f func(i int) T) []T {
	out := make([]T, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

const racers = 32

func testConcurrentSpendOneNonce(t *testing.T, h *harness) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := h.store
	n := newNonces(t, 1)[0]
	mustPut(t, s, []participant.Nonce{n})
	type result struct {
		got []participant.Nonce
		err error
	}
	results := race(racers, func(int) result {
		got, err := s.Spend([]participant.Spend{spendOf(n)})
		return result{got, err}
	})
	wins := 0
	for _, r := range results {
		if r.err == nil {
			wins++
			wantNonce(t, r.got[0], n)
			continue
		}
		wantErr(t, "losing concurrent Spend", r.err, protocol.ErrNonceSpent)
	}
	if wins != 1 {
		t.Fatalf("%d of %d concurrent Spends of one nonce succeeded, want exactly 1", wins, racers)
	}
}

func testConcurrentSpendOneSession(t *testing.T, h *harness) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := h.store
	ns := newNonces(t, racers)
	mustPut(t, s, ns)
	session := newSession()
	errs := race(racers, func(i int) error {
		_, err := s.Spend([]participant.Spend{{CommitmentID: ns[i].Commitment.ID, Session: session}})
		return err
	})
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
			continue
		}
		wantErr(t, "losing concurrent Spend", err, protocol.ErrSessionReplayed)
	}
	if wins != 1 {
		t.Fatalf("%d of %d concurrent Spends of one session succeeded, want exactly 1", wins, racers)
	}
	unspent, err := s.Unspent()
	if err != nil || len(unspent) != racers-1 {
		t.Fatalf("Unspent after the race: %d commitments, %v; want %d", len(unspent), err, racers-1)
	}
}

// testConcurrentMixed races Put, Spend, Lookup and Unspent on distinct
// nonces, for the race detector and for lost updates.
func testConcurrentMixed(t *testing.T, h *harness) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := h.store
	pre := newNonces(t, racers)
	mustPut(t, s, pre)
	later := newNonces(t, racers)
	errs := race(racers, func(i int) error {
		if err := s.Put(later[i : i+1]); err != nil {
			return err
		}
		got, err := s.Spend([]participant.Spend{spendOf(pre[i])})
		if err != nil {
			return err
		}
		if got[0] != pre[i] {
			return errors.New("Spend returned another nonce's secrets")
		}
		if _, err := s.Lookup(later[i].Commitment.ID); err != nil {
			return err
		}
		_, err = s.Unspent()
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("goroutine %d: %v", i, err)
		}
	}
	wantUnspentSet(t, s, commitments(later...))
}

func testRestart(t *testing.T, h *harness) {
	ns := newNonces(t, 4)
	mustPut(t, h.store, ns)
	s0, s1 := spendOf(ns[0]), spendOf(ns[1])
	mustSpend(t, h.store, s0, s1)

	for round := range 2 {
		h.restart()
		s := h.store
		wantSpent(t, s, ns[0].Commitment.ID, s0.Session)
		wantSpent(t, s, ns[1].Commitment.ID, s1.Session)
		_, err := s.Spend([]participant.Spend{spendOf(ns[0])})
		wantErr(t, "Spend of a nonce spent before the restart", err, protocol.ErrNonceSpent)
		_, err = s.Spend([]participant.Spend{{CommitmentID: ns[2].Commitment.ID, Session: s1.Session}})
		wantErr(t, "Spend for a session signed before the restart", err, protocol.ErrSessionReplayed)
		if err := s.Put(ns[:1]); err == nil {
			t.Fatal("Put of an id spent before the restart succeeded")
		}
		if err := s.Put(ns[3:]); err == nil {
			t.Fatal("Put of an id stored before the restart succeeded")
		}
		if round == 0 {
			wantUnspentSet(t, s, commitments(ns[2], ns[3]))
			wantUnspent(t, s, ns[2])
		}
	}
	// Unspent nonces survived two restarts with their secrets.
	sp := spendOf(ns[2])
	got := mustSpend(t, h.store, sp)
	wantNonce(t, got[0], ns[2])
	h.restart()
	wantSpent(t, h.store, ns[2].Commitment.ID, sp.Session)
	wantUnspentSet(t, h.store, commitments(ns[3]))
	got = mustSpend(t, h.store, spendOf(ns[3]))
	wantNonce(t, got[0], ns[3])
}

func testClosed(t *testing.T, h *harness) {
	ns := newNonces(t, 2)
	mustPut(t, h.store, ns)
	s := h.store
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	h.store = nil
	if _, err := s.Spend([]participant.Spend{spendOf(ns[0])}); err == nil {
		t.Error("Spend on a closed store succeeded")
	}
	if err := s.Put(newNonces(t, 1)); err == nil {
		t.Error("Put on a closed store succeeded")
	}
	if _, err := s.Lookup(ns[0].Commitment.ID); err == nil {
		t.Error("Lookup on a closed store succeeded")
	}
	if _, err := s.Unspent(); err == nil {
		t.Error("Unspent on a closed store succeeded")
	}
}

// seedSecret derives distinct, reproducible secrets for the model test.
func seedSecret(salt uint64, id uint64) (h, b [32]byte) {
	var in [16]byte
	binary.BigEndian.PutUint64(in[:8], salt)
	binary.BigEndian.PutUint64(in[8:], id)
	sum := sha512.Sum512(in[:])
	copy(h[:], sum[:32])
	copy(b[:], sum[32:])
	return h, b
}
