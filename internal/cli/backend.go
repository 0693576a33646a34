package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/frostd/frostd/signer"
	"github.com/frostd/frostd/signer/local"
)

// keyHelp explains --key and the key directory to every command that
// takes them.
const keyHelp = `A key is named by its name in the key directory (NAME for the file
NAME.private-key or NAME.id52), by its ID52, or by the start of its ID52 if
that matches one key only. An ID52 with no file in the key directory is
looked up in FROSTD_SECRET_KEYS_FILE (a file) or FROSTD_SECRET_KEYS (inline),
whose lines read "ID52-prefix: 64-hex-seed"; FASTN_SECRET_KEYS_FILE and
FASTN_SECRET_KEYS are read when neither is set.

The key directory is --dir, else $FROSTD_KEYS_DIR, else frostd/keys in the
user configuration directory (~/.config/frostd/keys on Linux).`

// addSignerFlags registers the flags that choose a signer; openSigner reads
// them. A --backend flag for sshagent, pkcs11 and frost belongs here, so
// that commands which sign need no change.
func addSignerFlags(cmd *cobra.Command) {
	cmd.Flags().String("key", "", "the key to sign with: its name, its ID52, or the start of its ID52")
	addDirFlag(cmd)
}

func addDirFlag(cmd *cobra.Command) {
	cmd.Flags().String("dir", "", "key directory (default $FROSTD_KEYS_DIR, else ~/.config/frostd/keys)")
}

// openSigner returns the signer that the flags of addSignerFlags choose.
// Only the local backend exists so far.
func openSigner(cmd *cobra.Command) (signer.Signer, error) {
	ref, err := cmd.Flags().GetString("key")
	if err != nil {
		return nil, err
	}
	if ref == "" {
		return nil, fmt.Errorf("--key is required: name the key to sign with (its ID52, the start of it, or its name in the key directory)")
	}
	l, err := localLoader(cmd)
	if err != nil {
		return nil, err
	}
	s, err := l.Load(ref)
	if err != nil {
		return nil, err // not s: a nil *LocalSigner would make a non-nil Signer
	}
	return s, nil
}

func localLoader(cmd *cobra.Command) (local.Loader, error) {
	dir, err := keysDir(cmd)
	if err != nil {
		return local.Loader{}, err
	}
	return local.Loader{Dir: dir, Warnings: prefixWriter{cmd.ErrOrStderr()}}, nil
}

// keysDir resolves the key directory as keyHelp describes.
func keysDir(cmd *cobra.Command) (string, error) {
	if dir, err := cmd.Flags().GetString("dir"); err != nil || dir != "" {
		return dir, err
	}
	if dir := os.Getenv("FROSTD_KEYS_DIR"); dir != "" {
		return dir, nil
	}
	config, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no key directory: pass --dir or set FROSTD_KEYS_DIR (%w)", err)
	}
	return filepath.Join(config, "frostd", "keys"), nil
}

// prefixWriter starts each write with "frostd: ", so that warnings, which
// arrive one line per write, look like the errors Main prints.
type prefixWriter struct{ w io.Writer }

func (p prefixWriter) Write(b []byte) (int, error) {
	if _, err := p.w.Write(append([]byte("frostd: "), b...)); err != nil {
		return 0, err
	}
	return len(b), nil
}
