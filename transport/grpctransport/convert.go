package grpctransport

import (
	"crypto/ed25519"
	"fmt"
	"math"

	frostdv1 "github.com/frostd/frostd/proto/frostd/v1"
	"github.com/frostd/frostd/protocol"
)

// The functions here convert between the protobuf messages and package
// protocol's values. The ...FromProto ones take what arrived from the
// network: they check every length and range and return a
// *protocol.Refusal with CodeMalformed, naming the field, for anything
// else. They never panic, whatever the input (see the fuzz tests), and
// they check form only: whether points are on the curve and commitments
// were issued is the participant's and the coordinator's business.

func malformed(format string, args ...any) *protocol.Refusal {
	return protocol.Refuse(protocol.CodeMalformed, format, args...)
}

func signerFromProto(v uint32, field string) (protocol.ParticipantID, error) {
	if v == 0 || v > math.MaxUint16 {
		return 0, malformed("%s is participant %d; participants are numbered 1 to 65535", field, v)
	}
	return protocol.ParticipantID(v), nil
}

func fixed32(b []byte, field string) ([32]byte, error) {
	var out [32]byte
	if len(b) != len(out) {
		return out, malformed("%s is %d bytes, want %d", field, len(b), len(out))
	}
	copy(out[:], b)
	return out, nil
}

func commitmentToProto(c protocol.Commitment) *frostdv1.Commitment {
	return &frostdv1.Commitment{Signer: uint32(c.Signer), Id: c.ID, Hiding: c.Hiding[:], Binding: c.Binding[:]}
}

func commitmentFromProto(m *frostdv1.Commitment, field string) (protocol.Commitment, error) {
	if m == nil {
		return protocol.Commitment{}, malformed("%s is missing", field)
	}
	var (
		c   = protocol.Commitment{ID: m.GetId()}
		err error
	)
	if c.Signer, err = signerFromProto(m.GetSigner(), field+" signer"); err != nil {
		return c, err
	}
	if c.Hiding, err = fixed32(m.GetHiding(), field+" hiding point"); err != nil {
		return c, err
	}
	if c.Binding, err = fixed32(m.GetBinding(), field+" binding point"); err != nil {
		return c, err
	}
	return c, nil
}

func commitmentsToProto(cs []protocol.Commitment) []*frostdv1.Commitment {
	out := make([]*frostdv1.Commitment, len(cs))
	for i, c := range cs {
		out[i] = commitmentToProto(c)
	}
	return out
}

func commitmentsFromProto(ms []*frostdv1.Commitment, field string) ([]protocol.Commitment, error) {
	out := make([]protocol.Commitment, len(ms))
	for i, m := range ms {
		c, err := commitmentFromProto(m, fmt.Sprintf("%s %d", field, i))
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

func commitRequestToProto(r protocol.CommitRequest) *frostdv1.CommitRequest {
	n := uint32(0)
	if r.Count > 0 {
		n = uint32(min(r.Count, math.MaxUint32))
	}
	return &frostdv1.CommitRequest{Count: n}
}

func commitRequestFromProto(m *frostdv1.CommitRequest) (protocol.CommitRequest, error) {
	if m.GetCount() == 0 {
		return protocol.CommitRequest{}, malformed("commit request asks for 0 commitments; ask for at least 1")
	}
	return protocol.CommitRequest{Count: int(m.GetCount())}, nil
}

func commitResponseToProto(r protocol.CommitResponse) *frostdv1.CommitResponse {
	return &frostdv1.CommitResponse{Commitments: commitmentsToProto(r.Commitments)}
}

func commitResponseFromProto(m *frostdv1.CommitResponse) (protocol.CommitResponse, error) {
	cs, err := commitmentsFromProto(m.GetCommitments(), "commitment")
	if err != nil {
		return protocol.CommitResponse{}, err
	}
	return protocol.CommitResponse{Commitments: cs}, nil
}

func signRequestToProto(r protocol.SignRequest) *frostdv1.SignRequest {
	items := make([]*frostdv1.SignItem, len(r.Items))
	for i, it := range r.Items {
		items[i] = &frostdv1.SignItem{Session: it.Session[:], Message: it.Message, Commitments: commitmentsToProto(it.Commitments)}
	}
	return &frostdv1.SignRequest{Items: items}
}

func signRequestFromProto(m *frostdv1.SignRequest) (protocol.SignRequest, error) {
	items := make([]protocol.SignItem, len(m.GetItems()))
	for i, it := range m.GetItems() {
		if it == nil {
			return protocol.SignRequest{}, malformed("item %d is missing", i)
		}
		if len(it.GetSession()) != len(protocol.SessionID{}) {
			return protocol.SignRequest{}, malformed("item %d: session is %d bytes, want %d", i, len(it.GetSession()), len(protocol.SessionID{}))
		}
		copy(items[i].Session[:], it.GetSession())
		items[i].Message = it.GetMessage()
		cs, err := commitmentsFromProto(it.GetCommitments(), fmt.Sprintf("item %d: commitment", i))
		if err != nil {
			return protocol.SignRequest{}, err
		}
		items[i].Commitments = cs
	}
	return protocol.SignRequest{Items: items}, nil
}

func signResponseToProto(r protocol.SignResponse) *frostdv1.SignResponse {
	shares := make([]*frostdv1.SignatureShare, len(r.Shares))
	for i, s := range r.Shares {
		shares[i] = &frostdv1.SignatureShare{Signer: uint32(s.Signer), Share: s.Share[:]}
	}
	return &frostdv1.SignResponse{Shares: shares}
}

func signResponseFromProto(m *frostdv1.SignResponse) (protocol.SignResponse, error) {
	shares := make([]protocol.SignatureShare, len(m.GetShares()))
	for i, s := range m.GetShares() {
		if s == nil {
			return protocol.SignResponse{}, malformed("share %d is missing", i)
		}
		var err error
		if shares[i].Signer, err = signerFromProto(s.GetSigner(), fmt.Sprintf("share %d signer", i)); err != nil {
			return protocol.SignResponse{}, err
		}
		if shares[i].Share, err = fixed32(s.GetShare(), fmt.Sprintf("share %d", i)); err != nil {
			return protocol.SignResponse{}, err
		}
	}
	return protocol.SignResponse{Shares: shares}, nil
}

// GroupToProto is the wire form of a group.
func GroupToProto(g *protocol.Group) *frostdv1.GroupInfoResponse {
	members := make([]*frostdv1.Member, len(g.Members))
	for i, m := range g.Members {
		members[i] = &frostdv1.Member{Id: uint32(m.ID), PublicShare: m.PublicShare[:]}
	}
	return &frostdv1.GroupInfoResponse{
		PublicKey:  g.PublicKey,
		Threshold:  uint32(g.Threshold),
		MaxSigners: uint32(g.MaxSigners),
		Members:    members,
	}
}

// GroupFromProto converts the wire form of a group; call Group.Validate to
// check that it is a usable group.
func GroupFromProto(m *frostdv1.GroupInfoResponse) (*protocol.Group, error) {
	if len(m.GetPublicKey()) != ed25519.PublicKeySize {
		return nil, malformed("group public key is %d bytes, want %d", len(m.GetPublicKey()), ed25519.PublicKeySize)
	}
	if m.GetThreshold() > math.MaxUint16 || m.GetMaxSigners() > math.MaxUint16 {
		return nil, malformed("group of %d-of-%d is beyond 65535 participants", m.GetThreshold(), m.GetMaxSigners())
	}
	g := &protocol.Group{
		Threshold:  uint16(m.GetThreshold()),
		MaxSigners: uint16(m.GetMaxSigners()),
		PublicKey:  ed25519.PublicKey(append([]byte(nil), m.GetPublicKey()...)),
		Members:    make([]protocol.Member, len(m.GetMembers())),
	}
	for i, mm := range m.GetMembers() {
		if mm == nil {
			return nil, malformed("member %d is missing", i)
		}
		var err error
		if g.Members[i].ID, err = signerFromProto(mm.GetId(), fmt.Sprintf("member %d id", i)); err != nil {
			return nil, err
		}
		if g.Members[i].PublicShare, err = fixed32(mm.GetPublicShare(), fmt.Sprintf("member %d public share", i)); err != nil {
			return nil, err
		}
	}
	return g, nil
}
