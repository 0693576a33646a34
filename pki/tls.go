package pki

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
)

// ServerTLS returns a TLS 1.3 server configuration for the node whose
// files f names: it presents the node's certificate and requires every
// client to present a certificate of the cluster CA. With allowedRoles,
// the handshake also fails for clients of other roles; with none, any
// certificate of the cluster is accepted and the services decide.
func ServerTLS(f Files, allowedRoles ...Role) (*tls.Config, error) {
	pool, cert, err := load(f)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}
	return RequirePeer(cfg, allowRoles(allowedRoles)), nil
}

// ClientTLS returns a TLS 1.3 client configuration for the node whose
// files f names: it presents the node's certificate and trusts only
// servers with a certificate of the cluster CA that is valid for the
// address dialled. With allowedRoles, the handshake also fails for
// servers of other roles.
func ClientTLS(f Files, allowedRoles ...Role) (*tls.Config, error) {
	pool, cert, err := load(f)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
	}
	return RequirePeer(cfg, allowRoles(allowedRoles)), nil
}

// RequirePeer returns a copy of cfg whose handshakes also fail unless
// check accepts the peer's identity, after every check cfg already makes.
// The transport uses it to insist that the server dialled as participant
// 3 has a certificate for participant 3.
func RequirePeer(cfg *tls.Config, check func(Identity) error) *tls.Config {
	c := cfg.Clone()
	prev := cfg.VerifyConnection
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		if prev != nil {
			if err := prev(cs); err != nil {
				return err
			}
		}
		id, err := ConnectionIdentity(cs)
		if err != nil {
			return err
		}
		if check == nil {
			return nil
		}
		return check(id)
	}
	return c
}

func allowRoles(roles []Role) func(Identity) error {
	if len(roles) == 0 {
		return nil
	}
	return func(id Identity) error {
		if !slices.Contains(roles, id.Role) {
			return fmt.Errorf("peer %s has a role not allowed here (allowed: %v)", id, roles)
		}
		return nil
	}
}

// load reads the cluster CA and the node's key pair, and checks that the
// node's certificate was issued by that CA and carries an identity, so a
// mix-up of files fails here and not in every handshake.
func load(f Files) (*x509.CertPool, tls.Certificate, error) {
	caPEM, err := os.ReadFile(f.CA)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("pki: reading the cluster CA certificate: %w", err)
	}
	var cas []*x509.Certificate
	for rest := caPEM; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, tls.Certificate{}, fmt.Errorf("pki: %s: %w", f.CA, err)
		}
		if !c.IsCA {
			return nil, tls.Certificate{}, fmt.Errorf("pki: %s holds %q, which is not a CA certificate; pass the cluster's ca.crt", f.CA, c.Subject.CommonName)
		}
		cas = append(cas, c)
	}
	if len(cas) == 0 {
		return nil, tls.Certificate{}, fmt.Errorf("pki: %s holds no PEM certificate; pass the cluster's ca.crt", f.CA)
	}
	pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("pki: loading the node certificate %s and key %s: %w", f.Cert, f.Key, err)
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, tls.Certificate{}, fmt.Errorf("pki: %s: %w", f.Cert, err)
		}
		pair.Leaf = leaf
	}
	issued := errors.New("no CA matches")
	for _, ca := range cas {
		if issued = leaf.CheckSignatureFrom(ca); issued == nil {
			break
		}
	}
	if issued != nil {
		return nil, tls.Certificate{}, fmt.Errorf("pki: %s was not issued by the CA in %s (%v); use the ca.crt of the cluster that issued it", f.Cert, f.CA, issued)
	}
	if _, err := IdentityOf(leaf); err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("pki: %s: %w", f.Cert, err)
	}
	pool := x509.NewCertPool()
	for _, ca := range cas {
		pool.AddCert(ca)
	}
	return pool, pair, nil
}

// Identity returns the identity in the node certificate f names.
func (f Files) Identity() (Identity, error) {
	b, err := os.ReadFile(f.Cert)
	if err != nil {
		return Identity{}, fmt.Errorf("pki: %w", err)
	}
	c, err := parseCert(b)
	if err != nil {
		return Identity{}, fmt.Errorf("pki: %s: %w", f.Cert, err)
	}
	return IdentityOf(c)
}
