package dkg

import (
	"errors"
	"fmt"
	"slices"

	"github.com/frostd/frostd/protocol"
)

// Offence classifies what a culprit did. The values travel in complaints;
// do not renumber.
type Offence uint8

// Offences a ceremony detects and attributes.
const (
	// OffenceMalformed: a signed message that does not parse or is
	// addressed wrongly for its round.
	OffenceMalformed Offence = 1
	// OffenceBadCommitment: a round-1 commitment (or HPKE key) that is
	// not a valid prime-order point (or usable key).
	OffenceBadCommitment Offence = 2
	// OffenceBadProof: a round-1 proof of knowledge that does not verify.
	OffenceBadProof Offence = 3
	// OffenceEquivocation: two different signed messages for one round,
	// such as different round-1 packages to different participants.
	OffenceEquivocation Offence = 4
	// OffenceBadShare: a round-2 share that does not decrypt or does not
	// match its sender's commitment.
	OffenceBadShare Offence = 5
	// OffenceBadEcho: an echo that does not match the round-1 set its
	// sender then revealed.
	OffenceBadEcho Offence = 6
	// OffenceDisagreement: a confirmation of a different transcript.
	OffenceDisagreement Offence = 7
	// OffenceFalseComplaint: a complaint whose own evidence clears the
	// accused.
	OffenceFalseComplaint Offence = 8
)

var offenceNames = [...]string{"", "malformed message", "bad commitment", "bad proof of knowledge", "equivocation", "bad share", "bad echo", "disagreement", "false complaint"}

func (o Offence) String() string {
	if o.valid() {
		return offenceNames[o]
	}
	return fmt.Sprintf("offence(%d)", uint8(o))
}

func (o Offence) valid() bool { return o >= OffenceMalformed && o <= OffenceFalseComplaint }

// CulpritError aborts a ceremony and names the participant at fault. No
// key share is produced by an aborted ceremony.
//
// Evidence holds messages signed by the culprit that prove the offence to
// anyone who knows the ceremony's parameters: for an equivocation, the two
// conflicting messages; for a bad proof, the round-1 package; for a false
// complaint, the complaint. For a bad share the proof also needs the
// recipient's HPKE key for the ceremony, which the recipient reveals in its
// complaint (it is good for this ceremony only, and the ceremony is over).
type CulpritError struct {
	ID       protocol.ParticipantID
	Offence  Offence
	Reason   string
	Evidence []Message

	// reported is set when the verdict came from judging someone else's
	// complaint, so this participant does not complain in turn.
	reported bool
}

func (e *CulpritError) Error() string {
	return fmt.Sprintf("dkg: participant %d is at fault (%s): %s; the ceremony is aborted and produced no key: investigate participant %d, then run a new ceremony with a new id",
		e.ID, e.Offence, e.Reason, e.ID)
}

func culprit(id protocol.ParticipantID, o Offence, evidence []Message, format string, args ...any) *CulpritError {
	return &CulpritError{ID: id, Offence: o, Reason: fmt.Sprintf(format, args...), Evidence: evidence}
}

// Culprits lists, without duplicates and in order, every participant named
// by a CulpritError in err's tree.
func Culprits(err error) []protocol.ParticipantID {
	var ids []protocol.ParticipantID
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *CulpritError:
			ids = append(ids, e.ID)
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		default:
			walk(errors.Unwrap(err))
		}
	}
	walk(err)
	slices.Sort(ids)
	return slices.Compact(ids)
}

var (
	// ErrRejected wraps the error Step returns for a message it ignored:
	// one it cannot attribute to a participant of this ceremony (wrong
	// ceremony, bad signature, misrouted). The ceremony goes on; log it.
	ErrRejected = errors.New("dkg: message rejected")

	// ErrNotFinished is returned by Result before the ceremony ends.
	ErrNotFinished = errors.New("dkg: ceremony not finished")

	// ErrStalled is returned by the in-memory driver for a participant
	// that still waits for messages when none are left in flight. A
	// network driver sees the same as a timeout; Waiting names whom to
	// blame.
	ErrStalled = errors.New("dkg: ceremony stalled")

	// ErrAllMustTakePart refuses a refresh that does not include every
	// current holder: the zero-sharing is added to every share, and a
	// share left out would no longer fit the others.
	ErrAllMustTakePart = errors.New("dkg: all n holders must take part in a refresh")
)

func rejected(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRejected, fmt.Sprintf(format, args...))
}
