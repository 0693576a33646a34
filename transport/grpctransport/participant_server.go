package grpctransport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/pki"
	frostdv1 "github.com/frostd/frostd/proto/frostd/v1"
	"github.com/frostd/frostd/protocol"
)

// ParticipantOptions adjusts RegisterParticipant.
type ParticipantOptions struct {
	// Logger receives refused callers (at warn level) and refused
	// requests (at info level); nil means slog.Default().
	Logger *slog.Logger
}

// RegisterParticipant serves p's Participant service on srv. Only callers
// with a coordinator certificate of the cluster are answered; the
// coordinator's name in that certificate is the peer p sees, which p's
// Policy.Coordinators can restrict further. Others get PERMISSION_DENIED.
//
// srv must use mutual TLS (see ServerOptions, with ParticipantRecvLimit
// for p's policy); calls that arrive without a verified certificate get
// UNAUTHENTICATED.
func RegisterParticipant(srv *grpc.Server, p *participant.Participant, opts ParticipantOptions) error {
	if srv == nil || p == nil {
		return errors.New("grpctransport: RegisterParticipant needs a server and a participant")
	}
	return RegisterParticipantFunc(srv, func() *participant.Participant { return p }, opts)
}

// RegisterParticipantFunc is RegisterParticipant for a participant whose
// key can change while it serves: every call asks current for the
// participant to answer it. While current returns nil (a participant
// still awaiting its key share) calls get UNAVAILABLE.
func RegisterParticipantFunc(srv *grpc.Server, current func() *participant.Participant, opts ParticipantOptions) error {
	if srv == nil || current == nil {
		return errors.New("grpctransport: RegisterParticipantFunc needs a server and a function")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	frostdv1.RegisterParticipantServer(srv, &participantServer{current: current, log: log})
	return nil
}

type participantServer struct {
	frostdv1.UnimplementedParticipantServer
	current func() *participant.Participant
	log     *slog.Logger
}

// coordinator returns the participant to answer with and the name of the
// calling coordinator, or the status error to answer a caller that is not
// one, or any caller while the participant awaits its key.
func (s *participantServer) coordinator(ctx context.Context, method string) (*participant.Participant, string, error) {
	id, err := callerIdentity(ctx, s.log, method)
	if err != nil {
		return nil, "", err
	}
	if id.Role != pki.RoleCoordinator {
		s.log.Warn("refused a caller that is not a coordinator", "method", method, "peer", id.String())
		return nil, "", refusalStatus(protocol.Refuse(protocol.CodePolicy,
			"%s may not call %s: participants answer coordinators only (use a coordinator certificate)", id, method))
	}
	p := s.current()
	if p == nil {
		return nil, "", refusalStatus(protocol.Refuse(protocol.CodeUnavailable,
			"this participant holds no key share yet: it awaits a key generation or a dealt share (frost-dkg run or frost-dkg deal)"))
	}
	return p, id.Name, nil
}

func (s *participantServer) Commit(ctx context.Context, req *frostdv1.CommitRequest) (*frostdv1.CommitResponse, error) {
	p, peer, err := s.coordinator(ctx, "Participant.Commit")
	if err != nil {
		return nil, err
	}
	r, err := commitRequestFromProto(req)
	if err != nil {
		return nil, refusalStatus(err)
	}
	resp, err := p.Commit(peer, r)
	if err != nil {
		s.log.Info("refused a commit request", "coordinator", peer, "err", err)
		return nil, refusalStatus(err)
	}
	return commitResponseToProto(resp), nil
}

func (s *participantServer) Sign(ctx context.Context, req *frostdv1.SignRequest) (*frostdv1.SignResponse, error) {
	p, peer, err := s.coordinator(ctx, "Participant.Sign")
	if err != nil {
		return nil, err
	}
	r, err := signRequestFromProto(req)
	if err != nil {
		return nil, refusalStatus(err)
	}
	// A coordinator that has given up will not use the shares: do not
	// spend nonces for nothing.
	if err := ctx.Err(); err != nil {
		return nil, status.FromContextError(err).Err()
	}
	resp, err := p.Sign(peer, r)
	if err != nil {
		s.log.Info("refused a sign request", "coordinator", peer, "err", err)
		return nil, refusalStatus(err)
	}
	return signResponseToProto(resp), nil
}

// callerIdentity returns the verified identity of a call's peer, or an
// UNAUTHENTICATED status error (logged) if it has none.
func callerIdentity(ctx context.Context, log *slog.Logger, method string) (pki.Identity, error) {
	id, err := pki.PeerIdentity(ctx)
	if err != nil {
		log.Warn("refused an unauthenticated caller", "method", method, "err", err)
		return pki.Identity{}, status.Error(codes.Unauthenticated, fmt.Sprintf("%s needs mutual TLS with a certificate of the cluster CA: %v", method, err))
	}
	return id, nil
}
