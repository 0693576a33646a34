// Package agentserver lets OpenSSH use any signer.Signer: it serves the
// ssh-agent protocol on a Unix socket, offering the signer's key as one
// ssh-ed25519 identity. With a FROST cluster behind it, `ssh`, `ssh-add -L`
// and `ssh-keygen -Y sign` work with a key that no machine holds.
//
// # Serving
//
//	srv, err := agentserver.Listen(agentserver.Config{
//		Socket: "/run/user/1000/frostd/agent.sock",
//		Signer: s, // a local key, an HSM, a coordinator.Service, ...
//		Logger: slog.Default(),
//	})
//	go srv.Serve()
//	defer srv.Close()
//	// clients: SSH_AUTH_SOCK=/run/user/1000/frostd/agent.sock ssh host
//
// Listen creates the socket with mode 0600 inside a directory that only
// this user may enter: it creates the directory with mode 0700 if it is
// missing, and refuses one that group or others can access, that another
// user owns, or that is a symbolic link. A socket left behind by an agent
// that died is removed; a socket that something still listens on, or a
// file that is not a socket, is left alone and Listen fails. As OpenSSH's
// ssh-agent does, the server also hangs up on a peer whose user ID differs
// from ours (on Linux, where the kernel reports it), unless the peer is
// root.
//
// # What the agent answers
//
// The agent holds exactly one key, the signer's, and no way to change
// that:
//
//   - REQUEST_IDENTITIES lists the ssh-ed25519 key, with Config.Comment
//     (by default the key's ID52) as its comment: what `ssh-add -l` shows.
//   - SIGN_REQUEST for that key with flags 0 returns the signer's Ed25519
//     signature, after checking it verifies. SSH adds no framing to
//     Ed25519 signatures, so the signer signs exactly the bytes the client
//     sent: the session data of a login, or the SSHSIG blob of
//     `ssh-keygen -Y sign`. Flags are defined for RSA keys only; any other
//     value, or another key, is refused. Each signature is bounded by
//     Config.SignTimeout.
//   - Adding, removing, locking and unlocking are refused with
//     SSH_AGENT_FAILURE, and logged: the key is chosen when the server
//     starts and cannot be removed or replaced through the socket. Agent
//     extensions (session-bind@openssh.com, query) are answered as
//     unsupported, which OpenSSH's clients accept.
//
// Every refusal reaches the client as the protocol's only error,
// SSH_AGENT_FAILURE; the reason goes to Config.Logger. The agent package
// of golang.org/x/crypto also prints each failed request with the
// standard library's log package.
//
// # Closing
//
// Close stops accepting connections, cancels signatures in flight, hangs
// up on every client, removes the socket, and returns once every goroutine
// the server started has ended.
package agentserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/signer"
)

// DefaultSignTimeout bounds each signature unless Config.SignTimeout says
// otherwise. OpenSSH's clients wait as long as the agent takes; a FROST
// cluster that cannot gather a quorum should not hang a login forever.
const DefaultSignTimeout = 30 * time.Second

// Config says where to serve and which key to offer.
type Config struct {
	// Socket is the path of the Unix socket to create. Its directory
	// must be private to this user, or not exist yet (see the package
	// comment). Unix socket paths are limited to about 100 bytes.
	Socket string

	// Signer holds the key the agent offers and signs with.
	Signer signer.Signer

	// Comment is shown next to the key by `ssh-add -l` and `ssh-add -L`.
	// Empty means the key's ID52.
	Comment string

	// SignTimeout bounds each signature; a request that takes longer is
	// answered with SSH_AGENT_FAILURE. Zero means DefaultSignTimeout; a
	// negative value means no bound.
	SignTimeout time.Duration

	// Logger receives a record for each signature, refused request and
	// failed connection. Nil discards them.
	Logger *slog.Logger
}

// Server serves the ssh-agent protocol on a Unix socket. Listen makes
// one; Serve runs it; Close stops it.
type Server struct {
	agent  *keyAgent
	socket string
	ln     *net.UnixListener
	log    *slog.Logger

	ctx    context.Context // cancelled by Close, ending signatures in flight
	cancel context.CancelFunc

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	serving bool
	closed  bool
	wg      sync.WaitGroup // Serve and its connection goroutines

	closeOnce sync.Once
	closeErr  error
}

// Listen checks cfg, prepares the socket's directory and starts listening
// on the socket. Clients can connect as soon as Listen returns; their
// requests are answered once Serve runs.
func Listen(cfg Config) (*Server, error) {
	if cfg.Signer == nil {
		return nil, errors.New("agentserver: Config.Signer is nil; pass the signer whose key the agent should offer")
	}
	pub := cfg.Signer.PublicKey()
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("agentserver: the signer's public key is not an Ed25519 key OpenSSH can use: %w: %w", err, signer.ErrBadKey)
	}
	if cfg.Comment == "" {
		cfg.Comment = id52.Encode(pub)
	}
	if cfg.SignTimeout == 0 {
		cfg.SignTimeout = DefaultSignTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	socket, ln, err := listen(cfg.Socket)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		socket: socket,
		ln:     ln,
		log:    log,
		ctx:    ctx,
		cancel: cancel,
		conns:  make(map[net.Conn]struct{}),
	}
	s.agent = &keyAgent{
		signer:  cfg.Signer,
		pub:     pub,
		sshPub:  sshPub,
		comment: cfg.Comment,
		timeout: cfg.SignTimeout,
		ctx:     ctx,
		log:     log,
	}
	log.Info("ssh-agent listening", "socket", socket, "key", cfg.Comment, "fingerprint", ssh.FingerprintSHA256(sshPub))
	return s, nil
}

// Socket returns the absolute path of the socket, the value for
// SSH_AUTH_SOCK.
func (s *Server) Socket() string { return s.socket }

// AuthorizedKey returns the agent's key in authorized_keys form, without a
// trailing newline: the line to add to a server's authorized_keys file.
func (s *Server) AuthorizedKey() string {
	return strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(s.agent.sshPub)), "\n")
}

// Serve accepts connections and answers their requests, each connection
// on a goroutine of its own, until Close. It returns nil after Close, and
// an error if accepting fails otherwise or Serve is called twice.
func (s *Server) Serve() error {
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return nil
	case s.serving:
		s.mu.Unlock()
		return errors.New("agentserver: Serve called twice")
	}
	s.serving = true
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	for {
		conn, err := s.ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			return fmt.Errorf("agentserver: accepting on %s: %w", s.socket, err)
		}
		if ok, why := peerAllowed(conn); !ok {
			s.log.Warn("ssh-agent connection refused", "reason", why)
			conn.Close()
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return nil
		}
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(conn)
	}
}

func (s *Server) serveConn(conn net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		conn.Close()
	}()
	// ServeAgent returns when the client hangs up (io.EOF), when Close
	// closes the connection, or on a malformed or oversized request.
	err := agent.ServeAgent(s.agent, conn)
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if err != nil && !closed && !isHangUp(err) {
		s.log.Warn("ssh-agent connection ended", "err", err)
	}
}

// Close stops the server: no new connections, signatures in flight
// cancelled, every client hung up on, the socket removed. It returns once
// every goroutine of the server has ended. Calling it again returns the
// first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		conns := make([]net.Conn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()

		s.cancel()
		// Closing a listener made by ListenUnix also removes the socket.
		if err := s.ln.Close(); err != nil {
			s.closeErr = fmt.Errorf("agentserver: closing %s: %w", s.socket, err)
		}
		for _, c := range conns {
			c.Close()
		}
		s.wg.Wait()
		// A socket we could not unlink would look stale to the next
		// Listen, which removes it; say so now rather than then.
		if _, err := os.Lstat(s.socket); err == nil {
			s.closeErr = errors.Join(s.closeErr, os.Remove(s.socket))
		}
		s.log.Info("ssh-agent stopped", "socket", s.socket)
	})
	return s.closeErr
}

// isHangUp reports whether err is an ordinary end of a connection.
func isHangUp(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
