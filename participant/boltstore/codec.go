package boltstore

import (
	"encoding/binary"
	"fmt"

	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/protocol"
)

// Encodings, all fixed-size and big-endian so that bbolt's key order is
// numeric order:
//
//	commitment id key     8 bytes
//	commitment            signer 2 ‖ id 8 ‖ hiding 32 ‖ binding 32 = 74 bytes
//	unspent value         slot 8 ‖ commitment
//	spent value           commitment ‖ session 16  (the tombstone)
//	sessions value        commitment id 8
const commitmentSize = 2 + 8 + 32 + 32

func idKey(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

func decodeID(k []byte) (uint64, error) {
	if len(k) != 8 {
		return 0, fmt.Errorf("commitment id key of %d bytes, want 8", len(k))
	}
	return binary.BigEndian.Uint64(k), nil
}

func encodeCommitment(c protocol.Commitment) []byte {
	b := make([]byte, 0, commitmentSize)
	b = binary.BigEndian.AppendUint16(b, c.Signer)
	b = binary.BigEndian.AppendUint64(b, c.ID)
	b = append(b, c.Hiding[:]...)
	return append(b, c.Binding[:]...)
}

func decodeCommitment(b []byte) protocol.Commitment {
	var c protocol.Commitment
	c.Signer = binary.BigEndian.Uint16(b)
	c.ID = binary.BigEndian.Uint64(b[2:])
	copy(c.Hiding[:], b[10:42])
	copy(c.Binding[:], b[42:74])
	return c
}

func encodeIndex(slot uint64, c protocol.Commitment) []byte {
	return append(binary.BigEndian.AppendUint64(nil, slot), encodeCommitment(c)...)
}

func decodeIndex(v []byte) (slot uint64, c protocol.Commitment, err error) {
	if len(v) != 8+commitmentSize {
		return 0, c, fmt.Errorf("index entry of %d bytes, want %d", len(v), 8+commitmentSize)
	}
	return binary.BigEndian.Uint64(v), decodeCommitment(v[8:]), nil
}

func encodeTombstone(t participant.Tombstone) []byte {
	return append(encodeCommitment(t.Commitment), t.Session[:]...)
}

func decodeTombstone(v []byte) (participant.Tombstone, error) {
	var t participant.Tombstone
	if len(v) != commitmentSize+len(t.Session) {
		return t, fmt.Errorf("tombstone of %d bytes, want %d", len(v), commitmentSize+len(t.Session))
	}
	t.Commitment = decodeCommitment(v)
	copy(t.Session[:], v[commitmentSize:])
	return t, nil
}
