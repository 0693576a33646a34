package dkg

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hpke"
	"encoding/binary"
	"fmt"

	"github.com/frostd/frostd/protocol"
)

// Shares travel end to end encrypted with HPKE (RFC 9180, base mode,
// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305) to a key the
// recipient made for this ceremony alone and announced, signed, in round 1.
// The ceremony id and parameters, the sender and the recipient are the
// associated data, so a relay can neither read a share nor pass it off as
// another's. Base mode does not authenticate the sender; the sender's
// identity signature over the ciphertext does.

var (
	shareKEM  = hpke.DHKEM(ecdh.X25519())
	shareKDF  = hpke.HKDFSHA256()
	shareAEAD = hpke.ChaCha20Poly1305()
)

const (
	shareInfo       = "frostd-dkg-v1 share"
	shareEncSize    = 32                // X25519 encapsulated key
	sharePayloadLen = shareEncSize + 48 // 32-byte scalar + 16-byte tag
)

func shareAAD(id CeremonyID, ctx [hashSize]byte, from, to protocol.ParticipantID) []byte {
	b := append([]byte(shareInfo+"\x00"), id[:]...)
	b = append(b, ctx[:]...)
	b = binary.BigEndian.AppendUint16(b, from)
	return binary.BigEndian.AppendUint16(b, to)
}

// checkShareKey checks that a peer's announced key is one a share can be
// sealed to: HPKE refuses low-order X25519 points when encapsulating.
func checkShareKey(b [32]byte) error {
	pk, err := shareKEM.NewPublicKey(b[:])
	if err != nil {
		return err
	}
	_, _, err = hpke.NewSender(pk, shareKDF, shareAEAD, []byte(shareInfo))
	return err
}

func sealShare(to [32]byte, aad, share []byte) ([]byte, error) {
	pk, err := shareKEM.NewPublicKey(to[:])
	if err != nil {
		return nil, fmt.Errorf("recipient's HPKE key: %w", err)
	}
	enc, s, err := hpke.NewSender(pk, shareKDF, shareAEAD, []byte(shareInfo))
	if err != nil {
		return nil, fmt.Errorf("HPKE setup: %w", err)
	}
	ct, err := s.Seal(aad, share)
	if err != nil {
		return nil, fmt.Errorf("HPKE seal: %w", err)
	}
	return append(enc, ct...), nil
}

func openShare(k hpke.PrivateKey, aad, payload []byte) ([]byte, error) {
	if len(payload) != sharePayloadLen {
		return nil, fmt.Errorf("sealed share is %d bytes, want %d", len(payload), sharePayloadLen)
	}
	r, err := hpke.NewRecipient(payload[:shareEncSize], k, shareKDF, shareAEAD, []byte(shareInfo))
	if err != nil {
		return nil, fmt.Errorf("HPKE setup: %w", err)
	}
	pt, err := r.Open(aad, payload[shareEncSize:])
	if err != nil {
		return nil, fmt.Errorf("HPKE open: %w", err)
	}
	return pt, nil
}

// revealedKey parses a private key revealed in a complaint and checks it
// is the one whose public half was announced.
func revealedKey(b []byte, announced [32]byte) (hpke.PrivateKey, error) {
	k, err := shareKEM.NewPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("revealed HPKE key does not parse: %w", err)
	}
	if !bytes.Equal(k.PublicKey().Bytes(), announced[:]) {
		return nil, fmt.Errorf("revealed HPKE key is not the one announced in round 1")
	}
	return k, nil
}
