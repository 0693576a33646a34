package grpctransport

import (
	"crypto/tls"
	"math"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"

	"github.com/frostd/frostd/coordinator"
	"github.com/frostd/frostd/participant"
)

// ServerOptions returns the options of a grpc.Server that serves frostd:
// mutual TLS with tlsConf (from pki.ServerTLS) and a limit of maxRecv
// bytes on every request (from ParticipantRecvLimit or
// CoordinatorRecvLimit). A larger request is refused with
// RESOURCE_EXHAUSTED before it is read, and the server goes on serving.
func ServerOptions(tlsConf *tls.Config, maxRecv int) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.Creds(credentials.NewTLS(tlsConf)),
		grpc.MaxRecvMsgSize(maxRecv),
	}
}

// Upper bounds, in bytes, of the encoding of the parts of a request,
// beyond the messages themselves (tags, lengths, varints).
const (
	commitmentWire = 2 + 6 + 11 + 2*(2+32) // field, signer, id, two points
	itemWire       = 6 + 2 + 16 + 6        // field, session, message tag and length
	slack          = 1 << 10
)

// ParticipantRecvLimit returns the largest request a participant with
// this policy, in a group of n members, must accept: a SignRequest of
// Policy.MaxBatch items of Policy.MaxMessageSize bytes, each with n
// commitments. Zero policy limits count as participant's defaults.
func ParticipantRecvLimit(pol participant.Policy, n uint16) int {
	msg := pol.MaxMessageSize
	if msg <= 0 {
		msg = participant.DefaultMaxMessageSize
	}
	batch := pol.MaxBatch
	if batch <= 0 {
		batch = participant.DefaultMaxBatch
	}
	return capInt32(float64(batch)*float64(msg+itemWire+int(n)*commitmentWire) + slack)
}

// CoordinatorRecvLimit returns the largest request a coordinator with this
// configuration must accept: a ClientSignRequest of Config.MaxBatch
// messages of Config.MaxMessageSize bytes, or a push of maxPush
// commitments (zero: DefaultMaxPush). Zero configuration limits count as
// the coordinator's defaults.
func CoordinatorRecvLimit(cfg coordinator.Config, maxPush int) int {
	msg := cfg.MaxMessageSize
	if msg <= 0 {
		msg = 1 << 20
	}
	batch := cfg.MaxBatch
	if batch <= 0 {
		batch = 256
	}
	if maxPush <= 0 {
		maxPush = DefaultMaxPush
	}
	sign := float64(batch) * float64(msg+6)
	push := float64(maxPush) * commitmentWire
	return capInt32(max(sign, push) + slack)
}

func capInt32(n float64) int {
	return int(min(n, math.MaxInt32))
}

// dialOptions are the options of every client connection: mutual TLS and
// a reconnection backoff short enough that a restarted node is used again
// within seconds.
func dialOptions(tlsConf *tls.Config, extra []grpc.DialOption) []grpc.DialOption {
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(credentials.NewTLS(tlsConf)),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 3 * time.Second},
			MinConnectTimeout: 5 * time.Second,
		}),
	}
	return append(opts, extra...)
}
