package grpctransport

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/frostd/frostd/dkg"
	frostdv1 "github.com/frostd/frostd/proto/frostd/v1"
	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/signer"
)

func sampleCommitment(signer protocol.ParticipantID, id uint64) protocol.Commitment {
	c := protocol.Commitment{Signer: signer, ID: id}
	for i := range c.Hiding {
		c.Hiding[i], c.Binding[i] = byte(i)+byte(signer), byte(255-i)
	}
	return c
}

func sampleSignRequest() protocol.SignRequest {
	return protocol.SignRequest{Items: []protocol.SignItem{
		{Session: protocol.SessionID{1, 2, 3}, Message: []byte("hello"), Commitments: []protocol.Commitment{sampleCommitment(1, 7), sampleCommitment(3, 1<<63)}},
		{Session: protocol.SessionID{15: 9}, Message: []byte{}, Commitments: []protocol.Commitment{sampleCommitment(65535, 0)}},
	}}
}

// wire sends a message through its encoding, as the network would.
func wire[M proto.Message](t testing.TB, m M) M {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	out := m.ProtoReflect().New().Interface().(M)
	if err := proto.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRoundTrips(t *testing.T) {
	req := sampleSignRequest()
	gotReq, err := signRequestFromProto(wire(t, signRequestToProto(req)))
	if err != nil {
		t.Fatal(err)
	}
	// Empty messages come back as nil or empty; both sign the same.
	gotReq.Items[1].Message = []byte{}
	if !reflect.DeepEqual(gotReq, req) {
		t.Errorf("SignRequest round trip:\n got %+v\nwant %+v", gotReq, req)
	}

	resp := protocol.SignResponse{Shares: []protocol.SignatureShare{{Signer: 2, Share: [32]byte{1, 2, 31: 3}}}}
	if got, err := signResponseFromProto(wire(t, signResponseToProto(resp))); err != nil || !reflect.DeepEqual(got, resp) {
		t.Errorf("SignResponse round trip: %+v, %v", got, err)
	}
	cr := protocol.CommitResponse{Commitments: []protocol.Commitment{sampleCommitment(4, 99)}}
	if got, err := commitResponseFromProto(wire(t, commitResponseToProto(cr))); err != nil || !reflect.DeepEqual(got, cr) {
		t.Errorf("CommitResponse round trip: %+v, %v", got, err)
	}
	if got, err := commitRequestFromProto(wire(t, commitRequestToProto(protocol.CommitRequest{Count: 64}))); err != nil || got.Count != 64 {
		t.Errorf("CommitRequest round trip: %+v, %v", got, err)
	}
	g, _, err := dkg.DealRandom(2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := GroupFromProto(wire(t, GroupToProto(g))); err != nil || !got.Equal(g) {
		t.Errorf("group round trip: %+v, %v", got, err)
	}
}

func TestFromProtoNamesTheField(t *testing.T) {
	m := signRequestToProto(sampleSignRequest())
	m.Items[1].Commitments[0].Binding = m.Items[1].Commitments[0].Binding[:31]
	_, err := signRequestFromProto(m)
	var r *protocol.Refusal
	if !errors.As(err, &r) || r.Code != protocol.CodeMalformed || r.Detail != "item 1: commitment 0 binding point is 31 bytes, want 32" {
		t.Errorf("got %v", err)
	}
}

// statusOverWire sends a status error through its encoding, as gRPC does.
func statusOverWire(t *testing.T, err error) error {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("%v is not a status error", err)
	}
	return status.ErrorProto(wire(t, st.Proto()))
}

func TestRefusalMapping(t *testing.T) {
	cases := []struct {
		code     protocol.Code
		grpc     codes.Code
		sentinel error
	}{
		{protocol.CodeInternal, codes.Internal, protocol.ErrInternal},
		{protocol.CodeMalformed, codes.InvalidArgument, protocol.ErrMalformed},
		{protocol.CodeUnknownCommitment, codes.FailedPrecondition, protocol.ErrUnknownCommitment},
		{protocol.CodeNonceSpent, codes.AlreadyExists, protocol.ErrNonceSpent},
		{protocol.CodeSessionReplayed, codes.AlreadyExists, protocol.ErrSessionReplayed},
		{protocol.CodePolicy, codes.PermissionDenied, protocol.ErrPolicy},
		{protocol.CodeUnavailable, codes.Unavailable, protocol.ErrUnavailable},
	}
	for _, c := range cases {
		orig := protocol.Refuse(c.code, "because %d", c.code)
		wrapped := errors.Join(errors.New("context"), orig)
		sent := statusOverWire(t, refusalStatus(wrapped))
		if status.Code(sent) != c.grpc {
			t.Errorf("%v: status %v, want %v", c.code, status.Code(sent), c.grpc)
		}
		got := participantError(context.Background(), 4, "addr", sent)
		var r *protocol.Refusal
		if !errors.As(got, &r) || !reflect.DeepEqual(r, orig) {
			t.Errorf("%v: rebuilt %#v, want %#v", c.code, r, orig)
		}
		if !errors.Is(got, c.sentinel) {
			t.Errorf("%v: %v does not match %v", c.code, got, c.sentinel)
		}
		if status.Code(got) != c.grpc {
			t.Errorf("%v: status.Code of the rebuilt error is %v", c.code, status.Code(got))
		}
	}
	// A sentinel wrapped without a Refusal is classified by it.
	sent := statusOverWire(t, refusalStatus(errors.Join(errors.New("store"), protocol.ErrSessionReplayed)))
	if got := participantError(context.Background(), 1, "a", sent); !errors.Is(got, protocol.ErrSessionReplayed) {
		t.Errorf("wrapped sentinel: %v", got)
	}
	// A status without details (not from a frostd participant) is mapped by code.
	if got := participantError(context.Background(), 1, "a", status.Error(codes.Unavailable, "down")); !errors.Is(got, protocol.ErrUnavailable) {
		t.Errorf("plain Unavailable: %v", got)
	}
	// A refusal code newer than this build is kept, and matches nothing.
	st, _ := status.New(codes.Internal, "x").WithDetails(&frostdv1.Refusal{Code: 42, Detail: "new"})
	var r *protocol.Refusal
	if got := participantError(context.Background(), 1, "a", st.Err()); !errors.As(got, &r) || r.Code != 42 || errors.Is(got, protocol.ErrInternal) {
		t.Errorf("unknown refusal code: %#v", r)
	}
}

func TestSignerMapping(t *testing.T) {
	cases := []struct {
		err  error
		code codes.Code
		want error
	}{
		{errors.Join(signer.ErrUnavailable, errors.New("2 of 5 usable")), codes.Unavailable, signer.ErrUnavailable},
		{errors.Join(signer.ErrRefused, protocol.ErrPolicy, signer.ErrUnavailable), codes.PermissionDenied, signer.ErrRefused},
		{errors.Join(errors.New("message 3"), signer.ErrMessageTooLarge), codes.ResourceExhausted, signer.ErrMessageTooLarge},
		{context.DeadlineExceeded, codes.DeadlineExceeded, context.DeadlineExceeded},
	}
	for _, c := range cases {
		sent := statusOverWire(t, signerStatus(c.err))
		if status.Code(sent) != c.code {
			t.Errorf("%v: status %v, want %v", c.err, status.Code(sent), c.code)
		}
		got := coordinatorError(context.Background(), "addr", sent, true)
		if !errors.Is(got, c.want) {
			t.Errorf("%v: client error %v does not match %v", c.err, got, c.want)
		}
	}
	// A call cut by a closing connection, not by the caller, is unavailability.
	if got := coordinatorError(context.Background(), "a", status.Error(codes.Canceled, "closing"), true); !errors.Is(got, signer.ErrUnavailable) || errors.Is(got, context.Canceled) {
		t.Errorf("connection closing: %v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := coordinatorError(ctx, "a", status.Error(codes.Canceled, "cancelled"), true); !errors.Is(got, context.Canceled) || errors.Is(got, signer.ErrUnavailable) {
		t.Errorf("caller cancelled: %v", got)
	}
	// Waiting in vain for a connection is unavailability too.
	timedOut, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	got := coordinatorError(timedOut, "a", status.Error(codes.DeadlineExceeded, "waiting"), false)
	if !errors.Is(got, context.DeadlineExceeded) || !errors.Is(got, signer.ErrUnavailable) {
		t.Errorf("deadline passed while not connected: %v", got)
	}
}
