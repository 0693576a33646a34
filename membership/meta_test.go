package membership

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/memberlist"
)

func TestMetaRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		meta    Meta
		leaving bool
	}{
		{Meta{Role: RoleParticipant, Name: "p7", ParticipantID: 7, GRPCAddr: "10.0.0.7:9000"}, false},
		{Meta{Role: RoleParticipant, Name: "p65535", ParticipantID: 65535, GRPCAddr: "dns:///p.example:443"}, true},
		{Meta{Role: RoleCoordinator, Name: "c", GRPCAddr: "[::1]:9000"}, false},
		{Meta{Role: RoleCoordinator, Name: "c"}, true}, // a coordinator need not serve
	} {
		b, err := encodeMeta(tc.meta, tc.leaving)
		if err != nil {
			t.Fatalf("encode %+v: %v", tc.meta, err)
		}
		got, leaving, err := decodeMeta(tc.meta.Name, b)
		if err != nil {
			t.Fatalf("decode %+v: %v", tc.meta, err)
		}
		if got != tc.meta || leaving != tc.leaving {
			t.Fatalf("round trip of %+v leaving=%v gave %+v leaving=%v", tc.meta, tc.leaving, got, leaving)
		}
	}
}

// The wire form is shared by every node of a cluster, across releases:
// this pins it byte for byte.
func TestMetaWireFormat(t *testing.T) {
	b, err := encodeMeta(Meta{Role: RoleParticipant, ParticipantID: 0x0102, GRPCAddr: "h:1"}, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{1, 1, 1, 0x01, 0x02, 3, 'h', ':', '1'}
	if !bytes.Equal(b, want) {
		t.Fatalf("encoding = % x, want % x", b, want)
	}
	// A later release may append fields; this one must still read the rest.
	if m, _, err := decodeMeta("x", append(b, 0xff, 0xee)); err != nil || m.GRPCAddr != "h:1" {
		t.Fatalf("with trailing bytes: %+v, %v", m, err)
	}
}

func TestMetaSizeLimit(t *testing.T) {
	// 5 header bytes + a 2-byte length + the address.
	fits := Meta{Role: RoleParticipant, ParticipantID: 1, GRPCAddr: strings.Repeat("a", memberlist.MetaMaxSize-7)}
	b, err := encodeMeta(fits, true)
	if err != nil || len(b) != memberlist.MetaMaxSize {
		t.Fatalf("a %d-byte encoding: len %d, err %v; want exactly MetaMaxSize, no error", memberlist.MetaMaxSize, len(b), err)
	}
	over := fits
	over.GRPCAddr += "a"
	if _, err := encodeMeta(over, false); !errors.Is(err, ErrMetaTooLarge) {
		t.Fatalf("one byte over: err = %v, want ErrMetaTooLarge", err)
	}
}

func TestMetaInvalid(t *testing.T) {
	for _, tc := range []struct {
		meta Meta
		want string
	}{
		{Meta{Role: RoleParticipant, GRPCAddr: "h:1"}, "needs a ParticipantID"},
		{Meta{Role: RoleParticipant, ParticipantID: 1}, "needs a GRPCAddr"},
		{Meta{Role: RoleCoordinator, ParticipantID: 1}, "has no ParticipantID"},
		{Meta{Role: "signer", ParticipantID: 1, GRPCAddr: "h:1"}, "unknown role"},
		{Meta{}, "unknown role"},
	} {
		if _, err := encodeMeta(tc.meta, false); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("encode %+v: err = %v, want it to say %q", tc.meta, err, tc.want)
		}
	}
}

func TestDecodeMetaRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"header only in part", []byte{1, 1, 0, 0}, "too short"},
		{"future version", []byte{2, 1, 0, 0, 1, 0}, "version 2"},
		{"unknown role", []byte{1, 9, 0, 0, 1, 0}, "unknown role byte 9"},
		{"address cut short", []byte{1, 1, 0, 0, 1, 5, 'a', 'b'}, "truncated"},
		{"length cut short", []byte{1, 1, 0, 0, 1, 0x80}, "truncated"},
		{"participant zero", []byte{1, 1, 0, 0, 0, 1, 'a'}, "needs a ParticipantID"},
	} {
		if _, _, err := decodeMeta("n", tc.b); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to say %q", tc.name, err, tc.want)
		}
	}
}

// Metadata comes from the network: decoding must never panic, and what it
// accepts must survive a round trip.
func FuzzDecodeMeta(f *testing.F) {
	for _, m := range []Meta{
		{Role: RoleParticipant, ParticipantID: 3, GRPCAddr: "127.0.0.1:9003"},
		{Role: RoleCoordinator},
	} {
		b, err := encodeMeta(m, false)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{1, 1, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, leaving, err := decodeMeta("n", b)
		if err != nil {
			return
		}
		again, err := encodeMeta(m, leaving)
		if err != nil {
			if errors.Is(err, ErrMetaTooLarge) && len(b) > memberlist.MetaMaxSize {
				return // memberlist would not have carried it
			}
			t.Fatalf("decoded %+v from % x, but cannot encode it: %v", m, b, err)
		}
		m2, leaving2, err := decodeMeta("n", again)
		if err != nil || m2 != m || leaving2 != leaving {
			t.Fatalf("round trip of %+v: %+v, %v", m, m2, err)
		}
	})
}
