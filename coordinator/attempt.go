package coordinator

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/bytemare/frost"

	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/signer"
)

// startAttempt picks a quorum for req and asks it for commitments or, when
// the pools have them, straight for shares.
func (c *Coordinator) startAttempt(now time.Time, req *request) {
	if req.attempts >= c.cfg.MaxAttempts {
		c.finish(req, nil, fmt.Errorf("coordinator: no valid signature after %d quorums: %w", req.attempts, c.failure(req)))
		return
	}
	k := len(req.messages)
	quorum, err := c.pickQuorum(req, k)
	if err != nil {
		c.finish(req, nil, err)
		return
	}
	req.attempts++
	att := &attempt{
		req:      req,
		quorum:   quorum,
		deadline: now.Add(c.cfg.AttemptTimeout),
		commits:  make(map[protocol.ParticipantID][]protocol.Commitment, len(quorum)),
		waiting:  make(map[protocol.ParticipantID]uint64, len(quorum)),
		shares:   make(map[protocol.ParticipantID][]protocol.SignatureShare, len(quorum)),
	}
	req.att = att
	for _, id := range quorum {
		m := c.members[id]
		m.inflight++
		c.useSeq++
		m.lastUsed = c.useSeq
		if len(m.pool) >= k {
			att.commits[id] = m.pool[:k:k]
			m.pool = m.pool[k:]
			continue
		}
		// Pool too small: a live commit round, topping up the pool too.
		tag := c.send(Outgoing{To: id, Commit: &protocol.CommitRequest{Count: k}}, tagInfo{member: id, att: att})
		att.waiting[id] = tag
		if m.refillTag != 0 { // this answer refills the pool; no need for both
			delete(c.tags, m.refillTag)
			m.refillTag = 0
		}
	}
	if len(att.waiting) == 0 {
		c.sendSign(now, att)
	}
}

// pickQuorum returns t members for req: reachable, honest, not yet failed
// in this request; those with enough pooled commitments first, then the
// least loaded and least recently used, so load spreads.
func (c *Coordinator) pickQuorum(req *request, k int) ([]protocol.ParticipantID, error) {
	t := int(c.group.Threshold)
	var cands []*member
	for _, id := range c.order {
		m := c.members[id]
		if m.reachable && !m.cheater && !req.excluded[id] {
			cands = append(cands, m)
		}
	}
	if len(cands) < t {
		return nil, fmt.Errorf("coordinator: %d of %d participants usable, %d needed: %w", len(cands), c.group.MaxSigners, t, c.failure(req))
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if (a.failures > 0) != (b.failures > 0) {
			return a.failures == 0
		}
		if ap, bp := len(a.pool) >= k, len(b.pool) >= k; ap != bp {
			return ap
		}
		if a.inflight != b.inflight {
			return a.inflight < b.inflight
		}
		return a.lastUsed < b.lastUsed
	})
	q := make([]protocol.ParticipantID, t)
	for i := range q {
		q[i] = cands[i].id
	}
	slices.Sort(q)
	return q, nil
}

// failure explains why a request could not complete: ErrRefused if any
// member refused by policy, else ErrUnavailable, with every reason seen.
func (c *Coordinator) failure(req *request) error {
	kind := signer.ErrUnavailable
	for _, r := range req.refusals {
		if errors.Is(r, protocol.ErrPolicy) {
			kind = signer.ErrRefused
		}
	}
	errs := append([]error{kind}, req.refusals...)
	if len(req.cheaters) > 0 {
		errs = append(errs, &CheatersError{IDs: req.cheaters})
	}
	return errors.Join(errs...)
}

func (c *Coordinator) sendSign(now time.Time, att *attempt) {
	k := len(att.req.messages)
	att.items = make([]protocol.SignItem, k)
	for j := range k {
		list := make([]protocol.Commitment, len(att.quorum))
		for i, id := range att.quorum {
			list[i] = att.commits[id][j]
		}
		att.items[j] = protocol.SignItem{Session: c.newSession(), Message: att.req.messages[j], Commitments: list}
	}
	att.deadline = now.Add(c.cfg.AttemptTimeout)
	for _, id := range att.quorum {
		tag := c.send(Outgoing{To: id, Sign: &protocol.SignRequest{Items: att.items}}, tagInfo{member: id, att: att, sign: true})
		att.waiting[id] = tag
	}
}

// aggregate sums the shares, verifies each signature once, and only on
// failure checks every share to name the cheaters.
func (c *Coordinator) aggregate(now time.Time, att *attempt) {
	sigs := make([][]byte, len(att.items))
	cheaters := map[protocol.ParticipantID]bool{}
	var fault error
	for j, item := range att.items {
		list, err := protocol.CommitmentList(item.Commitments)
		if err != nil {
			fault = err
			break
		}
		shares := make([]*frost.SignatureShare, len(att.quorum))
		for i, id := range att.quorum {
			if shares[i], err = att.shares[id][j].ToFrost(); err != nil {
				cheaters[id] = true
			}
		}
		if len(cheaters) > 0 {
			continue
		}
		var sig *frost.Signature
		protocol.Serialize(func() { sig, err = c.conf.AggregateSignatures(item.Message, shares, list, false) })
		if err == nil {
			sigs[j] = protocol.SignatureBytes(sig)
			if ed25519.Verify(c.group.PublicKey, item.Message, sigs[j]) {
				continue
			}
		}
		protocol.Serialize(func() {
			for i, id := range att.quorum {
				if c.conf.VerifySignatureShare(shares[i], item.Message, list) != nil {
					cheaters[id] = true
				}
			}
		})
		if len(cheaters) == 0 {
			fault = fmt.Errorf("signature %d does not verify yet every share does", j)
		}
	}
	if len(cheaters) == 0 && fault == nil {
		c.finish(att.req, sigs, nil)
		return
	}
	ids := make([]protocol.ParticipantID, 0, len(cheaters))
	for id := range cheaters {
		ids = append(ids, id)
		c.members[id].cheater = true
		att.req.excluded[id] = true
		if !slices.Contains(att.req.cheaters, id) {
			att.req.cheaters = append(att.req.cheaters, id)
		}
	}
	slices.Sort(ids)
	slices.Sort(att.req.cheaters)
	if len(ids) > 0 {
		att.req.refusals = append(att.req.refusals, &CheatersError{IDs: ids})
	} else {
		att.req.refusals = append(att.req.refusals, fault)
	}
	c.retry(now, att)
}

// retry abandons att and starts another attempt for its request.
func (c *Coordinator) retry(now time.Time, att *attempt) {
	c.endAttempt(att)
	c.startAttempt(now, att.req)
}

func (c *Coordinator) endAttempt(att *attempt) {
	if att.req.att != att {
		return
	}
	att.req.att = nil
	for _, id := range att.quorum {
		c.members[id].inflight--
	}
	for _, tag := range att.waiting {
		delete(c.tags, tag)
	}
	if att.items == nil {
		// No share was asked for: the commitments taken are unused.
		for id, cs := range att.commits {
			m := c.members[id]
			m.pool = append(cs, m.pool...)
		}
	}
}

func (c *Coordinator) finish(req *request, sigs [][]byte, err error) {
	if req.att != nil {
		c.endAttempt(req.att)
	}
	delete(c.requests, req.id)
	res := Result{Request: req.id, Signatures: sigs, Err: err, Attempts: req.attempts}
	if len(req.cheaters) > 0 {
		res.Cheaters = &CheatersError{IDs: slices.Clone(req.cheaters)}
	}
	c.results = append(c.results, res)
}

// refillPools asks reachable members with low pools for more commitments.
func (c *Coordinator) refillPools(now time.Time) {
	for _, id := range c.order {
		m := c.members[id]
		if !m.reachable || m.cheater || m.refillTag != 0 || len(m.pool) >= c.cfg.PoolLow || m.failures > 0 {
			continue
		}
		m.refillTag = c.send(Outgoing{To: id, Commit: &protocol.CommitRequest{Count: c.cfg.PoolBatch}}, tagInfo{member: id})
		m.refillBy = now.Add(c.cfg.AttemptTimeout)
	}
}

func (c *Coordinator) send(o Outgoing, info tagInfo) uint64 {
	c.nextTag++
	o.Tag = c.nextTag
	c.tags[o.Tag] = info
	c.outbox = append(c.outbox, o)
	return o.Tag
}

func (c *Coordinator) newSession() protocol.SessionID {
	var s protocol.SessionID
	c.sessionSeq++
	copy(s[:8], c.sessionSeed[:])
	binary.BigEndian.PutUint64(s[8:], c.sessionSeq)
	return s
}
