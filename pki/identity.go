package pki

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// Role is what a certificate's holder is in the cluster.
type Role string

// The roles a certificate can carry.
const (
	// RoleParticipant holds a key share and answers coordinators.
	RoleParticipant Role = "participant"
	// RoleCoordinator gathers shares into signatures for clients.
	RoleCoordinator Role = "coordinator"
	// RoleClient asks a coordinator for signatures.
	RoleClient Role = "client"
)

// Roles lists every role.
var Roles = []Role{RoleParticipant, RoleCoordinator, RoleClient}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !slices.Contains(Roles, r) {
		return "", fmt.Errorf("unknown role %q: use participant, coordinator or client", s)
	}
	return r, nil
}

// uriScheme is the scheme of the URI SAN that carries an identity.
const uriScheme = "frostd"

// Identity is who a certificate says its holder is.
type Identity struct {
	Role Role
	// Name is the coordinator's or client's name; for a participant, the
	// informational name in the certificate's common name.
	Name string
	// ParticipantID is the participant's id in the group, 1 to 65535; zero
	// for other roles.
	ParticipantID uint16
}

func (id Identity) String() string {
	if id.Role == RoleParticipant {
		return fmt.Sprintf("participant %d (%s)", id.ParticipantID, id.Name)
	}
	return string(id.Role) + " " + id.Name
}

// URI returns the URI subject alternative name that encodes the identity,
// such as frostd://participant/3 or frostd://client/billing.
func (id Identity) URI() *url.URL {
	key := id.Name
	if id.Role == RoleParticipant {
		key = strconv.Itoa(int(id.ParticipantID))
	}
	return &url.URL{Scheme: uriScheme, Host: string(id.Role), Path: "/" + key}
}

// Validate checks that the identity can be put in a certificate.
func (id Identity) Validate() error {
	if _, err := ParseRole(string(id.Role)); err != nil {
		return err
	}
	if err := checkName(id.Name); err != nil {
		return err
	}
	switch {
	case id.Role == RoleParticipant && id.ParticipantID == 0:
		return errors.New("a participant certificate needs its participant id (1 to 65535)")
	case id.Role != RoleParticipant && id.ParticipantID != 0:
		return fmt.Errorf("a %s certificate carries no participant id (got %d); only participants have one", id.Role, id.ParticipantID)
	}
	return nil
}

func checkName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("name %q must be 1 to 64 characters", name)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return fmt.Errorf("name %q may only use letters, digits, '.', '_' and '-'", name)
		}
	}
	if name == "." || name == ".." || name == "ca" {
		return fmt.Errorf("name %q is reserved; choose another", name)
	}
	return nil
}

// IdentityOf reads the identity a certificate carries. It does not verify
// the certificate: call it on a certificate from a verified chain.
func IdentityOf(cert *x509.Certificate) (Identity, error) {
	var found *url.URL
	for _, u := range cert.URIs {
		if u.Scheme != uriScheme {
			continue
		}
		if found != nil {
			return Identity{}, fmt.Errorf("certificate %q carries two frostd identities (%s and %s)", cert.Subject.CommonName, found, u)
		}
		found = u
	}
	if found == nil {
		return Identity{}, fmt.Errorf("certificate %q carries no frostd:// URI identity; issue node certificates with frostd certs issue", cert.Subject.CommonName)
	}
	id, err := parseURI(found)
	if err != nil {
		return Identity{}, fmt.Errorf("certificate %q: %w", cert.Subject.CommonName, err)
	}
	if id.Role == RoleParticipant {
		id.Name = cert.Subject.CommonName
	} else if cert.Subject.CommonName != id.Name {
		return Identity{}, fmt.Errorf("certificate names %q in its identity %s but %q in its common name", id.Name, found, cert.Subject.CommonName)
	}
	return id, nil
}

func parseURI(u *url.URL) (Identity, error) {
	role, err := ParseRole(u.Host)
	if err != nil {
		return Identity{}, fmt.Errorf("identity %s: %w", u, err)
	}
	key, ok := strings.CutPrefix(u.Path, "/")
	if !ok || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || u.RawPath != "" {
		return Identity{}, fmt.Errorf("identity %s is not of the form frostd://ROLE/NAME", u)
	}
	id := Identity{Role: role}
	if role == RoleParticipant {
		n, err := strconv.ParseUint(key, 10, 16)
		if err != nil || n == 0 || key != strconv.FormatUint(n, 10) {
			return Identity{}, fmt.Errorf("identity %s: participant id must be a number from 1 to 65535", u)
		}
		id.ParticipantID = uint16(n)
		return id, nil
	}
	if err := checkName(key); err != nil {
		return Identity{}, fmt.Errorf("identity %s: %w", u, err)
	}
	id.Name = key
	return id, nil
}

// ErrUnauthenticated means a peer presented no certificate verified
// against the cluster CA: the connection is not mutual TLS.
var ErrUnauthenticated = errors.New("peer is not authenticated by a cluster certificate")

// ConnectionIdentity returns the identity of the peer of a verified TLS
// connection.
func ConnectionIdentity(cs tls.ConnectionState) (Identity, error) {
	if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return Identity{}, ErrUnauthenticated
	}
	return IdentityOf(cs.VerifiedChains[0][0])
}

// PeerIdentity returns the authenticated identity of the peer of a gRPC
// call, from the certificate it presented and the server verified. It
// fails with an error wrapping ErrUnauthenticated when the call did not
// come over mutual TLS.
func PeerIdentity(ctx context.Context) (Identity, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return Identity{}, fmt.Errorf("no peer in the call's context: %w", ErrUnauthenticated)
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return Identity{}, fmt.Errorf("call from %v is not over TLS: %w", p.Addr, ErrUnauthenticated)
	}
	id, err := ConnectionIdentity(info.State)
	if err != nil {
		return Identity{}, fmt.Errorf("call from %v: %w", p.Addr, err)
	}
	return id, nil
}
