package grpctransport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"

	"github.com/frostd/frostd/pki"
	frostdv1 "github.com/frostd/frostd/proto/frostd/v1"
	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/signer"
)

// CoordinatorClient calls a coordinator: clients sign through it (package
// signer/frost wraps it as a signer.Signer), participants push
// commitments to it. Its errors wrap the signer sentinels that the status
// codes map to, so errors.Is(err, signer.ErrUnavailable) and the like
// work across the wire.
//
// Calls wait for a connection to the coordinator, within their context:
// while the coordinator restarts, they are delayed rather than failed,
// and gRPC reconnects by itself. A call that ends before a connection is
// made wraps signer.ErrUnavailable as well as the context's error, so
// give calls a deadline. It is safe for concurrent use.
type CoordinatorClient struct {
	addr string
	cc   *grpc.ClientConn
	rpc  frostdv1.CoordinatorClient
}

// DialCoordinator returns a client of the coordinator at addr (host:port),
// presenting the certificate of tlsConf (from pki.ClientTLS). It does not
// connect yet; the first call does, and fails unless the server's
// certificate is a coordinator's of the cluster.
func DialCoordinator(addr string, tlsConf *tls.Config, opts ...grpc.DialOption) (*CoordinatorClient, error) {
	if tlsConf == nil {
		return nil, errors.New("grpctransport: DialCoordinator needs a TLS configuration (see pki.ClientTLS)")
	}
	tlsConf = pki.RequirePeer(tlsConf, func(peer pki.Identity) error {
		if peer.Role != pki.RoleCoordinator {
			return fmt.Errorf("dialled a coordinator at %s but reached %s; fix the address", addr, peer)
		}
		return nil
	})
	cc, err := grpc.NewClient(addr, dialOptions(tlsConf, opts)...)
	if err != nil {
		return nil, fmt.Errorf("grpctransport: coordinator address %q: %w", addr, err)
	}
	return &CoordinatorClient{addr: addr, cc: cc, rpc: frostdv1.NewCoordinatorClient(cc)}, nil
}

// Addr returns the coordinator's address.
func (c *CoordinatorClient) Addr() string { return c.addr }

// Close closes the connection.
func (c *CoordinatorClient) Close() error { return c.cc.Close() }

// Sign asks for one Ed25519 signature per message under the group key.
// The signatures are not verified here; signer/frost does that.
func (c *CoordinatorClient) Sign(ctx context.Context, messages [][]byte) ([][]byte, error) {
	resp, err := c.rpc.Sign(ctx, &frostdv1.ClientSignRequest{Messages: messages}, grpc.WaitForReady(true))
	if err != nil {
		return nil, c.error(ctx, err)
	}
	sigs := resp.GetSignatures()
	if len(sigs) != len(messages) {
		return nil, fmt.Errorf("coordinator at %s returned %d signatures for %d messages: %w", c.addr, len(sigs), len(messages), signer.ErrBadSignature)
	}
	return sigs, nil
}

// GroupInfo returns the group the coordinator signs for, validated.
func (c *CoordinatorClient) GroupInfo(ctx context.Context) (*protocol.Group, error) {
	resp, err := c.rpc.GroupInfo(ctx, &frostdv1.GroupInfoRequest{}, grpc.WaitForReady(true))
	if err != nil {
		return nil, c.error(ctx, err)
	}
	g, err := GroupFromProto(resp)
	if err == nil {
		err = g.Validate()
	}
	if err != nil {
		return nil, fmt.Errorf("coordinator at %s describes an invalid group: %v: %w", c.addr, err, signer.ErrBadKey)
	}
	return g, nil
}

// PushCommitments hands the coordinator commitments made ahead of time by
// the participant whose certificate this client presents; they must all
// be of that participant. A refusal is rebuilt as the *protocol.Refusal
// the coordinator sent.
func (c *CoordinatorClient) PushCommitments(ctx context.Context, cs []protocol.Commitment) error {
	_, err := c.rpc.PushCommitments(ctx, &frostdv1.PushCommitmentsRequest{Commitments: commitmentsToProto(cs)}, grpc.WaitForReady(true))
	if err != nil {
		return c.error(ctx, err)
	}
	return nil
}

func (c *CoordinatorClient) error(ctx context.Context, err error) error {
	return coordinatorError(ctx, c.addr, err, c.cc.GetState() == connectivity.Ready)
}
