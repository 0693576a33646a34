package dkg

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"hash"

	"github.com/frostd/frostd/protocol"
)

// The hashes a ceremony agrees on. Each is SHA-256 over a label and
// fixed-size or length-prefixed fields, so no two inputs encode alike.

type hasher struct{ h hash.Hash }

func newHasher(label string) hasher {
	h := hasher{sha256.New()}
	h.bytes([]byte(label))
	return h
}

func (h hasher) u16(v uint16) { h.h.Write(binary.BigEndian.AppendUint16(nil, v)) }

func (h hasher) bytes(b []byte) {
	h.h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(b))))
	h.h.Write(b)
}

func (h hasher) sum() (out [hashSize]byte) {
	h.h.Sum(out[:0])
	return out
}

// contextHash binds everything the participants must agree on before they
// start: the kind, id, threshold and roster, and for a refresh the group
// being refreshed. Every signature covers it, so participants configured
// differently reject each other's messages instead of producing a key.
func contextHash(k kind, id CeremonyID, t uint16, roster []ed25519.PublicKey, old *protocol.Group) [hashSize]byte {
	h := newHasher("frostd-dkg-v1 context")
	h.u16(uint16(k))
	h.bytes(id[:])
	h.u16(t)
	h.u16(uint16(len(roster)))
	for _, pk := range roster {
		h.bytes(pk)
	}
	if old != nil {
		h.bytes(old.PublicKey)
		for _, m := range old.Members {
			h.u16(m.ID)
			h.bytes(m.PublicShare[:])
		}
	}
	return h.sum()
}

// setHash is the hash of a round-1 set as one participant received it: the
// payload of every participant's commit message, in id order.
func setHash(ctx [hashSize]byte, payloads [][]byte) [hashSize]byte {
	h := newHasher("frostd-dkg-v1 round-1 set")
	h.bytes(ctx[:])
	for i, p := range payloads {
		h.u16(uint16(i + 1))
		h.bytes(p)
	}
	return h.sum()
}

// transcriptHash is what the confirmation round compares: the ceremony,
// the resulting group (key and every public key share) and the round-1 set
// it came from.
func transcriptHash(ctx [hashSize]byte, id CeremonyID, g *protocol.Group, set [hashSize]byte) [hashSize]byte {
	h := newHasher("frostd-dkg-v1 confirm")
	h.bytes(ctx[:])
	h.bytes(id[:])
	h.u16(g.Threshold)
	h.u16(g.MaxSigners)
	h.bytes(g.PublicKey)
	for _, m := range g.Members {
		h.u16(m.ID)
		h.bytes(m.PublicShare[:])
	}
	h.bytes(set[:])
	return h.sum()
}

// checkPoint checks an element received from a peer as RFC 9591 section
// 6.5 asks: canonical, not the identity, in the prime-order subgroup.
func checkPoint(b [pointSize]byte) error { return protocol.CheckElement(b) }
