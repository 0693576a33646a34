package dkg

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/frostd/frostd/protocol"
)

// CeremonyID names one ceremony. Draw it at random with NewCeremonyID and
// give the same value to every participant. It is bound into every
// signature and every encrypted share, so a message of one ceremony means
// nothing in another.
type CeremonyID [16]byte

// NewCeremonyID returns a random ceremony id.
func NewCeremonyID() (CeremonyID, error) {
	var id CeremonyID
	if _, err := rand.Read(id[:]); err != nil {
		return id, fmt.Errorf("dkg: reading randomness for a ceremony id: %w", err)
	}
	return id, nil
}

func (id CeremonyID) String() string { return hex.EncodeToString(id[:]) }

// Round says what a Message carries. The values travel on the wire; do not
// renumber.
type Round uint8

// Rounds of a ceremony. Commit, Echo, Share and Confirm make up a run that
// succeeds; Reveal and Complaint are sent only when something went wrong.
const (
	RoundCommit    Round = 1 // broadcast: commitment, proof of knowledge, HPKE key
	RoundEcho      Round = 2 // broadcast: hash of the round-1 set as received
	RoundShare     Round = 3 // to one participant: its secret share, encrypted
	RoundConfirm   Round = 4 // broadcast: hash of the resulting group
	RoundReveal    Round = 5 // broadcast after an echo mismatch: the round-1 set as received
	RoundComplaint Round = 6 // broadcast on abort: who is at fault, with the evidence
)

var roundNames = [...]string{"", "commit", "echo", "share", "confirm", "reveal", "complaint"}

func (r Round) String() string {
	if r.valid() {
		return roundNames[r]
	}
	return fmt.Sprintf("round(%d)", uint8(r))
}

func (r Round) valid() bool { return r >= RoundCommit && r <= RoundComplaint }

// directed reports whether messages of this round go to one participant.
func (r Round) directed() bool { return r == RoundShare }

// Message is what participants of a ceremony send each other. It is a
// plain value that maps one to one onto a protobuf message. Every message
// is signed by its sender's long-term Ed25519 identity key over the
// ceremony's parameters (id, kind, threshold, roster), the round, the
// sender, the recipient and the payload, so a relay can route messages but
// neither forge, alter nor redirect them. The payload's layout depends on
// the round; it is opaque to a transport.
type Message struct {
	Ceremony  CeremonyID
	Round     Round
	From      protocol.ParticipantID
	To        protocol.ParticipantID // 0: every participant
	Payload   []byte
	Signature []byte // Ed25519, 64 bytes
}

const (
	messageVersion    = 1
	messageHeaderSize = 1 + 16 + 1 + 2 + 2 + 4
	signatureSize     = 64

	// maxPayload bounds a payload; the largest is a reveal of n round-1
	// packages of t points each.
	maxPayload = 16 << 20
)

// ErrMalformedMessage is returned by Message.UnmarshalBinary for bytes that
// are not a message.
var ErrMalformedMessage = errors.New("dkg: malformed message")

// MarshalBinary encodes the message: a version byte, the ceremony id, the
// round, sender, recipient, the length-prefixed payload and the signature.
func (m *Message) MarshalBinary() ([]byte, error) {
	if len(m.Payload) > maxPayload {
		return nil, fmt.Errorf("dkg: payload of %d bytes is over the %d-byte limit", len(m.Payload), maxPayload)
	}
	if len(m.Signature) != signatureSize {
		return nil, fmt.Errorf("dkg: signature is %d bytes, want %d", len(m.Signature), signatureSize)
	}
	b := make([]byte, 0, messageHeaderSize+len(m.Payload)+signatureSize)
	b = append(b, messageVersion)
	b = append(b, m.Ceremony[:]...)
	b = append(b, byte(m.Round))
	b = binary.BigEndian.AppendUint16(b, m.From)
	b = binary.BigEndian.AppendUint16(b, m.To)
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Payload)))
	b = append(b, m.Payload...)
	return append(b, m.Signature...), nil
}

// UnmarshalBinary decodes what MarshalBinary encodes. It checks the layout
// only; the signature is checked by Ceremony.Step.
func (m *Message) UnmarshalBinary(b []byte) error {
	if len(b) < messageHeaderSize+signatureSize {
		return fmt.Errorf("%w: %d bytes is shorter than any message", ErrMalformedMessage, len(b))
	}
	if b[0] != messageVersion {
		return fmt.Errorf("%w: version %d, this build reads version %d", ErrMalformedMessage, b[0], messageVersion)
	}
	n := binary.BigEndian.Uint32(b[22:26])
	if n > maxPayload || int(n) != len(b)-messageHeaderSize-signatureSize {
		return fmt.Errorf("%w: payload length %d does not fit a %d-byte message", ErrMalformedMessage, n, len(b))
	}
	var out Message
	copy(out.Ceremony[:], b[1:17])
	out.Round = Round(b[17])
	out.From = binary.BigEndian.Uint16(b[18:20])
	out.To = binary.BigEndian.Uint16(b[20:22])
	out.Payload = append([]byte(nil), b[messageHeaderSize:messageHeaderSize+int(n)]...)
	out.Signature = append([]byte(nil), b[messageHeaderSize+int(n):]...)
	*m = out
	return nil
}

func (m Message) String() string {
	to := "all"
	if m.To != 0 {
		to = fmt.Sprint(m.To)
	}
	return fmt.Sprintf("%s %d->%s (%d bytes)", m.Round, m.From, to, len(m.Payload))
}

// signedBytes is what a message's signature covers. ctx binds the
// ceremony id and parameters (see contextHash).
func signedBytes(ctx [32]byte, round Round, from, to protocol.ParticipantID, payload []byte) []byte {
	const label = "frostd-dkg-v1 message\x00"
	b := make([]byte, 0, len(label)+32+5+len(payload))
	b = append(b, label...)
	b = append(b, ctx[:]...)
	b = append(b, byte(round))
	b = binary.BigEndian.AppendUint16(b, from)
	b = binary.BigEndian.AppendUint16(b, to)
	return append(b, payload...)
}
