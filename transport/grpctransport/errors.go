package grpctransport

import (
	"context"
	"errors"
	"fmt"
	"math"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	frostdv1 "github.com/frostd/frostd/proto/frostd/v1"
	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/signer"
)

// How errors cross the wire.
//
// A participant's refusal becomes a status whose code is chosen from the
// refusal code (refusalCodes) and whose details carry the Refusal itself,
// so that the caller rebuilds the identical *protocol.Refusal and
// errors.Is(err, protocol.ErrNonceSpent) holds on both sides. The status
// message is the participant's full error text, with its context.
//
// A coordinator's failure to sign becomes a status whose code is chosen
// from the signer sentinel it wraps (signerStatus), and the client maps the
// code back (coordinatorError).

// refusalCodes maps each protocol.Code to its gRPC status code.
var refusalCodes = map[protocol.Code]codes.Code{
	protocol.CodeInternal:          codes.Internal,
	protocol.CodeMalformed:         codes.InvalidArgument,
	protocol.CodeUnknownCommitment: codes.FailedPrecondition,
	protocol.CodeNonceSpent:        codes.AlreadyExists,
	protocol.CodeSessionReplayed:   codes.AlreadyExists,
	protocol.CodePolicy:            codes.PermissionDenied,
	protocol.CodeUnavailable:       codes.Unavailable,
}

// refusalStatus turns a participant's (or a push's) error into a status
// error with a Refusal in its details.
func refusalStatus(err error) error {
	r := protocol.AsRefusal(err)
	code, ok := refusalCodes[r.Code]
	if !ok {
		code = codes.Unknown
	}
	st := status.New(code, err.Error())
	withRefusal, derr := st.WithDetails(&frostdv1.Refusal{Code: frostdv1.RefusalCode(r.Code), Detail: r.Detail})
	if derr != nil {
		return st.Err()
	}
	return withRefusal.Err()
}

// remoteError is an error reported by the far end of a call. Its text is
// the far end's, and it matches, with errors.Is and errors.As, the
// rebuilt refusal or the sentinels its status maps to, and the gRPC status
// itself (status.Code works on it).
type remoteError struct {
	msg  string
	errs []error
}

func (e *remoteError) Error() string   { return e.msg }
func (e *remoteError) Unwrap() []error { return e.errs }

// refusalFromStatus returns the Refusal in a status's details, if any.
func refusalFromStatus(st *status.Status) *protocol.Refusal {
	for _, d := range st.Details() {
		if r, ok := d.(*frostdv1.Refusal); ok {
			code := protocol.CodeInternal
			if c := r.GetCode(); c >= 0 && c <= math.MaxUint8 {
				code = protocol.Code(c)
			}
			return &protocol.Refusal{Code: code, Detail: r.GetDetail()}
		}
	}
	return nil
}

// participantError turns the error of a call to a participant into what a
// coordinator.Transport returns: the participant's refusal when it sent
// one, else an error wrapping the protocol sentinel nearest to the status
// code (protocol.ErrUnavailable for network failures), and ctx.Err() when
// the caller's context ended.
func participantError(ctx context.Context, to protocol.ParticipantID, addr string, err error) error {
	st := status.Convert(err)
	errs := []error{st.Err()}
	if r := refusalFromStatus(st); r != nil {
		errs = append(errs, r)
	} else if ctx.Err() != nil {
		errs = append(errs, ctx.Err(), protocol.ErrUnavailable)
	} else {
		switch st.Code() {
		case codes.InvalidArgument, codes.ResourceExhausted:
			errs = append(errs, protocol.ErrMalformed)
		case codes.FailedPrecondition:
			errs = append(errs, protocol.ErrUnknownCommitment)
		case codes.AlreadyExists:
			errs = append(errs, protocol.ErrNonceSpent)
		case codes.PermissionDenied, codes.Unauthenticated:
			errs = append(errs, protocol.ErrPolicy)
		case codes.Internal, codes.Unknown, codes.Unimplemented, codes.DataLoss:
			errs = append(errs, protocol.ErrInternal)
		default: // Unavailable, a closing connection, a server-side deadline
			errs = append(errs, protocol.ErrUnavailable)
		}
	}
	return &remoteError{msg: fmt.Sprintf("participant %d at %s: %s", to, addr, st.Message()), errs: errs}
}

// signerStatus turns a coordinator's failure to sign into a status error.
func signerStatus(err error) error {
	code := codes.Unknown
	switch {
	case errors.Is(err, signer.ErrMessageTooLarge):
		code = codes.ResourceExhausted
	case errors.Is(err, signer.ErrRefused):
		code = codes.PermissionDenied
	case errors.Is(err, signer.ErrUnavailable):
		code = codes.Unavailable
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, signer.ErrBadSignature):
		code = codes.Internal
	}
	return status.Error(code, err.Error())
}

// coordinatorError turns the error of a call to a coordinator into an
// error wrapping the signer sentinel its status maps to:
//
//	UNAVAILABLE                        signer.ErrUnavailable (also: coordinator unreachable)
//	PERMISSION_DENIED, UNAUTHENTICATED signer.ErrRefused
//	RESOURCE_EXHAUSTED                 signer.ErrMessageTooLarge
//	DEADLINE_EXCEEDED                  context.DeadlineExceeded
//	CANCELLED                          context.Canceled, or signer.ErrUnavailable
//	                                   when the connection closed under the call
//
// and ctx.Err() whenever the caller's context ended. A call that ended
// while there was no connection to the coordinator (connected false) also
// wraps signer.ErrUnavailable, whatever ended it. A Refusal in the details
// (from PushCommitments) is rebuilt too.
func coordinatorError(ctx context.Context, addr string, err error, connected bool) error {
	st := status.Convert(err)
	errs := []error{st.Err()}
	msg := st.Message()
	if !connected && st.Code() != codes.Unavailable {
		errs = append(errs, signer.ErrUnavailable)
		msg = "no connection to the coordinator (is it running, and is the address right?): " + msg
	}
	switch st.Code() {
	case codes.Unavailable:
		errs = append(errs, signer.ErrUnavailable)
	case codes.PermissionDenied, codes.Unauthenticated:
		errs = append(errs, signer.ErrRefused)
	case codes.ResourceExhausted:
		errs = append(errs, signer.ErrMessageTooLarge)
	case codes.DeadlineExceeded:
		if ctx.Err() == nil {
			errs = append(errs, context.DeadlineExceeded)
		}
	case codes.Canceled:
		if ctx.Err() == nil {
			errs = append(errs, signer.ErrUnavailable)
		}
	}
	if ctx.Err() != nil {
		errs = append(errs, ctx.Err())
	}
	if r := refusalFromStatus(st); r != nil {
		errs = append(errs, r)
	}
	return &remoteError{msg: fmt.Sprintf("coordinator at %s: %s", addr, msg), errs: errs}
}
