package protocol_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"filippo.io/edwards25519"

	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/protocol"
)

func point(p *edwards25519.Point) (out [32]byte) {
	copy(out[:], p.Bytes())
	return out
}

func TestCommitmentValidate(t *testing.T) {
	good := point(edwards25519.NewGeneratorPoint())
	var order4 [32]byte // y = 0: a point of order 4
	torsion, err := new(edwards25519.Point).SetBytes(order4[:])
	if err != nil {
		t.Fatal(err)
	}
	mixed := point(new(edwards25519.Point).Add(edwards25519.NewGeneratorPoint(), torsion))
	identity := point(edwards25519.NewIdentityPoint())
	nonCanonical := [32]byte{0xee} // y = p+1, a second encoding of the identity's y
	for i := 1; i < 31; i++ {
		nonCanonical[i] = 0xff
	}
	nonCanonical[31] = 0x7f
	notAPoint := [32]byte{2} // y = 2 has no x on the curve

	for _, tc := range []struct {
		name string
		pt   [32]byte
		ok   bool
	}{
		{"generator", good, true},
		{"small order", order4, false},
		{"mixed order", mixed, false},
		{"identity", identity, false},
		{"non-canonical", nonCanonical, false},
		{"not a point", notAPoint, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range []protocol.Commitment{
				{Signer: 1, Hiding: tc.pt, Binding: good},
				{Signer: 1, Hiding: good, Binding: tc.pt},
			} {
				err := c.Validate()
				if (err == nil) != tc.ok {
					t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
				}
			}
		})
	}
	if err := (protocol.Commitment{Hiding: good, Binding: good}).Validate(); err == nil {
		t.Fatal("a commitment of signer 0 validated")
	}
}

func TestRefusalMatchesSentinels(t *testing.T) {
	r := protocol.Refuse(protocol.CodeNonceSpent, "commitment %d", 7)
	if !errors.Is(r, protocol.ErrNonceSpent) || errors.Is(r, protocol.ErrPolicy) {
		t.Fatal("Refusal does not match its sentinel alone")
	}
	wrapped := fmt.Errorf("context: %w", protocol.ErrSessionReplayed)
	if got := protocol.AsRefusal(wrapped); got.Code != protocol.CodeSessionReplayed {
		t.Fatalf("AsRefusal classified %v as %v", wrapped, got.Code)
	}
	if got := protocol.AsRefusal(errors.New("disk on fire")); got.Code != protocol.CodeInternal {
		t.Fatalf("unclassified error became %v", got.Code)
	}
	if got := protocol.Code(200).String(); got != "code(200)" {
		t.Fatalf("unknown code prints as %q", got)
	}
}

func TestGroupValidate(t *testing.T) {
	g, shares, err := dkg.DealRandom(3, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	mutate := map[string]func(*protocol.Group){
		"threshold zero":      func(g *protocol.Group) { g.Threshold = 0 },
		"threshold above n":   func(g *protocol.Group) { g.Threshold = 6 },
		"short key":           func(g *protocol.Group) { g.PublicKey = g.PublicKey[:31] },
		"missing member":      func(g *protocol.Group) { g.Members = g.Members[:4] },
		"unsorted":            func(g *protocol.Group) { g.Members[0], g.Members[1] = g.Members[1], g.Members[0] },
		"duplicate shares":    func(g *protocol.Group) { g.Members[1].PublicShare = g.Members[0].PublicShare },
		"member id too large": func(g *protocol.Group) { g.Members[4].ID = 9 },
	}
	for name, f := range mutate {
		t.Run(name, func(t *testing.T) {
			c := *g
			c.Members = append([]protocol.Member(nil), g.Members...)
			c.PublicKey = append([]byte(nil), g.PublicKey...)
			f(&c)
			if err := c.Validate(); err == nil {
				t.Fatal("invalid group validated")
			}
		})
	}
	ks := shares[0]
	ks.Secret[3] ^= 1
	if _, err := ks.Frost(g); err == nil {
		t.Fatal("a key share that does not match its public share was accepted")
	}
}

func TestGroupJSONRoundTrip(t *testing.T) {
	g, shares, err := dkg.DealRandom(2, 3)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	var back protocol.Group
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Equal(g) {
		t.Fatalf("round trip changed the group:\n%s", b)
	}
	bad := strings.Replace(string(b), `"threshold":2`, `"threshold":4`, 1)
	if err := json.Unmarshal([]byte(bad), &back); err == nil {
		t.Fatal("a group with threshold above n was accepted")
	}
	kb, _ := json.Marshal(shares[1])
	var ks protocol.KeyShare
	if err := json.Unmarshal(kb, &ks); err != nil || ks != shares[1] {
		t.Fatalf("key share round trip: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"id":1,"secret":"00"}`), &ks); err == nil {
		t.Fatal("a 1-byte secret was accepted")
	}
}
