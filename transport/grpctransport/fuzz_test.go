package grpctransport

import (
	"errors"
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/frostd/frostd/dkg"
	frostdv1 "github.com/frostd/frostd/proto/frostd/v1"
	"github.com/frostd/frostd/protocol"
)

// The fuzz targets feed arbitrary bytes, as they could arrive from the
// network, through protobuf decoding and the ...FromProto conversions.
// They check that a conversion never panics, refuses only with a
// malformed Refusal, and that what it accepts converts back to the same
// message.

func seed(f *testing.F, m proto.Message) {
	b, err := proto.Marshal(m)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
}

func checkRefusal(t *testing.T, err error) {
	t.Helper()
	var r *protocol.Refusal
	if !errors.As(err, &r) || r.Code != protocol.CodeMalformed {
		t.Fatalf("refused with %v, want a malformed Refusal", err)
	}
}

func FuzzSignRequestFromProto(f *testing.F) {
	seed(f, signRequestToProto(sampleSignRequest()))
	seed(f, &frostdv1.SignRequest{Items: []*frostdv1.SignItem{{Session: make([]byte, 15)}}})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m frostdv1.SignRequest
		if proto.Unmarshal(b, &m) != nil {
			return
		}
		r, err := signRequestFromProto(&m)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		again, err := signRequestFromProto(signRequestToProto(r))
		if err != nil || len(again.Items) != len(r.Items) {
			t.Fatalf("accepted request does not survive a round trip: %v", err)
		}
		for i := range r.Items {
			if again.Items[i].Session != r.Items[i].Session || !reflect.DeepEqual(again.Items[i].Commitments, r.Items[i].Commitments) || string(again.Items[i].Message) != string(r.Items[i].Message) {
				t.Fatalf("item %d changed in a round trip", i)
			}
		}
	})
}

func FuzzCommitmentsFromProto(f *testing.F) {
	seed(f, &frostdv1.PushCommitmentsRequest{Commitments: commitmentsToProto([]protocol.Commitment{sampleCommitment(2, 5), sampleCommitment(2, 6)})})
	seed(f, &frostdv1.PushCommitmentsRequest{Commitments: []*frostdv1.Commitment{{Signer: 1 << 20}}})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m frostdv1.CommitResponse // same wire form as PushCommitmentsRequest
		if proto.Unmarshal(b, &m) != nil {
			return
		}
		r, err := commitResponseFromProto(&m)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		for _, c := range r.Commitments {
			_ = c.Validate() // checking the points must not panic either
		}
		if again, err := commitResponseFromProto(commitResponseToProto(r)); err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("accepted commitments do not survive a round trip: %v", err)
		}
	})
}

func FuzzSignResponseFromProto(f *testing.F) {
	seed(f, signResponseToProto(protocol.SignResponse{Shares: []protocol.SignatureShare{{Signer: 3, Share: [32]byte{9}}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m frostdv1.SignResponse
		if proto.Unmarshal(b, &m) != nil {
			return
		}
		r, err := signResponseFromProto(&m)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if again, err := signResponseFromProto(signResponseToProto(r)); err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("accepted response does not survive a round trip: %v", err)
		}
	})
}

func FuzzGroupFromProto(f *testing.F) {
	g, _, err := dkg.DealRandom(2, 3)
	if err != nil {
		f.Fatal(err)
	}
	seed(f, GroupToProto(g))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m frostdv1.GroupInfoResponse
		if proto.Unmarshal(b, &m) != nil {
			return
		}
		g, err := GroupFromProto(&m)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		_ = g.Validate() // must not panic
		if again, err := GroupFromProto(GroupToProto(g)); err != nil || !again.Equal(g) {
			t.Fatalf("accepted group does not survive a round trip: %v", err)
		}
	})
}
