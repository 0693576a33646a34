package cli

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/signer"
)

func newVerifyCmd() *cobra.Command {
	var idFlag, sigFlag string
	cmd := &cobra.Command{
		Use:   "verify --id52 ID52 --sig HEX [--in FILE]",
		Short: "Check an Ed25519 signature: exit 0 if valid, 1 if not",
		Long: `Verify checks that --sig is an Ed25519 (RFC 8032) signature of the message
by the key --id52. The message is read from standard input, or from --in
FILE, and must be exactly the bytes that were signed.

If the signature is valid, verify prints "valid" and exits 0. If not, it
prints the reason on standard error and exits 1; it also exits 1, with an
error, when an argument is malformed. Verify needs no private key and no key
directory.`,
		Example: `  printf 'hello' | frostd verify --id52 "$id" --sig "$sig"
  frostd verify --id52 "$id" --sig "$(cat release.sha256.sig)" --in release.sha256`,
		Args:                  cobra.NoArgs,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pub, err := parseID52Flag(idFlag)
			if err != nil {
				return err
			}
			sig, err := parseSigFlag(sigFlag)
			if err != nil {
				return err
			}
			msg, err := readMessage(cmd, 0)
			if err != nil {
				return err
			}
			if err := signer.Verify(pub, msg, sig); err != nil {
				reason := err.Error()
				if errors.Is(err, signer.ErrBadSignature) {
					reason = "the signature does not verify: the message, the signature or the ID52 is not the one signed"
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "frostd: invalid: %s\n", reason)
				return ExitError{Code: 1}
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), "valid")
			return err
		},
	}
	cmd.Flags().StringVar(&idFlag, "id52", "", "the ID52 of the key that made the signature")
	cmd.Flags().StringVar(&sigFlag, "sig", "", "the signature, 128 hex characters")
	addInFlag(cmd)
	return cmd
}

// parseID52Flag trims the value, since "$(cat key.id52)" keeps no newline
// but copy and paste may add spaces.
func parseID52Flag(v string) (ed25519.PublicKey, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, fmt.Errorf("--id52 is required: the ID52 of the key that made the signature")
	}
	pub, err := id52.Decode(v)
	if err != nil {
		return nil, fmt.Errorf("--id52: %w", err)
	}
	return pub, nil
}

func parseSigFlag(v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	const want = 2 * 64
	switch {
	case v == "":
		return nil, fmt.Errorf("--sig is required: the signature in hex, as frostd sign prints it")
	case len(v) != want:
		return nil, fmt.Errorf("--sig is %d characters, want %d hex characters (a 64-byte Ed25519 signature)", len(v), want)
	}
	sig, err := hex.DecodeString(v)
	if err != nil {
		var bad hex.InvalidByteError
		if errors.As(err, &bad) {
			return nil, fmt.Errorf("--sig: character %q at position %d is not a hex digit", rune(bad), strings.IndexByte(v, byte(bad))+1)
		}
		return nil, fmt.Errorf("--sig: %w", err)
	}
	return sig, nil
}
