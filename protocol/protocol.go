// Package protocol holds what participants and coordinators say to each
// other in FROST(Ed25519, SHA-512) signing (RFC 9591), and the group
// configuration both sides share.
//
// The types are plain values (fixed-size byte arrays, no curve objects) so
// that they map one to one onto protobuf messages and test scripts. The
// curve arithmetic stays inside github.com/bytemare/frost; [Group.Frost] and
// the To/From helpers convert at the boundary.
//
// A signature takes two rounds, the first of which can run ahead of time:
//
//	coordinator                      participant i
//	     |------- CommitRequest{n} ------->|  preprocess: n fresh nonce pairs,
//	     |<------ CommitResponse ----------|  kept secret in the NonceStore
//	     |                                 |
//	     |------- SignRequest ------------>|  check, mark nonce spent durably,
//	     |<------ SignResponse ------------|  then release the share
//
// The coordinator sums t shares into an ordinary 64-byte Ed25519 signature.
package protocol

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
)

// ParticipantID names a member of a group: 1 to MaxSigners.
type ParticipantID = uint16

// SessionID names one signature of one message by one quorum. A participant
// signs at most once per session, ever.
type SessionID [16]byte

func (s SessionID) String() string { return hex.EncodeToString(s[:]) }

// Commitment is a participant's public commitment to one nonce pair: the
// hiding and binding nonce commitments of RFC 9591 section 5.1.
type Commitment struct {
	Signer  ParticipantID
	ID      uint64 // chosen by the participant, unique among its commitments
	Hiding  [32]byte
	Binding [32]byte
}

// SignatureShare is one participant's share of one signature: the scalar
// z_i of RFC 9591 section 5.2, little-endian.
type SignatureShare struct {
	Signer ParticipantID
	Share  [32]byte
}

// CommitRequest asks a participant for Count fresh commitments.
type CommitRequest struct {
	Count int
}

// CommitResponse carries fresh commitments, all of one participant.
type CommitResponse struct {
	Commitments []Commitment
}

// SignItem asks for a share of one signature.
type SignItem struct {
	Session     SessionID
	Message     []byte
	Commitments []Commitment // one per signer of this session, sorted by Signer
}

// SignRequest asks a participant for shares of one or more signatures, in
// one round trip. A participant answers all items or none.
type SignRequest struct {
	Items []SignItem
}

// SignResponse carries the shares for a SignRequest, in the order of its items.
type SignResponse struct {
	Shares []SignatureShare
}

// Code classifies why a participant refused a request.
type Code uint8

// Refusal codes. They travel on the wire; do not renumber.
const (
	CodeInternal          Code = 0 // the participant failed (disk, config)
	CodeMalformed         Code = 1 // the request is not well formed
	CodeUnknownCommitment Code = 2 // the commitment was never issued by this participant
	CodeNonceSpent        Code = 3 // the commitment was already used: a replay
	CodeSessionReplayed   Code = 4 // the session was already signed
	CodePolicy            Code = 5 // the operator's policy declines
	CodeUnavailable       Code = 6 // busy or shutting down; try another participant
)

var codeNames = [...]string{"internal", "malformed", "unknown commitment", "nonce spent", "session replayed", "policy", "unavailable"}

func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", uint8(c))
}

// Sentinel errors matching each refusal code, for errors.Is.
var (
	ErrInternal          = errors.New("participant internal error")
	ErrMalformed         = errors.New("malformed request")
	ErrUnknownCommitment = errors.New("unknown commitment")
	ErrNonceSpent        = errors.New("nonce already spent")
	ErrSessionReplayed   = errors.New("session already signed")
	ErrPolicy            = errors.New("refused by policy")
	ErrUnavailable       = errors.New("participant unavailable")
)

var codeErrs = [...]error{ErrInternal, ErrMalformed, ErrUnknownCommitment, ErrNonceSpent, ErrSessionReplayed, ErrPolicy, ErrUnavailable}

// Refusal is a participant's reasoned "no". It matches the sentinel error of
// its code with errors.Is.
type Refusal struct {
	Code   Code
	Detail string
}

// Refuse returns a Refusal with a formatted detail.
func Refuse(code Code, format string, args ...any) *Refusal {
	return &Refusal{Code: code, Detail: fmt.Sprintf(format, args...)}
}

func (r *Refusal) Error() string { return r.Code.String() + ": " + r.Detail }

// Is makes errors.Is(r, ErrNonceSpent) and the like work.
func (r *Refusal) Is(target error) bool {
	return int(r.Code) < len(codeErrs) && codeErrs[r.Code] == target
}

// AsRefusal returns err as a Refusal, classifying errors that are not one
// by the sentinel they wrap (CodeInternal if none).
func AsRefusal(err error) *Refusal {
	var r *Refusal
	if errors.As(err, &r) {
		return r
	}
	for code, sentinel := range codeErrs {
		if errors.Is(err, sentinel) {
			return &Refusal{Code: Code(code), Detail: err.Error()}
		}
	}
	return &Refusal{Code: CodeInternal, Detail: err.Error()}
}

// Member is one participant of a group and its public key share.
type Member struct {
	ID          ParticipantID
	PublicShare [32]byte
}

// Group is the public configuration of a threshold key: any Threshold of
// the MaxSigners members can sign for PublicKey.
type Group struct {
	Threshold  uint16
	MaxSigners uint16
	PublicKey  ed25519.PublicKey
	Members    []Member // sorted by ID
}

// Member returns the member with this id.
func (g *Group) Member(id ParticipantID) (Member, bool) {
	for _, m := range g.Members {
		if m.ID == id {
			return m, true
		}
	}
	return Member{}, false
}

// IDs returns the member ids in order.
func (g *Group) IDs() []ParticipantID {
	ids := make([]ParticipantID, len(g.Members))
	for i, m := range g.Members {
		ids[i] = m.ID
	}
	return ids
}
