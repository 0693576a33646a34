// Package grpctransport carries frostd's protocol over gRPC with mutual
// TLS: it is the network edge of a cluster, the adapter between the
// protobuf API of proto/frostd/v1 and the plain values of package
// protocol. The protocol core (participant, coordinator) never sees a
// protobuf message or a certificate.
//
// # The pieces
//
//	  client (signer/frost)
//	         |  CoordinatorClient.Sign          Coordinator service
//	         v                                  (RegisterCoordinator)
//	coordinator.Service ---- Participants ----> Participant service
//	         ^          (a coordinator.Transport) (RegisterParticipant)
//	         |  CoordinatorClient.PushCommitments       |
//	         +------------------------------------------+
//
// A participant process serves its participant:
//
//	tlsConf, _ := pki.ServerTLS(files, pki.RoleCoordinator)
//	srv := grpc.NewServer(grpctransport.ServerOptions(tlsConf, grpctransport.ParticipantRecvLimit(policy, group.MaxSigners))...)
//	grpctransport.RegisterParticipant(srv, p, grpctransport.ParticipantOptions{})
//	srv.Serve(lis)
//
// A coordinator process calls its participants through Participants and
// serves clients:
//
//	tr := grpctransport.NewParticipants(clientTLS, grpctransport.ParticipantsOptions{})
//	tr.SetAddress(1, "p1.example:7001") // ... for each member, as membership learns of them
//	svc, _ := coordinator.NewService(cfg, tr)
//	srv := grpc.NewServer(grpctransport.ServerOptions(serverTLS, grpctransport.CoordinatorRecvLimit(cfg.Config, 0))...)
//	grpctransport.RegisterCoordinator(srv, svc, grpctransport.CoordinatorOptions{Group: group})
//
// # Who may call what
//
// Identities come from the peer's certificate (see package pki), never from
// a message field. Participants answer coordinators only, and p sees the
// coordinator's certificate name as its peer; the coordinator signs for
// clients only, takes pushed commitments only from participants and only
// of the id in their certificate, and describes its group to any member of
// the cluster. Other callers get PERMISSION_DENIED, and are logged. When
// dialling, the transport insists on the right server too: participant 3's
// address must answer with participant 3's certificate.
//
// # Errors across the wire
//
// A participant's refusal travels as a gRPC status (MALFORMED as
// INVALID_ARGUMENT, UNKNOWN_COMMITMENT as FAILED_PRECONDITION, NONCE_SPENT
// and SESSION_REPLAYED as ALREADY_EXISTS, POLICY as PERMISSION_DENIED,
// UNAVAILABLE as UNAVAILABLE, INTERNAL as INTERNAL) with the Refusal
// itself in the status details, and Participants rebuilds the exact
// *protocol.Refusal: errors.Is(err, protocol.ErrNonceSpent) holds on the
// coordinator as it would in process. A coordinator's failure to sign
// travels as UNAVAILABLE, PERMISSION_DENIED or RESOURCE_EXHAUSTED
// (signer.ErrUnavailable, ErrRefused, ErrMessageTooLarge), and
// CoordinatorClient maps those back. Errors also match their gRPC status,
// so status.Code(err) works on them.
//
// # Limits
//
// Requests are checked field by field on arrival (a session of the wrong
// length, a point that is not 32 bytes: INVALID_ARGUMENT, naming the
// field), and each server takes requests up to a size derived from its
// policy (ParticipantRecvLimit, CoordinatorRecvLimit); larger ones are
// refused with RESOURCE_EXHAUSTED before they are read, and the server
// goes on serving.
package grpctransport
