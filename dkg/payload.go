package dkg

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/frostd/frostd/protocol"
)

// Payload layouts, all big-endian. They are decoded strictly: one encoding
// per value, exact lengths, nothing trailing.
//
//	commit:    hpke key (32) | count u16 | count x point (32) | proof (64, keygen only)
//	echo:      round-1 set hash (32)
//	share:     HPKE encapsulated key (32) | ciphertext (48)
//	confirm:   transcript hash (32)
//	reveal:    evidence
//	complaint: accused u16 | offence u8 | evidence | key length u8 | key
//	evidence:  count u16 | count x (length u32 | Message.MarshalBinary)

const (
	hashSize  = 32
	pointSize = 32
	proofSize = 64 // R | z of a Schnorr proof of knowledge

	// maxEvidence bounds the messages in a reveal or complaint: a round-1
	// set and the echoes that differed from it.
	maxEvidence = 2 * MaxParticipants
)

var errPayload = errors.New("malformed payload")

// round1 is the content of a RoundCommit message.
type round1 struct {
	hpkeKey    [32]byte
	commitment [][pointSize]byte // keygen: t points; refresh: t-1 (the constant term is zero)
	proof      []byte            // keygen: R | z; refresh: empty
}

func (r round1) encode() []byte {
	b := make([]byte, 0, 32+2+len(r.commitment)*pointSize+len(r.proof))
	b = append(b, r.hpkeKey[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.commitment)))
	for _, c := range r.commitment {
		b = append(b, c[:]...)
	}
	return append(b, r.proof...)
}

// decodeRound1 decodes a commit payload of a ceremony of this kind and
// threshold. Points are checked later (validateRound1).
func decodeRound1(b []byte, k kind, t uint16) (round1, error) {
	want, proof := k.commitmentLen(t), 0
	if k == kindKeygen {
		proof = proofSize
	}
	if len(b) != 32+2+int(want)*pointSize+proof {
		return round1{}, fmt.Errorf("%w: a %s commit payload for threshold %d is %d bytes, got %d", errPayload, k, t, 32+2+int(want)*pointSize+proof, len(b))
	}
	var r round1
	copy(r.hpkeKey[:], b)
	if got := binary.BigEndian.Uint16(b[32:34]); got != want {
		return round1{}, fmt.Errorf("%w: commitment of %d points, want %d", errPayload, got, want)
	}
	r.commitment = make([][pointSize]byte, want)
	off := 34
	for i := range r.commitment {
		copy(r.commitment[i][:], b[off:])
		off += pointSize
	}
	if proof > 0 {
		r.proof = append([]byte(nil), b[off:]...)
	}
	return r, nil
}

func encodeEvidence(b []byte, ms []Message) ([]byte, error) {
	if len(ms) > maxEvidence {
		return nil, fmt.Errorf("dkg: %d evidence messages, at most %d", len(ms), maxEvidence)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(ms)))
	for _, m := range ms {
		enc, err := m.MarshalBinary()
		if err != nil {
			return nil, err
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(enc)))
		b = append(b, enc...)
	}
	return b, nil
}

// decodeEvidence reads an evidence list from the front of b and returns
// the rest.
func decodeEvidence(b []byte) ([]Message, []byte, error) {
	if len(b) < 2 {
		return nil, nil, fmt.Errorf("%w: evidence list is truncated", errPayload)
	}
	n := int(binary.BigEndian.Uint16(b))
	if n > maxEvidence {
		return nil, nil, fmt.Errorf("%w: %d evidence messages, at most %d", errPayload, n, maxEvidence)
	}
	b = b[2:]
	ms := make([]Message, 0, min(n, len(b)/(messageHeaderSize+signatureSize)+1))
	for i := range n {
		if len(b) < 4 {
			return nil, nil, fmt.Errorf("%w: evidence message %d is truncated", errPayload, i)
		}
		l := binary.BigEndian.Uint32(b)
		if uint64(l) > uint64(len(b)-4) {
			return nil, nil, fmt.Errorf("%w: evidence message %d claims %d bytes, %d remain", errPayload, i, l, len(b)-4)
		}
		var m Message
		if err := m.UnmarshalBinary(b[4 : 4+l]); err != nil {
			return nil, nil, fmt.Errorf("%w: evidence message %d: %w", errPayload, i, err)
		}
		ms = append(ms, m)
		b = b[4+l:]
	}
	return ms, b, nil
}

func encodeReveal(ms []Message) ([]byte, error) { return encodeEvidence(nil, ms) }

func decodeReveal(b []byte) ([]Message, error) {
	ms, rest, err := decodeEvidence(b)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the reveal", errPayload, len(rest))
	}
	return ms, nil
}

// complaint is the content of a RoundComplaint message: the complainer
// names who is at fault and why, and gives what lets every other
// participant check the claim on its own.
type complaint struct {
	accused  protocol.ParticipantID
	offence  Offence
	evidence []Message
	key      []byte // OffenceBadShare: the complainer's HPKE private key for this ceremony
}

func (c complaint) encode() ([]byte, error) {
	if len(c.key) > 255 {
		return nil, fmt.Errorf("dkg: revealed key of %d bytes", len(c.key))
	}
	b := binary.BigEndian.AppendUint16(nil, c.accused)
	b = append(b, byte(c.offence))
	b, err := encodeEvidence(b, c.evidence)
	if err != nil {
		return nil, err
	}
	b = append(b, byte(len(c.key)))
	return append(b, c.key...), nil
}

func decodeComplaint(b []byte) (complaint, error) {
	if len(b) < 3 {
		return complaint{}, fmt.Errorf("%w: complaint is truncated", errPayload)
	}
	c := complaint{accused: binary.BigEndian.Uint16(b), offence: Offence(b[2])}
	if !c.offence.valid() {
		return complaint{}, fmt.Errorf("%w: unknown offence %d", errPayload, b[2])
	}
	ev, rest, err := decodeEvidence(b[3:])
	if err != nil {
		return complaint{}, err
	}
	if len(rest) < 1 || int(rest[0]) != len(rest)-1 {
		return complaint{}, fmt.Errorf("%w: complaint key length does not match the %d bytes left", errPayload, len(rest))
	}
	c.evidence = ev
	if rest[0] > 0 {
		c.key = append([]byte(nil), rest[1:]...)
	}
	return c, nil
}
