package membership

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hashicorp/memberlist"
)

// Role says what a node does in the cluster.
type Role string

const (
	// RoleParticipant holds a key share and answers signing rounds.
	RoleParticipant Role = "participant"
	// RoleCoordinator runs signing sessions and dials the participants.
	RoleCoordinator Role = "coordinator"
)

// Meta is what a node advertises about itself to the rest of the cluster.
type Meta struct {
	Role Role
	// Name is the node's memberlist name (Config.Name). It is not part of
	// the encoded metadata: receivers fill it in from the node name, so the
	// two cannot disagree.
	Name string
	// ParticipantID is the participant's id in the group, 1 to
	// protocol.MaxSigners; zero for a coordinator.
	ParticipantID uint16
	// GRPCAddr is where the node serves the signing protocol, in any form
	// gRPC can dial. Required for participants, whom the coordinator dials.
	GRPCAddr string
}

// ErrMetaTooLarge reports metadata whose encoding exceeds memberlist's
// MetaMaxSize. In practice only a very long GRPCAddr gets there.
var ErrMetaTooLarge = errors.New("membership: metadata too large")

// The encoding, version 1:
//
//	version  1 byte (1)
//	role     1 byte (1 participant, 2 coordinator)
//	flags    1 byte (bit 0: leaving; other bits reserved, ignored)
//	id       2 bytes, big-endian
//	grpcLen  uvarint
//	grpcAddr grpcLen bytes
//
// A version 1 decoder ignores anything after grpcAddr, so a later release
// may append fields without breaking nodes that have not upgraded yet; a
// change that old nodes must not misread bumps the version instead.
//
// The leaving flag exists because memberlist does not tell its event
// delegate whether a node left or failed (the Node it passes to NotifyLeave
// always says StateAlive: hashicorp/memberlist#266, #321). Node.Leave first
// re-advertises its metadata with the flag set, waits until that has been
// gossiped, and only then calls memberlist's Leave; receivers report
// EventLeave on seeing the flag.
const metaVersion = 1

const (
	roleByteParticipant = 1
	roleByteCoordinator = 2

	flagLeaving = 1 << 0

	metaHeaderLen = 5 // version, role, flags, id
)

// validate checks m as a description of a node (not its Name, which belongs
// to the node's config).
func (m Meta) validate() error {
	switch m.Role {
	case RoleParticipant:
		if m.ParticipantID == 0 {
			return errors.New("membership: a participant needs a ParticipantID from 1 up; set Meta.ParticipantID to its id in the group")
		}
		if m.GRPCAddr == "" {
			return errors.New("membership: a participant needs a GRPCAddr for the coordinator to dial; set Meta.GRPCAddr")
		}
	case RoleCoordinator:
		if m.ParticipantID != 0 {
			return fmt.Errorf("membership: a coordinator has no ParticipantID, got %d; leave Meta.ParticipantID zero", m.ParticipantID)
		}
	default:
		return fmt.Errorf("membership: unknown role %q; use %q or %q", m.Role, RoleParticipant, RoleCoordinator)
	}
	return nil
}

// encodeMeta checks m and returns its wire form, at most
// memberlist.MetaMaxSize bytes.
func encodeMeta(m Meta, leaving bool) ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	role := byte(roleByteCoordinator)
	if m.Role == RoleParticipant {
		role = roleByteParticipant
	}
	var flags byte
	if leaving {
		flags |= flagLeaving
	}
	b := make([]byte, 0, metaHeaderLen+binary.MaxVarintLen64+len(m.GRPCAddr))
	b = append(b, metaVersion, role, flags)
	b = binary.BigEndian.AppendUint16(b, m.ParticipantID)
	b = binary.AppendUvarint(b, uint64(len(m.GRPCAddr)))
	b = append(b, m.GRPCAddr...)
	if len(b) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("%w: %d bytes encoded, memberlist allows %d; shorten Meta.GRPCAddr (%d bytes)",
			ErrMetaTooLarge, len(b), memberlist.MetaMaxSize, len(m.GRPCAddr))
	}
	return b, nil
}

// decodeMeta parses metadata received from the node called name.
func decodeMeta(name string, b []byte) (m Meta, leaving bool, err error) {
	if len(b) < metaHeaderLen {
		return Meta{}, false, fmt.Errorf("membership: metadata of %q is %d bytes, too short for a frostd node", name, len(b))
	}
	if b[0] != metaVersion {
		return Meta{}, false, fmt.Errorf("membership: metadata of %q has version %d, this build reads %d; run the same frostd release on every node", name, b[0], metaVersion)
	}
	m = Meta{Name: name, ParticipantID: binary.BigEndian.Uint16(b[3:5])}
	switch b[1] {
	case roleByteParticipant:
		m.Role = RoleParticipant
	case roleByteCoordinator:
		m.Role = RoleCoordinator
	default:
		return Meta{}, false, fmt.Errorf("membership: metadata of %q has unknown role byte %d", name, b[1])
	}
	leaving = b[2]&flagLeaving != 0
	rest := b[metaHeaderLen:]
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)-k) {
		return Meta{}, false, fmt.Errorf("membership: metadata of %q has a truncated GRPCAddr", name)
	}
	m.GRPCAddr = string(rest[k : k+int(n)])
	if err := m.validate(); err != nil {
		return Meta{}, false, fmt.Errorf("metadata of %q: %w", name, err)
	}
	return m, leaving, nil
}
