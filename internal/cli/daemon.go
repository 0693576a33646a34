package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/frostd/frostd/daemon"
	"github.com/frostd/frostd/id52"
)

// logger returns the slog logger the --log-level flag asks for.
func logger(cmd *cobra.Command) (*slog.Logger, error) {
	lvl, _ := cmd.Flags().GetString("log-level")
	var l slog.Level
	if err := l.UnmarshalText([]byte(lvl)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", lvl)
	}
	return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: l})), nil
}

func addLogFlag(cmd *cobra.Command) {
	cmd.Flags().String("log-level", "info", "log level: debug, info, warn, error")
}

// untilSignal returns a context cancelled by SIGINT or SIGTERM.
func untilSignal(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}

func newParticipantCmd() *cobra.Command {
	return daemonCmd("participant", "Run a participant: hold one key share and answer coordinators",
		`Participant runs one member of a signing group. It serves gRPC over mutual
TLS (only coordinator certificates may ask), joins the gossip cluster, pushes
commitments to coordinators as they appear, keeps its nonces in a bbolt store
and its key share sealed with age, and serves Prometheus metrics.`,
		daemon.ExampleParticipantConfig,
		func(ctx context.Context, path string, log *slog.Logger) error {
			cfg, err := daemon.LoadParticipantConfig(path)
			if err != nil {
				return err
			}
			return daemon.RunParticipant(ctx, cfg, log)
		})
}

func newCoordinatorCmd() *cobra.Command {
	return daemonCmd("coordinator", "Run a coordinator: turn t participants' shares into signatures for clients",
		`Coordinator serves signing to clients (client certificates only) over gRPC
with mutual TLS, learns which participants are alive from gossip, keeps pools
of their commitments, and runs the FROST rounds. It holds no secret.`,
		daemon.ExampleCoordinatorConfig,
		func(ctx context.Context, path string, log *slog.Logger) error {
			cfg, err := daemon.LoadCoordinatorConfig(path)
			if err != nil {
				return err
			}
			return daemon.RunCoordinator(ctx, cfg, log)
		})
}

// daemonCmd is a long-running node command: --config, --print-config,
// --log-level, and a run until SIGINT or SIGTERM.
func daemonCmd(name, short, long, example string, run func(context.Context, string, *slog.Logger) error) *cobra.Command {
	var config string
	var printConfig bool
	cmd := &cobra.Command{
		Use:   name + " --config FILE",
		Short: short,
		Long:  long + "\n\n--print-config prints a documented configuration with the defaults.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if printConfig {
				fmt.Fprint(cmd.OutOrStdout(), example)
				return nil
			}
			if config == "" {
				return fmt.Errorf("--config is required (frostd %s --print-config shows one)", name)
			}
			log, err := logger(cmd)
			if err != nil {
				return err
			}
			ctx, stop := untilSignal(cmd.Context())
			defer stop()
			return run(ctx, config, log)
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "configuration file (TOML)")
	cmd.Flags().BoolVar(&printConfig, "print-config", false, "print a documented default configuration and exit")
	addLogFlag(cmd)
	return cmd
}

func clusterFlags(cmd *cobra.Command, o *daemon.LocalClusterOptions) {
	cmd.Flags().Uint16Var(&o.Threshold, "threshold", 3, "signers needed (t)")
	cmd.Flags().Uint16Var(&o.Participants, "participants", 5, "participants (n)")
	cmd.Flags().IntVar(&o.BasePort, "base-port", 7400, "coordinator gRPC port; participant i uses base+i, gossip base+100+i, metrics base+200+i")
	cmd.Flags().StringVar(&o.Host, "host", "127.0.0.1", "address every node binds")
}

func newClusterCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Set up a cluster on one host",
	}
	var o daemon.LocalClusterOptions
	var dir string
	initCmd := &cobra.Command{
		Use:   "init --dir DIR",
		Short: "Write certificates, keys and configs for a coordinator and n participants",
		Long: `Init writes into DIR everything a cluster on one host needs: a cluster CA and
certificates (coordinator, participants, and a client called "cli"), a gossip
key, an age identity sealing the key shares, the group key split into one
sealed share per participant, and a config per node. Then start each node:

  frostd coordinator --config DIR/coordinator.toml
  frostd participant --config DIR/participant-1.toml   (one per participant)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, err := daemon.InitLocalCluster(dir, o)
			if err != nil {
				return err
			}
			if g == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "no group key yet: start the participants, then run frost-dkg run --threshold %d --participants ... --tls-dir %s --tls-name coordinator --group-out %s\n",
					o.Threshold, filepath.Join(dir, "certs"), filepath.Join(dir, "coordinator", "group.json"))
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\n", id52.Encode(g.PublicKey))
			return nil
		},
	}
	initCmd.Flags().StringVar(&dir, "dir", "frostd-cluster", "directory to write")
	initCmd.Flags().BoolVar(&o.NoKey, "no-key", false, "write certificates and configs but no group key: participants start awaiting one from frost-dkg")
	clusterFlags(initCmd, &o)
	cmd.AddCommand(initCmd)
	return cmd
}

func newDevCmd() *cobra.Command {
	var o daemon.LocalClusterOptions
	var dir string
	cmd := &cobra.Command{
		Use:   "dev [--dir ./frostd-data]",
		Short: "Run a whole threshold cluster in this process (the embedded default)",
		Long: `Dev starts a coordinator and n participants (default 3-of-5) in this process,
on loopback, with the real parts: gRPC over mutual TLS, memberlist gossip,
bbolt nonce stores and age-sealed key shares. State lives under --dir,
created on first run and reused after, so the group key survives restarts.
It prints the group's ID52 and the command that signs with it from another
terminal, and serves until Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logger(cmd)
			if err != nil {
				return err
			}
			ctx, stop := untilSignal(cmd.Context())
			defer stop()
			d, created, err := daemon.StartDev(dir, o, log)
			if err != nil {
				return err
			}
			defer d.Close()
			wait, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			if err := d.Ready(wait); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			verb := "reusing"
			if created {
				verb = "created"
			}
			abs, _ := filepath.Abs(dir)
			fmt.Fprintf(out, "\nfrostd dev: %s %d-of-%d cluster in %s\n", verb, d.Group.Threshold, d.Group.MaxSigners, abs)
			fmt.Fprintf(out, "group ID52: %s\n\n", id52.Encode(d.Group.PublicKey))
			addr := d.Coordinator.Addr()
			certs := filepath.Join(dir, "certs")
			fmt.Fprintf(out, "sign from another terminal:\n  printf hello | go run ./cmd/frostd sign --backend frost --cluster %s --tls-dir %s --tls-name %s\n\n", addr, certs, daemon.ClientName)
			fmt.Fprintf(out, "verify:\n  printf hello | go run ./cmd/frostd verify --id52 %s --sig <HEX>\n\n", id52.Encode(d.Group.PublicKey))
			fmt.Fprintf(out, "serving until Ctrl-C\n")
			<-ctx.Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "frostd-data", "state directory")
	clusterFlags(cmd, &o)
	addLogFlag(cmd)
	return cmd
}
