package dkgnet

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/frostd/frostd/dkg"
	frostdv1 "github.com/frostd/frostd/proto/frostd/v1"
)

func seedStatus(f *testing.F) {
	out, err := dkg.RunLocal(2, 3)
	if err != nil {
		f.Fatal(err)
	}
	m := dkg.Message{Round: dkg.RoundEcho, From: 1, Payload: make([]byte, 32), Signature: make([]byte, 64)}
	b, _ := m.MarshalBinary()
	for _, st := range []*frostdv1.DkgStepResponse{
		{Messages: [][]byte{b}, Waiting: []uint32{2, 3}},
		{Done: true, Group: groupToProto(out.Group), Transcript: make([]byte, 32)},
		{Done: true, Error: "dkg: participant 2 is at fault", Culprits: []uint32{2}},
	} {
		enc, err := proto.Marshal(st)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
	}
}

// FuzzStatusFromProto: any bytes either fail to convert with an error or
// convert to a Status that survives a round trip unchanged.
func FuzzStatusFromProto(f *testing.F) {
	seedStatus(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var m frostdv1.DkgStepResponse
		if proto.Unmarshal(b, &m) != nil {
			return
		}
		st, err := statusFromProto(&m)
		if err != nil {
			return
		}
		if st.Done && st.Err == "" && (st.Group == nil || len(st.Transcript) != 32) {
			t.Fatal("a successful status without a group and transcript converted")
		}
		back, err := statusToProto(st)
		if err != nil {
			t.Fatalf("a converted status does not convert back: %v", err)
		}
		st2, err := statusFromProto(back)
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if len(st2.Messages) != len(st.Messages) || st2.Done != st.Done || st2.Err != st.Err || !bytes.Equal(st2.Transcript, st.Transcript) {
			t.Fatal("round trip changed the status")
		}
		for i := range st.Messages {
			x, _ := st.Messages[i].MarshalBinary()
			y, _ := st2.Messages[i].MarshalBinary()
			if !bytes.Equal(x, y) {
				t.Fatalf("round trip changed message %d", i)
			}
		}
	})
}

// FuzzGroupFromProto: a group that converts is valid and round-trips.
func FuzzGroupFromProto(f *testing.F) {
	out, err := dkg.RunLocal(2, 3)
	if err != nil {
		f.Fatal(err)
	}
	enc, _ := proto.Marshal(groupToProto(out.Group))
	f.Add(enc)
	f.Fuzz(func(t *testing.T, b []byte) {
		var m frostdv1.GroupInfoResponse
		if proto.Unmarshal(b, &m) != nil {
			return
		}
		g, err := groupFromProto(&m)
		if err != nil {
			return
		}
		if err := g.Validate(); err != nil {
			t.Fatalf("an invalid group converted: %v", err)
		}
		g2, err := groupFromProto(groupToProto(g))
		if err != nil || !sameGroup(g, g2) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
