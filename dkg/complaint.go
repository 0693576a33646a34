package dkg

import (
	"bytes"
	"fmt"
)

// A participant that aborts because of a fault it saw itself broadcasts a
// complaint: whom it accuses, of what, and messages signed by the accused
// that prove it. Every other participant judges the complaint on its own
// and aborts too, naming the accused if the evidence bears the complaint
// out and the complainer otherwise. Either way a complaint ends the
// ceremony: there is always someone at fault.

// judgeComplaints judges the complaints that can be judged at this point
// of the ceremony. The first verdict ends it.
func (c *Ceremony) judgeComplaints() error {
	for i := 0; i < len(c.complaints); {
		v, ready := c.judge(c.complaints[i])
		if !ready {
			i++
			continue
		}
		c.complaints = append(c.complaints[:i], c.complaints[i+1:]...)
		v.reported = true
		return v
	}
	return nil
}

// judge returns the verdict on one complaint, or ready false if it needs a
// later point of the ceremony (the round-1 set, or our own transcript).
func (c *Ceremony) judge(m Message) (verdict *CulpritError, ready bool) {
	cp, err := decodeComplaint(m.Payload)
	if err != nil { // checked on receipt
		return culprit(m.From, OffenceMalformed, []Message{m}, "its complaint: %v", err), true
	}
	unfounded := func(format string, args ...any) (*CulpritError, bool) {
		ce := culprit(m.From, OffenceFalseComplaint, []Message{m}, format, args...)
		ce.Reason = fmt.Sprintf("its complaint against participant %d (%s) is unfounded: %s", cp.accused, cp.offence, ce.Reason)
		return ce, true
	}
	guilty := func(o Offence, format string, args ...any) (*CulpritError, bool) {
		ce := culprit(cp.accused, o, cp.evidence, format, args...)
		ce.Reason += fmt.Sprintf(" (reported by participant %d)", m.From)
		return ce, true
	}
	if cp.accused == 0 || cp.accused > c.n || cp.accused == m.From {
		return unfounded("it accuses participant %d", cp.accused)
	}
	ev := cp.evidence
	for _, e := range ev {
		if err := c.authenticate(e, true); err != nil {
			return unfounded("its evidence is not authentic: %v", err)
		}
		if e.From != cp.accused {
			return unfounded("its evidence includes a message of participant %d", e.From)
		}
	}
	one := func(r Round) bool { return len(ev) == 1 && ev[0].Round == r }

	switch cp.offence {
	case OffenceEquivocation:
		if len(ev) == 2 && ev[0].Round == ev[1].Round && ev[0].To == ev[1].To && !bytes.Equal(ev[0].Payload, ev[1].Payload) {
			return guilty(OffenceEquivocation, "it signed two different %s messages", ev[0].Round)
		}
		return unfounded("its evidence is not two different messages for one round")

	case OffenceMalformed:
		if len(ev) == 1 {
			if err := c.wellFormed(ev[0]); err != nil {
				return guilty(OffenceMalformed, "its %s message: %v", ev[0].Round, err)
			}
		}
		return unfounded("the message is well formed")

	case OffenceBadCommitment, OffenceBadProof:
		if !one(RoundCommit) {
			return unfounded("its evidence is not one commit message")
		}
		if _, ce := c.parsePeer(ev[0]); ce != nil {
			ce.Reason += fmt.Sprintf(" (reported by participant %d)", m.From)
			return ce, true
		}
		return unfounded("the commit message is valid")

	case OffenceBadShare:
		if c.set == nil {
			return nil, false // needs the round-1 set for the keys and commitments
		}
		if !one(RoundShare) || ev[0].To != m.From {
			return unfounded("its evidence is not one share message addressed to it")
		}
		k, err := revealedKey(cp.key, c.set[m.From-1].r1.hpkeKey)
		if err != nil {
			return unfounded("%v", err)
		}
		s, err := c.openShare(k, ev[0])
		if err != nil {
			return guilty(OffenceBadShare, "its share for participant %d %v", m.From, err)
		}
		defer s.Zero()
		if !c.set[cp.accused-1].verifyShare(m.From, s) {
			return guilty(OffenceBadShare, "its share for participant %d does not match its commitment", m.From)
		}
		return unfounded("the share decrypts and matches the commitment")

	case OffenceBadEcho:
		if len(ev) != 2 || ev[0].Round != RoundEcho || ev[1].Round != RoundReveal {
			return unfounded("its evidence is not an echo and a reveal")
		}
		if err := c.wellFormed(ev[1]); err != nil {
			return guilty(OffenceMalformed, "its reveal: %v", err)
		}
		payloads, _ := c.revealedSet(ev[1])
		if h := setHash(c.ctx, payloads); !bytes.Equal(h[:], ev[0].Payload) {
			return guilty(OffenceBadEcho, "its echo does not match the round-1 set it revealed")
		}
		return unfounded("the echo matches the reveal")

	case OffenceDisagreement:
		if c.group == nil {
			return nil, false // needs our own transcript
		}
		if !one(RoundConfirm) {
			return unfounded("its evidence is not one confirm message")
		}
		if !bytes.Equal(ev[0].Payload, c.transcript[:]) {
			return guilty(OffenceDisagreement, "it confirmed a different transcript from ours")
		}
		return unfounded("the confirmation matches ours")
	}
	// A false complaint is judged from the complaint itself; nobody
	// complains about one.
	return unfounded("%s is not an offence one complains of", cp.offence)
}
