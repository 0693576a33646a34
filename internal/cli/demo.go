package cli

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/frostd/frostd/coordinator"
	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/signer/local"
)

func newDemoCmd() *cobra.Command {
	var (
		dir     string
		message string
		t, n    uint16
	)
	cmd := &cobra.Command{
		Use:   "demo [--dir ./frostd-data]",
		Short: "Sign and verify with a local key, then with the same identity split across a threshold group",
		Long: `Demo shows the whole idea in one process:

 1. it loads (or, on first run, generates) a local Ed25519 identity under
    DIR/keys, signs a message with it and verifies the signature;
 2. it splits that identity into a T-of-N FROST group (trusted-dealer
    migration), runs N participants and a coordinator in this process,
    signs the same message with T of them, and verifies the signature
    against the same ID52: the identity did not change, but no participant
    holds its key.

The signatures are written under DIR with the command that checks them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			keys := filepath.Join(dir, "keys")
			l := local.Loader{Dir: keys, Warnings: prefixWriter{cmd.ErrOrStderr()}}
			s, err := loadOrGenerate(l, keys)
			if err != nil {
				return err
			}
			name := s.ID52()
			fmt.Fprintf(out, "identity   %s (key in %s)\n", name, keys)

			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			msg := []byte(message)
			sig, err := s.Sign(ctx, msg)
			if err != nil {
				return err
			}
			if !ed25519.Verify(s.PublicKey(), msg, sig) {
				return errors.New("local signature does not verify: this is a bug, please report it")
			}
			fmt.Fprintf(out, "local      signed %q: %s... verifies\n", message, hex.EncodeToString(sig)[:32])

			// Migrate the same identity into a threshold group.
			g, shares, err := dkg.Deal(s.Seed(), t, n)
			if err != nil {
				return err
			}
			parts := make([]*participant.Participant, len(shares))
			for i, ks := range shares {
				if parts[i], err = participant.New(participant.Config{Group: g, KeyShare: ks, Store: participant.NewMemoryStore()}); err != nil {
					return err
				}
			}
			svc, err := coordinator.NewService(coordinator.ServiceConfig{Config: coordinator.Config{Group: g}}, coordinator.NewMemoryTransport(parts...))
			if err != nil {
				return err
			}
			defer svc.Close()
			svc.MarkAllReachable()
			tsig, err := svc.Sign(ctx, msg)
			if err != nil {
				return err
			}
			groupID := id52.Encode(g.PublicKey)
			if !ed25519.Verify(g.PublicKey, msg, tsig) || groupID != name {
				return errors.New("threshold signature does not verify under the original identity: this is a bug, please report it")
			}
			fmt.Fprintf(out, "threshold  %d-of-%d group, same identity %s\n", t, n, groupID)
			fmt.Fprintf(out, "threshold  signed %q: %s... verifies\n", message, hex.EncodeToString(tsig)[:32])

			msgFile := filepath.Join(dir, "demo-message.txt")
			if err := os.WriteFile(msgFile, msg, 0o644); err != nil {
				return fmt.Errorf("writing %s: %w", msgFile, err)
			}
			fmt.Fprintf(out, "\ncheck it yourself:\n  go run ./cmd/frostd verify --id52 %s --sig %s --in %s\n", groupID, hex.EncodeToString(tsig), msgFile)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "frostd-data", "state directory (created on first run, reused after)")
	cmd.Flags().StringVar(&message, "message", "hello from frostd", "the message to sign")
	cmd.Flags().Uint16Var(&t, "threshold", 3, "signers needed (T)")
	cmd.Flags().Uint16Var(&n, "participants", 5, "participants (N)")
	return cmd
}

// loadOrGenerate returns the only key in dir, making one on first run.
func loadOrGenerate(l local.Loader, dir string) (*local.LocalSigner, error) {
	matches, _ := filepath.Glob(filepath.Join(dir, "*.private-key"))
	if len(matches) > 0 {
		name := filepath.Base(matches[0])
		return l.Load(name[:len(name)-len(".private-key")])
	}
	s, _, err := l.Generate()
	return s, err
}
