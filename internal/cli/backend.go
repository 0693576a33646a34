package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/pki"
	"github.com/frostd/frostd/signer"
	"github.com/frostd/frostd/signer/frost"
	"github.com/frostd/frostd/signer/local"
	"github.com/frostd/frostd/signer/pkcs11"
	"github.com/frostd/frostd/signer/sshagent"
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

// backendHelp is appended to the help of every command that signs.
const backendHelp = `
The key lives where --backend says; the text above is about "local":

  local     a key file or FROSTD_SECRET_KEYS, chosen by --key (the default)
  sshagent  a key in a running ssh-agent, at --agent-socket (default
            $SSH_AUTH_SOCK). --key picks it by ID52, the start of its ID52,
            its SHA256 fingerprint as ssh-add -l prints it, or its public key
            ("ssh-ed25519 AAAA...").
  pkcs11    a key on a PKCS#11 token (an HSM, a smart card, SoftHSM2):
            --pkcs11-token and --pkcs11-key are the labels of the token and
            the key, --pkcs11-module the vendor's library (default SoftHSM2's).
            The user PIN is read from --pkcs11-pin-file FILE or the variable
            --pkcs11-pin-env NAME, never from the command line, where other
            users can see it.
  frost     a FROST cluster in which no machine holds the key: --cluster is
            the coordinator's HOST:PORT, --tls-dir the directory holding the
            cluster's ca.crt and a client certificate NAME.crt and NAME.key
            (frostd certs issue --role client), --tls-name the NAME if there
            are several.

With pkcs11 and frost, --key is optional: when given, the key must have
that ID52 (or start of one), so a wrong token or cluster fails instead of
signing as another identity.`

// Backends that --backend accepts, and the flags that belong to each, so a
// flag given to the wrong backend is an error rather than silently unused.
var backendFlags = map[string][]string{
	"local":    {"dir"},
	"sshagent": {"agent-socket"},
	"pkcs11":   {"pkcs11-module", "pkcs11-token", "pkcs11-key", "pkcs11-pin-file", "pkcs11-pin-env"},
	"frost":    {"cluster", "tls-dir", "tls-name"},
}

var backendNames = []string{"local", "sshagent", "pkcs11", "frost"}

// addSignerFlags registers the flags that choose a signer; openSigner reads
// them. Call it after setting cmd.RunE: it wraps RunE so that a signer
// openSigner opened (a PKCS#11 session, a cluster connection) is closed
// when RunE returns, whatever it returns.
func addSignerFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.String("backend", "local", "where the key lives: local, sshagent, pkcs11 or frost")
	f.String("key", "", "the key to sign with: its name, ID52 or start of ID52 (see below for each backend)")
	addDirFlag(cmd)
	f.String("agent-socket", "", "sshagent: the agent's socket (default $SSH_AUTH_SOCK)")
	f.String("pkcs11-module", pkcs11.DefaultModule, "pkcs11: the token's PKCS#11 library")
	f.String("pkcs11-token", "", "pkcs11: the token's label")
	f.String("pkcs11-key", "", "pkcs11: the key's label")
	f.String("pkcs11-pin-file", "", "pkcs11: a file holding the user PIN alone (mode 0600)")
	f.String("pkcs11-pin-env", "", "pkcs11: the name of a variable holding the user PIN")
	f.String("cluster", "", "frost: the coordinator's address, HOST:PORT")
	f.String("tls-dir", "", "frost: the directory of the client's certificate and key and the cluster's ca.crt")
	f.String("tls-name", "", "frost: the client certificate's name in --tls-dir, NAME.crt and NAME.key (default: the only one)")
	cmd.Long += "\n" + backendHelp

	run := cmd.RunE
	if run == nil {
		panic("cli: addSignerFlags(" + cmd.Name() + ") called before RunE was set")
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) (err error) {
		o := &opened{}
		cmd.SetContext(context.WithValue(cmd.Context(), openedKey{}, o))
		defer func() { err = errors.Join(err, o.close()) }()
		return run(cmd, args)
	}
}

func addDirFlag(cmd *cobra.Command) {
	cmd.Flags().String("dir", "", "key directory (default $FROSTD_KEYS_DIR, else ~/.config/frostd/keys)")
}

// opened holds what openSigner must close when the command ends.
type opened struct{ closers []func() error }

type openedKey struct{}

func (o *opened) close() error {
	var errs []error
	for _, c := range slices.Backward(o.closers) {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// openSigner returns the signer that the flags of addSignerFlags choose.
// It is closed when the command's RunE returns.
func openSigner(cmd *cobra.Command) (signer.Signer, error) {
	o, ok := cmd.Context().Value(openedKey{}).(*opened)
	if !ok {
		return nil, fmt.Errorf("cli: %s opens a signer outside the RunE that addSignerFlags wraps; this is a bug, please report it", cmd.Name())
	}
	s, closeFn, err := openBackend(cmd)
	if err != nil {
		return nil, err
	}
	if closeFn != nil {
		o.closers = append(o.closers, closeFn)
	}
	return s, nil
}

// openBackend opens the signer of the chosen backend and returns what
// closes it, or nil when nothing needs closing.
func openBackend(cmd *cobra.Command) (signer.Signer, func() error, error) {
	f := cmd.Flags()
	backend, err := f.GetString("backend")
	if err != nil {
		return nil, nil, err
	}
	backend = strings.ToLower(backend)
	own, ok := backendFlags[backend]
	if !ok {
		return nil, nil, fmt.Errorf("unknown --backend %q: choose %s", backend, strings.Join(backendNames, ", "))
	}
	for _, other := range backendNames {
		for _, name := range backendFlags[other] {
			if f.Changed(name) && !slices.Contains(own, name) {
				return nil, nil, fmt.Errorf("--%s is for --backend %s, not %s: add --backend %s or drop --%s", name, other, backend, other, name)
			}
		}
	}
	key, err := f.GetString("key")
	if err != nil {
		return nil, nil, err
	}

	var (
		s       signer.Signer
		closeFn func() error
	)
	switch backend {
	case "local":
		s, err = openLocal(cmd, key)
		return s, nil, err
	case "sshagent":
		s, err = openSSHAgent(cmd, key)
		return s, nil, err
	case "pkcs11":
		var p *pkcs11.Signer
		p, err = openPKCS11(cmd)
		if err == nil {
			s, closeFn = p, p.Close
		}
	case "frost":
		s, closeFn, err = openFrost(cmd)
	}
	if err != nil {
		return nil, nil, err
	}
	// These backends choose the key by other flags; --key checks it.
	if key != "" {
		if err := checkIdentity(key, s.PublicKey(), backend); err != nil {
			if closeFn != nil {
				err = errors.Join(err, closeFn())
			}
			return nil, nil, err
		}
	}
	return s, closeFn, nil
}

func openLocal(cmd *cobra.Command, ref string) (signer.Signer, error) {
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

func openSSHAgent(cmd *cobra.Command, ref string) (signer.Signer, error) {
	socket, err := cmd.Flags().GetString("agent-socket")
	if err != nil {
		return nil, err
	}
	keys, err := sshagent.Keys(cmd.Context(), socket) // "" means SSH_AUTH_SOCK
	if err != nil {
		return nil, err
	}
	pub, err := chooseAgentKey(ref, keys)
	if err != nil {
		return nil, err
	}
	s, err := sshagent.New(cmd.Context(), sshagent.Config{Socket: socket, PublicKey: pub})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// chooseAgentKey finds the key that ref names among the agent's keys: a
// public key in authorized_keys form ("TYPE BASE64 [comment]"), a SHA256
// fingerprint, an ID52 or the start of exactly one of the agent's ID52s.
func chooseAgentKey(ref string, keys []sshagent.Key) (ed25519.PublicKey, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, fmt.Errorf("--key is required with --backend sshagent: name one of the agent's Ed25519 keys by ID52, start of ID52, SHA256 fingerprint or public key%s", listAgentKeys(keys))
	}
	if strings.ContainsAny(ref, " \t") || strings.HasPrefix(ref, "ssh-") {
		parsed, _, _, _, err := ssh.ParseAuthorizedKey([]byte(ref))
		if err != nil {
			return nil, fmt.Errorf("--key %q looks like a public key but does not parse (paste the whole line of the .pub file): %w", ref, err)
		}
		cpk, ok := parsed.(ssh.CryptoPublicKey)
		pub, isEd := ed25519.PublicKey(nil), false
		if ok {
			pub, isEd = cpk.CryptoPublicKey().(ed25519.PublicKey)
		}
		if !isEd {
			return nil, fmt.Errorf("--key names a key of type %s; frostd signs with Ed25519 keys only (ssh-keygen -t ed25519): %w", parsed.Type(), signer.ErrBadKey)
		}
		return pub, nil // sshagent.New says so if the agent lacks it
	}
	if strings.HasPrefix(ref, "SHA256:") {
		for _, k := range keys {
			if sshPub, err := ssh.NewPublicKey(k.PublicKey); err == nil && ssh.FingerprintSHA256(sshPub) == ref {
				return k.PublicKey, nil
			}
		}
		return nil, fmt.Errorf("no Ed25519 key in the agent has fingerprint %s%s: %w", ref, listAgentKeys(keys), signer.ErrBadKey)
	}
	if len(ref) == id52.Len {
		return id52.Decode(ref) // sshagent.New says so if the agent lacks it
	}
	prefix, err := id52Prefix(ref)
	if err != nil {
		return nil, err
	}
	var matches []sshagent.Key
	for _, k := range keys {
		if strings.HasPrefix(k.ID52(), prefix) {
			matches = append(matches, k)
		}
	}
	switch len(matches) {
	case 0:
		return nil, fmt.Errorf("no Ed25519 key in the agent has an ID52 starting with %q%s: %w", ref, listAgentKeys(keys), signer.ErrBadKey)
	case 1:
		return matches[0].PublicKey, nil
	}
	return nil, fmt.Errorf("%d keys in the agent have an ID52 starting with %q; give more of it%s: %w", len(matches), ref, listAgentKeys(matches), signer.ErrBadKey)
}

// id52Prefix checks that ref can start an ID52 and returns it in lower
// case.
func id52Prefix(ref string) (string, error) {
	lower := strings.ToLower(ref)
	for i, r := range lower {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'v') {
			return "", fmt.Errorf("--key %q is not the start of an ID52: %q at position %d is not one of 0-9 and a-v: %w", ref, r, i+1, signer.ErrBadKey)
		}
	}
	return lower, nil
}

func listAgentKeys(keys []sshagent.Key) string {
	if len(keys) == 0 {
		return "; the agent holds no Ed25519 keys (add one with ssh-add)"
	}
	var b strings.Builder
	b.WriteString("; the agent holds")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %s", k.ID52())
		if k.Comment != "" {
			fmt.Fprintf(&b, " (%s)", k.Comment)
		}
	}
	return b.String()
}

func openPKCS11(cmd *cobra.Command) (*pkcs11.Signer, error) {
	f := cmd.Flags()
	var cfg pkcs11.Config
	for flag, dst := range map[string]*string{
		"pkcs11-module":   &cfg.Module,
		"pkcs11-token":    &cfg.TokenLabel,
		"pkcs11-key":      &cfg.KeyLabel,
		"pkcs11-pin-file": &cfg.PINFile,
		"pkcs11-pin-env":  &cfg.PINEnv,
	} {
		v, err := f.GetString(flag)
		if err != nil {
			return nil, err
		}
		*dst = v
	}
	switch {
	case cfg.TokenLabel == "":
		return nil, errors.New("--pkcs11-token is required with --backend pkcs11: the token's label, as softhsm2-util --show-slots or pkcs11-tool --list-slots print it")
	case cfg.KeyLabel == "":
		return nil, errors.New("--pkcs11-key is required with --backend pkcs11: the label of the key on the token")
	case cfg.PINFile == "" && cfg.PINEnv == "":
		return nil, errors.New("the token's user PIN is required with --backend pkcs11: give --pkcs11-pin-file FILE (the PIN alone, mode 0600) or --pkcs11-pin-env VARIABLE; the PIN itself is never a flag, as other users can read command lines")
	case cfg.PINFile != "" && cfg.PINEnv != "":
		return nil, errors.New("give --pkcs11-pin-file or --pkcs11-pin-env, not both")
	}
	return pkcs11.New(cmd.Context(), cfg)
}

// openFrost connects to a FROST coordinator over mutual TLS, with the
// client certificate in --tls-dir.
func openFrost(cmd *cobra.Command) (signer.Signer, func() error, error) {
	f := cmd.Flags()
	addr, err := f.GetString("cluster")
	if err != nil {
		return nil, nil, err
	}
	dir, err := f.GetString("tls-dir")
	if err != nil {
		return nil, nil, err
	}
	name, err := f.GetString("tls-name")
	if err != nil {
		return nil, nil, err
	}
	switch {
	case addr == "":
		return nil, nil, errors.New("--cluster is required with --backend frost: the coordinator's address, HOST:PORT")
	case dir == "":
		return nil, nil, errors.New("--tls-dir is required with --backend frost: the directory holding ca.crt and the client certificate (frostd certs issue --role client --out DIR)")
	}
	files, err := clientFiles(dir, name)
	if err != nil {
		return nil, nil, err
	}
	s, err := frost.New(cmd.Context(), frost.Config{Addr: addr, Files: files})
	if err != nil {
		return nil, nil, err
	}
	return s, s.Close, nil
}

// clientFiles names the CA certificate and the client's certificate and
// key in dir: NAME.crt and NAME.key for --tls-name NAME, or else the one
// certificate there besides ca.crt.
func clientFiles(dir, name string) (pki.Files, error) {
	if name == "" {
		certs, err := filepath.Glob(filepath.Join(dir, "*.crt"))
		if err != nil {
			return pki.Files{}, fmt.Errorf("--tls-dir: %w", err)
		}
		var names []string
		for _, c := range certs {
			if base := filepath.Base(c); base != pki.CACertFile {
				names = append(names, strings.TrimSuffix(base, ".crt"))
			}
		}
		switch len(names) {
		case 0:
			return pki.Files{}, fmt.Errorf("--tls-dir %s holds no client certificate (NAME.crt beside ca.crt); issue one with frostd certs issue --role client --out %s", dir, dir)
		case 1:
			name = names[0]
		default:
			return pki.Files{}, fmt.Errorf("--tls-dir %s holds %d certificates (%s); choose one with --tls-name", dir, len(names), strings.Join(names, ", "))
		}
	}
	files := pki.NodeFiles(dir, name)
	for _, p := range []string{files.CA, files.Cert, files.Key} {
		if _, err := os.Stat(p); err != nil {
			return pki.Files{}, fmt.Errorf("--tls-dir: the client needs %s: %w", p, err)
		}
	}
	return files, nil
}

// checkIdentity fails unless pub has the ID52 (or start of one) that ref
// gives.
func checkIdentity(ref string, pub ed25519.PublicKey, backend string) error {
	prefix, err := id52Prefix(strings.TrimSpace(ref))
	if err != nil {
		return err
	}
	if got := id52.Encode(pub); !strings.HasPrefix(got, prefix) {
		return fmt.Errorf("the %s key is %s, not the --key %s asked for; check the backend's flags or drop --key: %w", backend, got, ref, signer.ErrBadKey)
	}
	return nil
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
