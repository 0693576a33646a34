// Package frost is the signer.Signer of a FROST cluster: it signs with an
// Ed25519 identity whose private key no machine holds. A coordinator
// gathers shares from t of the cluster's n participants and sums them into
// an ordinary Ed25519 signature; this package is the client that asks it.
//
//	s, err := frost.New(ctx, frost.Config{
//		Addr:  "coordinator.internal:7000",
//		Files: pki.NodeFiles("/etc/frostd", "billing"), // ca.crt, billing.crt, billing.key
//	})
//	sig, err := s.Sign(ctx, message)
//
// The client authenticates with a client certificate of the cluster CA
// (frostd certs issue --role client) over mutual TLS 1.3, and accepts only
// a server with a coordinator certificate of the same CA. New asks the
// coordinator for the group's public key once; set Config.PublicKey to pin
// the key you expect, so that a misdirected client fails at New instead of
// signing with another identity. Every signature is checked against the
// group key before it is returned.
//
// # Errors
//
// Errors wrap the signer sentinels: signer.ErrUnavailable when the
// coordinator cannot be reached or cannot gather t participants (retry
// later), signer.ErrRefused when participants or the coordinator decline
// (by policy, or because this certificate may not sign), and
// signer.ErrMessageTooLarge over the cluster's message limit. A cancelled
// or expired context gives an error wrapping ctx.Err().
//
// # Connections
//
// One connection to the coordinator is kept and shared by concurrent
// calls, and re-established by itself when the coordinator restarts. A
// call made while there is no connection waits for one, until its
// context's deadline or Config.Timeout, whichever comes first, and then
// fails with an error wrapping both signer.ErrUnavailable and
// context.DeadlineExceeded. So a restart of the coordinator delays
// signatures instead of failing them; keep Timeout short where failing
// fast matters more.
package frost

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"

	"github.com/frostd/frostd/pki"
	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/signer"
	"github.com/frostd/frostd/transport/grpctransport"
)

// DefaultTimeout bounds a call whose context has no earlier deadline.
const DefaultTimeout = 30 * time.Second

// Config configures New.
type Config struct {
	// Addr is the coordinator's address, host:port. The host must be in
	// the coordinator certificate's names (see frostd certs issue --host).
	Addr string

	// TLS is the client's mutual TLS configuration, from pki.ClientTLS
	// with a client certificate. If nil, Files is loaded instead.
	TLS *tls.Config

	// Files names the cluster CA certificate and the client's certificate
	// and key, used when TLS is nil.
	Files pki.Files

	// Timeout bounds New's group lookup and each Sign whose context has
	// no earlier deadline; default DefaultTimeout.
	Timeout time.Duration

	// PublicKey, if set, is the group key the client expects: New fails
	// with an error wrapping signer.ErrBadKey if the coordinator signs for
	// another.
	PublicKey ed25519.PublicKey

	// DialOptions are added to the connection's own, for example
	// interceptors for tracing.
	DialOptions []grpc.DialOption
}

// Signer signs through a FROST coordinator. It is safe for concurrent use.
type Signer struct {
	client  *grpctransport.CoordinatorClient
	group   *protocol.Group
	timeout time.Duration
}

var _ signer.Signer = (*Signer)(nil)

// New connects to the coordinator at cfg.Addr and fetches the group's
// public key. Close the Signer when done.
func New(ctx context.Context, cfg Config) (*Signer, error) {
	if cfg.Addr == "" {
		return nil, errors.New("frost: Config.Addr is required: the coordinator's host:port")
	}
	conf := cfg.TLS
	if conf == nil {
		if cfg.Files == (pki.Files{}) {
			return nil, errors.New("frost: Config needs TLS or Files: a client certificate of the cluster (frostd certs issue --role client)")
		}
		var err error
		if conf, err = pki.ClientTLS(cfg.Files); err != nil {
			return nil, fmt.Errorf("frost: %w", err)
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	client, err := grpctransport.DialCoordinator(cfg.Addr, conf, cfg.DialOptions...)
	if err != nil {
		return nil, fmt.Errorf("frost: %w", err)
	}
	s := &Signer{client: client, timeout: cfg.Timeout}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	g, err := client.GroupInfo(ctx)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("frost: asking the coordinator for the group key: %w", err)
	}
	if cfg.PublicKey != nil && !cfg.PublicKey.Equal(g.PublicKey) {
		client.Close()
		return nil, fmt.Errorf("frost: the coordinator at %s signs for key %x, not the expected %x; check the address and the cluster: %w",
			cfg.Addr, []byte(g.PublicKey), []byte(cfg.PublicKey), signer.ErrBadKey)
	}
	s.group = g
	return s, nil
}

// PublicKey returns the group's public key.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.group.PublicKey }

// Group returns the group the coordinator signs for, as it described it
// at New.
func (s *Signer) Group() *protocol.Group { return s.group }

// Sign returns an Ed25519 signature of message under the group key.
func (s *Signer) Sign(ctx context.Context, message []byte) ([]byte, error) {
	sigs, err := s.SignBatch(ctx, [][]byte{message})
	if err != nil {
		return nil, err
	}
	return sigs[0], nil
}

// SignBatch signs several messages in one request, one signature each:
// cheaper than as many Sign calls, since participants answer the whole
// batch in one round trip.
func (s *Signer) SignBatch(ctx context.Context, messages [][]byte) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("frost: %w", err)
	}
	if len(messages) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	sigs, err := s.client.Sign(ctx, messages)
	if err != nil {
		return nil, fmt.Errorf("frost: %w", err)
	}
	for i, sig := range sigs {
		if err := signer.Verify(s.group.PublicKey, messages[i], sig); err != nil {
			return nil, fmt.Errorf("frost: the coordinator at %s returned an invalid signature for message %d (it may be faulty or compromised): %w", s.client.Addr(), i, err)
		}
	}
	return sigs, nil
}

// Close closes the connection to the coordinator.
func (s *Signer) Close() error { return s.client.Close() }
