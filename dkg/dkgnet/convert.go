package dkgnet

import (
	"errors"
	"fmt"
	"math"

	"github.com/frostd/frostd/dkg"
	frostdv1 "github.com/frostd/frostd/proto/frostd/v1"
	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/transport/grpctransport"
)

// ErrMalformed wraps every error about a protobuf message that does not
// convert: a field of the wrong size or out of range.
var ErrMalformed = errors.New("dkgnet: malformed message")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

func groupToProto(g *protocol.Group) *frostdv1.GroupInfoResponse {
	if g == nil {
		return nil
	}
	return grpctransport.GroupToProto(g)
}

// groupFromProto converts a group with the transport's conversion, bounds
// it to a ceremony's size, and validates it.
func groupFromProto(m *frostdv1.GroupInfoResponse) (*protocol.Group, error) {
	if m == nil {
		return nil, malformed("the group is missing")
	}
	if m.GetMaxSigners() > dkg.MaxParticipants || len(m.GetMembers()) > dkg.MaxParticipants {
		return nil, malformed("a %d-of-%d group with %d members is beyond %d participants", m.GetThreshold(), m.GetMaxSigners(), len(m.GetMembers()), dkg.MaxParticipants)
	}
	g, err := grpctransport.GroupFromProto(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("%w: group: %v", ErrMalformed, err)
	}
	return g, nil
}

func idFromProto(v uint32, field string) (protocol.ParticipantID, error) {
	if v == 0 || v > dkg.MaxParticipants {
		return 0, malformed("%s %d is outside 1..%d", field, v, dkg.MaxParticipants)
	}
	return protocol.ParticipantID(v), nil
}

func idsFromProto(vs []uint32) []protocol.ParticipantID {
	var out []protocol.ParticipantID
	for _, v := range vs {
		if v > 0 && v <= math.MaxUint16 {
			out = append(out, protocol.ParticipantID(v))
		}
	}
	return out
}

func idsToProto(ids []protocol.ParticipantID) []uint32 {
	out := make([]uint32, len(ids))
	for i, id := range ids {
		out[i] = uint32(id)
	}
	return out
}

func ceremonyFromProto(b []byte) (dkg.CeremonyID, error) {
	var id dkg.CeremonyID
	if len(b) != len(id) {
		return id, malformed("ceremony id is %d bytes, want %d", len(b), len(id))
	}
	copy(id[:], b)
	return id, nil
}

// messagesFromProto decodes dkg messages; the ceremony checks their
// signatures.
func messagesFromProto(bs [][]byte) ([]dkg.Message, error) {
	out := make([]dkg.Message, len(bs))
	for i, b := range bs {
		if err := out[i].UnmarshalBinary(b); err != nil {
			return nil, fmt.Errorf("%w: message %d: %v", ErrMalformed, i, err)
		}
	}
	return out, nil
}

func messagesToProto(ms []dkg.Message) ([][]byte, error) {
	out := make([][]byte, len(ms))
	for i := range ms {
		b, err := ms[i].MarshalBinary()
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// Status is how a participant's ceremony stands after Begin or Step.
type Status struct {
	Messages   []dkg.Message
	Done       bool
	Err        string // why it failed; empty on success or while running
	Culprits   []protocol.ParticipantID
	Waiting    []protocol.ParticipantID
	Group      *protocol.Group // on success
	Transcript []byte          // on success, 32 bytes
}

func statusToProto(s Status) (*frostdv1.DkgStepResponse, error) {
	msgs, err := messagesToProto(s.Messages)
	if err != nil {
		return nil, err
	}
	return &frostdv1.DkgStepResponse{
		Messages:   msgs,
		Done:       s.Done,
		Error:      s.Err,
		Culprits:   idsToProto(s.Culprits),
		Waiting:    idsToProto(s.Waiting),
		Group:      groupToProto(s.Group),
		Transcript: s.Transcript,
	}, nil
}

func statusFromProto(m *frostdv1.DkgStepResponse) (Status, error) {
	msgs, err := messagesFromProto(m.GetMessages())
	if err != nil {
		return Status{}, err
	}
	s := Status{
		Messages: msgs,
		Done:     m.GetDone(),
		Err:      m.GetError(),
		Culprits: idsFromProto(m.GetCulprits()),
		Waiting:  idsFromProto(m.GetWaiting()),
	}
	if s.Done && s.Err == "" {
		if s.Group, err = groupFromProto(m.GetGroup()); err != nil {
			return Status{}, err
		}
		if len(m.GetTranscript()) != 32 {
			return Status{}, malformed("transcript hash is %d bytes, want 32", len(m.GetTranscript()))
		}
		s.Transcript = append([]byte(nil), m.GetTranscript()...)
	}
	return s, nil
}
