// Package pki is the public key infrastructure of a frostd cluster: one
// cluster certificate authority, and a certificate for every node that
// says what the node is. Every connection in the cluster is mutual TLS 1.3
// between holders of such certificates, and the identity a server acts on
// comes from the peer's verified certificate, never from a message field.
//
// # Setting up a cluster
//
//	pki.InitCA("ca")                                   // ca/ca.crt, ca/ca.key (0600)
//	pki.Issue("ca", "p1", pki.RoleParticipant, "p1", pki.IssueOptions{ParticipantID: 1, Hosts: []string{"p1.example"}})
//	pki.Issue("ca", "coord", pki.RoleCoordinator, "coord", pki.IssueOptions{Hosts: []string{"coord.example"}})
//	pki.Issue("ca", "billing", pki.RoleClient, "billing", pki.IssueOptions{})
//
// The command line does the same: frostd certs init and frostd certs issue.
// Issue writes NAME.crt, NAME.key (0600) and a copy of ca.crt into the
// output directory: that directory is what the node needs, and ca.key
// stays on the machine that issues certificates (ideally offline).
//
// # Roles and identities
//
// A certificate names exactly one identity in exactly one URI subject
// alternative name:
//
//	frostd://participant/3        participant 3 of the group (1..65535)
//	frostd://coordinator/NAME     a coordinator called NAME
//	frostd://client/NAME          a client called NAME, which may ask for signatures
//
// NAME is 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'. The
// subject common name repeats the name for people and logs; for a
// participant it is the only place the name appears, and authorisation
// goes by the participant id alone. Certificates also carry DNS and IP
// subject alternative names for localhost, 127.0.0.1, ::1 and any extra
// hosts, which is what TLS clients check the server's address against.
//
// What each role may do is decided by the servers (package
// transport/grpctransport): participants answer coordinators only,
// coordinators sign for clients only and take pushed commitments from
// participants only, each for its own id.
//
// # Using the certificates
//
// [ServerTLS] and [ClientTLS] build *tls.Config values for TLS 1.3 with
// mutual authentication, trusting the cluster CA and nothing else (no
// system roots). Both can also refuse, during the handshake, peers whose
// role is not one of those given. On the server, [PeerIdentity] returns
// the authenticated [Identity] of a gRPC call's peer.
package pki
