package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/frostd/frostd/id52"
)

func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Create and inspect Ed25519 keys kept in a local key directory",
		Long: `Keys manages Ed25519 keys held in files, the "local" backend. The files
are those of fastn: NAME.private-key holds the 32-byte seed in 64 lowercase
hex characters; NAME.id52 holds only the ID52 of a key whose seed comes from
the environment. An ID52 is the public key in 52 characters of base32hex.

` + keyHelp,
		// A RunE makes cobra check Args, so "keys typo" is an error, not help.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newKeysGenerateCmd(), newKeysShowCmd())
	return cmd
}

func newKeysGenerateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "generate [--dir DIR]",
		Short: "Make a new key, save it in the key directory, and print its ID52",
		Long: `Generate makes a new random Ed25519 key, saves its seed as ID52.private-key
in the key directory with mode 0600 (creating the directory with mode 0700 if
needed), prints the ID52 on standard output and the file's path on standard
error. It never overwrites a file.

The key directory is --dir, else $FROSTD_KEYS_DIR, else frostd/keys in the
user configuration directory (~/.config/frostd/keys on Linux).`,
		Example: `  frostd keys generate
  id=$(frostd keys generate --dir ./keys)`,
		Args:                  cobra.NoArgs,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := localLoader(cmd)
			if err != nil {
				return err
			}
			s, path, err := l.Generate()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "frostd: saved the new key to %s\n", path)
			_, err = fmt.Fprintln(cmd.OutOrStdout(), s.ID52())
			return err
		},
	}
	addDirFlag(cmd)
	return cmd
}

func newKeysShowCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show KEY [--dir DIR]",
		Short: "Print a key's ID52 and its z-base-32 form",
		Long: `Show prints the public key of KEY as its ID52 and in z-base-32, the form pkarr
uses to publish keys in DNS:

  id52: <52 characters>
  z-base-32: <52 characters>

It loads the key the way sign does, so it also checks that the key can sign.

` + keyHelp,
		Example: `  frostd keys show i66fo538
  frostd keys show entity --dir ./keys`,
		DisableFlagsInUseLine: true,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("keys show takes one key (its name, its ID52 or the start of its ID52), got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := localLoader(cmd)
			if err != nil {
				return err
			}
			s, err := l.Load(args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "id52: %s\nz-base-32: %s\n", s.ID52(), id52.EncodeZBase32(s.PublicKey()))
			return err
		},
	}
	addDirFlag(cmd)
	return cmd
}
