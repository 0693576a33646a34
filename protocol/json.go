package protocol

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

type memberJSON struct {
	ID          ParticipantID `json:"id"`
	PublicShare string        `json:"public_share"`
}

type groupJSON struct {
	Threshold  uint16       `json:"threshold"`
	MaxSigners uint16       `json:"max_signers"`
	PublicKey  string       `json:"public_key"`
	Members    []memberJSON `json:"members"`
}

// MarshalJSON writes the group with keys in hex.
func (g Group) MarshalJSON() ([]byte, error) {
	j := groupJSON{Threshold: g.Threshold, MaxSigners: g.MaxSigners, PublicKey: hex.EncodeToString(g.PublicKey)}
	for _, m := range g.Members {
		j.Members = append(j.Members, memberJSON{ID: m.ID, PublicShare: hex.EncodeToString(m.PublicShare[:])})
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads a group written by MarshalJSON and validates it.
func (g *Group) UnmarshalJSON(b []byte) error {
	var j groupJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	pk, err := hex.DecodeString(j.PublicKey)
	if err != nil || len(pk) != ed25519.PublicKeySize {
		return fmt.Errorf("group public_key must be %d bytes of hex", ed25519.PublicKeySize)
	}
	out := Group{Threshold: j.Threshold, MaxSigners: j.MaxSigners, PublicKey: pk}
	for _, m := range j.Members {
		var mm Member
		mm.ID = m.ID
		if err := decodeHex32(m.PublicShare, &mm.PublicShare); err != nil {
			return fmt.Errorf("public_share of member %d: %w", m.ID, err)
		}
		out.Members = append(out.Members, mm)
	}
	if err := out.Validate(); err != nil {
		return err
	}
	*g = out
	return nil
}

type keyShareJSON struct {
	ID     ParticipantID `json:"id"`
	Secret string        `json:"secret"`
}

// MarshalJSON writes the share with its secret in hex. Seal the result
// before it touches a disk.
func (k KeyShare) MarshalJSON() ([]byte, error) {
	return json.Marshal(keyShareJSON{ID: k.ID, Secret: hex.EncodeToString(k.Secret[:])})
}

// UnmarshalJSON reads a share written by MarshalJSON.
func (k *KeyShare) UnmarshalJSON(b []byte) error {
	var j keyShareJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.ID == 0 {
		return fmt.Errorf("key share id is 0; members are numbered from 1")
	}
	k.ID = j.ID
	return decodeHex32(j.Secret, &k.Secret)
}

func decodeHex32(s string, out *[32]byte) error {
	b, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("not hex: %w", err)
	}
	if len(b) != 32 {
		return fmt.Errorf("%d bytes, want 32", len(b))
	}
	copy(out[:], b)
	return nil
}
