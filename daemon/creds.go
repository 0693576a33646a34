package daemon

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// loggedTLS is gRPC's TLS credentials with refused handshakes logged: a
// peer with a certificate of another CA, an expired one, the wrong role or
// none at all is refused by TLS before any handler runs, so this is where
// an operator learns of it.
type loggedTLS struct {
	credentials.TransportCredentials
	log *slog.Logger
}

// serverCreds returns the grpc.Creds option for a node's server.
func serverCreds(conf *tls.Config, log *slog.Logger) grpc.ServerOption {
	return grpc.Creds(loggedTLS{credentials.NewTLS(conf), log})
}

func (c loggedTLS) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	out, info, err := c.TransportCredentials.ServerHandshake(conn)
	if err != nil && !errors.Is(err, io.EOF) {
		c.log.Warn("refused a connection: TLS handshake failed", "remote", conn.RemoteAddr().String(), "err", err)
	}
	return out, info, err
}

func (c loggedTLS) Clone() credentials.TransportCredentials {
	return loggedTLS{c.TransportCredentials.Clone(), c.log}
}
