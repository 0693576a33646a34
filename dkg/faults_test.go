package dkg_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/protocol"
)

// expectCulprit checks that a failed ceremony returned nothing and that
// every honest participant named the culprit for this offence.
func expectCulprit(t *testing.T, out *dkg.Outcome, err error, culprit protocol.ParticipantID, o dkg.Offence, faulty ...protocol.ParticipantID) {
	t.Helper()
	if err == nil {
		t.Fatal("the ceremony succeeded")
	}
	if out.Group != nil || out.Shares != nil {
		t.Fatal("a failed ceremony returned a group or shares")
	}
	var ce *dkg.CulpritError
	if !errors.As(err, &ce) || ce.ID != culprit || ce.Offence != o {
		t.Fatalf("error %v; want participant %d named for %s", err, culprit, o)
	}
	for i, e := range out.Errs {
		id := protocol.ParticipantID(i + 1)
		if id == culprit || slices.Contains(faulty, id) {
			continue
		}
		var ce *dkg.CulpritError
		if !errors.As(e, &ce) || ce.Offence != o || !slices.Equal(dkg.Culprits(e), []protocol.ParticipantID{culprit}) {
			t.Errorf("participant %d ended with %v; want participant %d named for %s", id, e, culprit, o)
		}
		if len(ce.Evidence) == 0 {
			t.Errorf("participant %d names participant %d without evidence", id, culprit)
		}
		for _, m := range ce.Evidence {
			if o != dkg.OffenceFalseComplaint && m.From != culprit {
				t.Errorf("participant %d's evidence holds a message of participant %d", id, m.From)
			}
		}
	}
}

func TestCorruptShare(t *testing.T) {
	out, err := dkg.RunLocal(3, 5, dkg.CorruptShare(2, 4))
	expectCulprit(t, out, err, 2, dkg.OffenceBadShare)
	// Participant 4 saw it; the others were convinced by its complaint,
	// which reveals its HPKE key for this ceremony so anyone can decrypt
	// the share and check it against participant 2's commitment.
	var ce *dkg.CulpritError
	errors.As(out.Errs[3], &ce)
	if len(ce.Evidence) != 1 || ce.Evidence[0].Round != dkg.RoundShare || ce.Evidence[0].To != 4 {
		t.Fatalf("evidence %v; want participant 2's share message to participant 4", ce.Evidence)
	}
}

func TestBadProof(t *testing.T) {
	out, err := dkg.RunLocal(3, 5, dkg.BadProof(5))
	expectCulprit(t, out, err, 5, dkg.OffenceBadProof)
}

func TestEquivocation(t *testing.T) {
	out, err := dkg.RunLocal(3, 5, dkg.Equivocate(3))
	expectCulprit(t, out, err, 3, dkg.OffenceEquivocation)
	// The proof is the two conflicting packages, both signed by 3.
	for i, e := range out.Errs {
		if i == 2 {
			continue
		}
		var ce *dkg.CulpritError
		errors.As(e, &ce)
		ev := ce.Evidence
		if len(ev) != 2 || ev[0].Round != dkg.RoundCommit || ev[1].Round != dkg.RoundCommit || bytes.Equal(ev[0].Payload, ev[1].Payload) {
			t.Fatalf("participant %d's evidence %v is not two different round-1 packages", i+1, ev)
		}
	}
}

func TestEvidenceConvictsOnItsOwn(t *testing.T) {
	// Participant 2 sends one round-1 package to 1 and another to 3; the
	// evidence participant 1 ends with convicts 2 at a fresh instance of
	// participant 3 that has seen nothing else.
	h := newHarness(t, 2, 3)
	// A second instance of participant 2 makes its second package.
	eq, err := dkg.NewKeygen(h.cfgs[1])
	if err != nil {
		t.Fatal(err)
	}
	second, _ := eq.Start()
	h.deliver = func(to protocol.ParticipantID, m *dkg.Message) bool {
		if to == 3 && m.Round == dkg.RoundCommit && m.From == 2 {
			*m = second[0]
		}
		return true
	}
	h.start()
	h.run()
	var ce *dkg.CulpritError
	if err := h.cs[0].Err(); !errors.As(err, &ce) || ce.ID != 2 || ce.Offence != dkg.OffenceEquivocation {
		t.Fatalf("participant 1: %v; want participant 2 named for equivocation", err)
	}
	fresh, err := dkg.NewKeygen(h.cfgs[2])
	if err != nil {
		t.Fatal(err)
	}
	var verdict error
	for _, m := range ce.Evidence {
		_, verdict = fresh.Step(m)
	}
	var again *dkg.CulpritError
	if !errors.As(verdict, &again) || again.ID != 2 || again.Offence != dkg.OffenceEquivocation {
		t.Fatalf("replaying the evidence: %v; want participant 2 convicted of equivocation", verdict)
	}
}

func TestBadEcho(t *testing.T) {
	out, err := dkg.RunLocal(3, 5, dkg.BadEcho(4))
	expectCulprit(t, out, err, 4, dkg.OffenceBadEcho)
}

func TestBadConfirm(t *testing.T) {
	out, err := dkg.RunLocal(3, 5, dkg.BadConfirm(1))
	expectCulprit(t, out, err, 1, dkg.OffenceDisagreement)
}

func TestSeveralDisagree(t *testing.T) {
	out, err := dkg.RunLocal(3, 5, dkg.BadConfirm(1), dkg.BadConfirm(3))
	if err == nil {
		t.Fatal("the ceremony succeeded")
	}
	for _, id := range []int{2, 4, 5} {
		// Each aborts at the first disagreeing confirmation it holds; with
		// both in hand it names both.
		got := dkg.Culprits(out.Errs[id-1])
		if len(got) == 0 || !slices.ContainsFunc(got, func(c protocol.ParticipantID) bool { return c == 1 || c == 3 }) {
			t.Errorf("participant %d names %v; want 1 and/or 3", id, got)
		}
		for _, c := range got {
			if c != 1 && c != 3 {
				t.Errorf("participant %d names honest participant %d", id, c)
			}
		}
	}
}

func TestFalseComplaint(t *testing.T) {
	out, err := dkg.RunLocal(3, 5, dkg.FalseComplaint(5, 2))
	expectCulprit(t, out, err, 5, dkg.OffenceFalseComplaint)
}

func TestSilentParticipantStalls(t *testing.T) {
	out, err := dkg.RunLocal(3, 5, dkg.Silent(3))
	if !errors.Is(err, dkg.ErrStalled) || out.Group != nil || out.Shares != nil {
		t.Fatalf("RunLocal with a silent participant: %v", err)
	}
	for i, e := range out.Errs {
		if i != 2 && (!errors.Is(e, dkg.ErrStalled) || !bytes.Contains([]byte(e.Error()), []byte("[3]"))) {
			t.Errorf("participant %d: %v; want stalled waiting for [3]", i+1, e)
		}
	}
}

func TestFaultsInAnyOrder(t *testing.T) {
	for _, tc := range []struct {
		f       dkg.Fault
		culprit protocol.ParticipantID
		o       dkg.Offence
	}{
		{dkg.CorruptShare(1, 5), 1, dkg.OffenceBadShare},
		{dkg.BadProof(2), 2, dkg.OffenceBadProof},
		{dkg.Equivocate(4), 4, dkg.OffenceEquivocation},
		{dkg.BadEcho(5), 5, dkg.OffenceBadEcho},
		{dkg.FalseComplaint(3, 1), 3, dkg.OffenceFalseComplaint},
	} {
		for seed := uint64(1); seed <= 6; seed++ {
			t.Run(fmt.Sprintf("%s-seed%d", tc.o, seed), func(t *testing.T) {
				out, err := dkg.Sim{Faults: []dkg.Fault{tc.f}, Seed: seed}.Keygen(3, 5)
				expectCulprit(t, out, err, tc.culprit, tc.o)
			})
		}
	}
}
