package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/frostd/frostd/signer/local"
)

func newSignCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sign --key KEY [--dir DIR] [--in FILE]",
		Short: "Sign a message and print the Ed25519 signature in hex",
		Long: `Sign reads a message from standard input, or from --in FILE, signs exactly
those bytes with Ed25519 (RFC 8032), and prints the 64-byte signature as 128
lowercase hex characters and a newline. A trailing newline in the input is
part of the message. Anyone can check the signature with "frostd verify" or
any Ed25519 implementation.

Messages are limited to 16 MiB; to sign more, sign a hash of it.

` + keyHelp,
		Example: `  id=$(frostd keys generate)
  printf 'hello' | frostd sign --key "$id"
  frostd sign --key i66fo538 --dir ./keys --in release.sha256`,
		Args:                  cobra.NoArgs,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The key first: a bad --key fails before stdin is read.
			s, err := openSigner(cmd)
			if err != nil {
				return err
			}
			msg, err := readMessage(cmd, local.DefaultMaxMessage)
			if err != nil {
				return err
			}
			sig, err := s.Sign(cmd.Context(), msg)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%x\n", sig)
			return err
		},
	}
	addSignerFlags(cmd)
	addInFlag(cmd)
	return cmd
}

func addInFlag(cmd *cobra.Command) {
	cmd.Flags().String("in", "", "read the message from `FILE` instead of standard input")
}

// readMessage reads the message from the file named by --in, or from
// standard input without it. A limit above zero caps its size.
func readMessage(cmd *cobra.Command, limit int64) ([]byte, error) {
	path, err := cmd.Flags().GetString("in")
	if err != nil {
		return nil, err
	}
	var r io.Reader = cmd.InOrStdin()
	name := "standard input"
	if path != "" && path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("--in: %w", err)
		}
		defer f.Close()
		r, name = f, path
	}
	if limit > 0 {
		r = io.LimitReader(r, limit+1)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, fmt.Errorf("reading the message from %s: %w", name, err)
	}
	if limit > 0 && int64(buf.Len()) > limit {
		return nil, fmt.Errorf("the message in %s is over the %d MiB limit; sign a hash of it instead", name, limit>>20)
	}
	return buf.Bytes(), nil
}
