package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/frostd/frostd/agentserver"
)

func newSSHAgentCmd() *cobra.Command {
	var (
		socket  string
		timeout = agentserver.DefaultSignTimeout
	)
	cmd := &cobra.Command{
		Use:   "ssh-agent --socket PATH [--backend B] [--key KEY]",
		Short: "Serve a key to OpenSSH (ssh, ssh-add, ssh-keygen -Y sign) as an ssh-agent",
		Long: `Ssh-agent serves the ssh-agent protocol on the Unix socket PATH, offering
the key of the chosen backend as one ssh-ed25519 identity, so that ssh logs
in with it and ssh-keygen -Y signs with it, whether the key is in a file, an
HSM or a FROST cluster.

Like ssh-agent -D it stays in the foreground: it prints
"SSH_AUTH_SOCK=PATH; export SSH_AUTH_SOCK;" on standard output, logs to
standard error, and serves until SIGINT or SIGTERM, then removes the socket.
Point clients at it with SSH_AUTH_SOCK=PATH, or with ssh's -o IdentityAgent=PATH.

The socket is created with mode 0600 in a directory that only you may
enter: a missing directory is created with mode 0700, and one that group or
others can access, or that another user owns, is refused. A socket left by
an agent that died is replaced; one that something still listens on is not.

The agent lists the key (with its ID52 as the comment) and signs with it.
It refuses to add, remove, lock or unlock keys (ssh-add -d, -D, -x and
adding a key fail), and answers a signature that takes longer than
--sign-timeout with a failure.

` + keyHelp,
		Example: `  frostd ssh-agent --socket ~/.frostd/agent/sock --key i66fo538 &
  SSH_AUTH_SOCK=~/.frostd/agent/sock ssh-add -L >> authorized_keys
  ssh -o IdentityAgent=~/.frostd/agent/sock host
  frostd ssh-agent --socket /run/user/1000/frostd/sock --backend pkcs11 \
      --pkcs11-token frostd --pkcs11-key node-1 --pkcs11-pin-file ~/.frostd/pin`,
		Args:                  cobra.NoArgs,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if socket == "" {
				return errors.New("--socket is required: the path of the Unix socket to serve on, such as $XDG_RUNTIME_DIR/frostd/agent.sock")
			}
			// Catch the signals before the socket exists, so that whoever
			// read our first line may stop us with them.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()

			s, err := openSigner(cmd)
			if err != nil {
				return err
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			srv, err := agentserver.Listen(agentserver.Config{
				Socket:      socket,
				Signer:      s,
				SignTimeout: timeout,
				Logger:      log,
			})
			if err != nil {
				return err
			}
			served := make(chan error, 1)
			go func() { served <- srv.Serve() }()
			if _, err := fmt.Fprintf(cmd.OutOrStdout(), "SSH_AUTH_SOCK=%s; export SSH_AUTH_SOCK;\n", shellQuote(srv.Socket())); err != nil {
				return errors.Join(fmt.Errorf("printing the socket's path: %w", err), srv.Close(), <-served)
			}

			select {
			case <-ctx.Done():
				log.Info("ssh-agent stopping on a signal")
				return errors.Join(srv.Close(), <-served)
			case err := <-served:
				return errors.Join(err, srv.Close())
			}
		},
	}
	cmd.Flags().StringVar(&socket, "socket", "", "the Unix socket to create, in a directory only you may enter")
	cmd.Flags().DurationVar(&timeout, "sign-timeout", timeout, "the longest a signature may take")
	addSignerFlags(cmd)
	return cmd
}

// shellQuote quotes s for a POSIX shell's eval, leaving ordinary paths
// bare as ssh-agent prints them.
func shellQuote(s string) string {
	safe := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("/._-+,:@%", r))
	}) < 0
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
