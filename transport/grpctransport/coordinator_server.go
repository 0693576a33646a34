package grpctransport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/frostd/frostd/coordinator"
	"github.com/frostd/frostd/pki"
	frostdv1 "github.com/frostd/frostd/proto/frostd/v1"
	"github.com/frostd/frostd/protocol"
)

// DefaultMaxPush is the most commitments one PushCommitments call may
// carry unless CoordinatorOptions says otherwise.
const DefaultMaxPush = 4096

// CoordinatorOptions adjusts RegisterCoordinator.
type CoordinatorOptions struct {
	// Group is the group the Service signs for, served by GroupInfo.
	// Required: coordinator.Service does not expose its group.
	Group *protocol.Group

	// MaxPush is the most commitments one push may carry; default
	// DefaultMaxPush.
	MaxPush int

	// Logger receives refused callers (at warn level) and failed
	// requests (at info level); nil means slog.Default().
	Logger *slog.Logger
}

// RegisterCoordinator serves svc's Coordinator service on srv:
//
//   - Sign answers callers with a client certificate only;
//   - PushCommitments takes commitments from participant certificates
//     only, each only of the id its certificate names;
//   - GroupInfo answers any certificate of the cluster.
//
// Others get PERMISSION_DENIED. srv must use mutual TLS (see
// ServerOptions, with CoordinatorRecvLimit).
func RegisterCoordinator(srv *grpc.Server, svc *coordinator.Service, opts CoordinatorOptions) error {
	if srv == nil || svc == nil {
		return errors.New("grpctransport: RegisterCoordinator needs a server and a service")
	}
	if opts.Group == nil {
		return errors.New("grpctransport: CoordinatorOptions.Group is required: pass the group the service signs for")
	}
	if err := opts.Group.Validate(); err != nil {
		return fmt.Errorf("grpctransport: %w", err)
	}
	if !bytes.Equal(opts.Group.PublicKey, svc.PublicKey()) {
		return errors.New("grpctransport: CoordinatorOptions.Group has another public key than the service signs with")
	}
	if opts.MaxPush <= 0 {
		opts.MaxPush = DefaultMaxPush
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	frostdv1.RegisterCoordinatorServer(srv, &coordinatorServer{
		svc: svc, group: opts.Group, maxPush: opts.MaxPush, log: log,
	})
	return nil
}

type coordinatorServer struct {
	frostdv1.UnimplementedCoordinatorServer
	svc     *coordinator.Service
	group   *protocol.Group
	maxPush int
	log     *slog.Logger
}

func (s *coordinatorServer) Sign(ctx context.Context, req *frostdv1.ClientSignRequest) (*frostdv1.ClientSignResponse, error) {
	const method = "Coordinator.Sign"
	id, err := callerIdentity(ctx, s.log, method)
	if err != nil {
		return nil, err
	}
	if id.Role != pki.RoleClient {
		s.log.Warn("refused a sign request from a caller that is not a client", "peer", id.String())
		return nil, status.Errorf(codes.PermissionDenied, "%s may not call %s: only client certificates may ask for signatures", id, method)
	}
	if len(req.GetMessages()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "the request carries no message; send at least one")
	}
	sigs, err := s.svc.SignBatch(ctx, req.GetMessages())
	if err != nil {
		s.log.Info("signing failed", "client", id.Name, "messages", len(req.GetMessages()), "err", err)
		return nil, signerStatus(err)
	}
	return &frostdv1.ClientSignResponse{Signatures: sigs}, nil
}

func (s *coordinatorServer) GroupInfo(ctx context.Context, _ *frostdv1.GroupInfoRequest) (*frostdv1.GroupInfoResponse, error) {
	if _, err := callerIdentity(ctx, s.log, "Coordinator.GroupInfo"); err != nil {
		return nil, err
	}
	// The service's group, not the one registered: a share refresh
	// installs new public shares (coordinator.Service.SetGroup).
	return GroupToProto(s.svc.Group()), nil
}

func (s *coordinatorServer) PushCommitments(ctx context.Context, req *frostdv1.PushCommitmentsRequest) (*frostdv1.PushCommitmentsResponse, error) {
	const method = "Coordinator.PushCommitments"
	id, err := callerIdentity(ctx, s.log, method)
	if err != nil {
		return nil, err
	}
	if id.Role != pki.RoleParticipant {
		s.log.Warn("refused commitments from a caller that is not a participant", "peer", id.String())
		return nil, refusalStatus(protocol.Refuse(protocol.CodePolicy, "%s may not call %s: only participants push commitments", id, method))
	}
	if _, ok := s.group.Member(id.ParticipantID); !ok {
		s.log.Warn("refused commitments from a participant outside the group", "peer", id.String())
		return nil, refusalStatus(protocol.Refuse(protocol.CodePolicy, "%s is not a member of this group (members are 1 to %d)", id, s.group.MaxSigners))
	}
	if n := len(req.GetCommitments()); n == 0 || n > s.maxPush {
		return nil, refusalStatus(malformed("push carries %d commitments; send 1 to %d", n, s.maxPush))
	}
	cs, err := commitmentsFromProto(req.GetCommitments(), "commitment")
	if err != nil {
		return nil, refusalStatus(err)
	}
	for i, c := range cs {
		if c.Signer != id.ParticipantID {
			s.log.Warn("refused commitments of another participant", "peer", id.String(), "signer", c.Signer)
			return nil, refusalStatus(protocol.Refuse(protocol.CodePolicy,
				"commitment %d is of participant %d, but the certificate is of participant %d: push only your own", i, c.Signer, id.ParticipantID))
		}
	}
	if err := s.svc.AddCommitments(id.ParticipantID, cs); err != nil {
		s.log.Info("refused pushed commitments", "peer", id.String(), "err", err)
		return nil, refusalStatus(err)
	}
	return &frostdv1.PushCommitmentsResponse{}, nil
}
