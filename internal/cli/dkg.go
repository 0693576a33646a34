package cli

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/frostd/frostd/dkg/dkgnet"
	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/pki"
	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/signer/local"
	"github.com/frostd/frostd/state"
)

// DKGMain runs frost-dkg with args and returns the process exit code.
func DKGMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return execute(NewDKGRoot(), "frost-dkg", args, stdin, stdout, stderr)
}

// NewDKGRoot returns the frost-dkg command tree.
func NewDKGRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "frost-dkg",
		Short: "Make, migrate and refresh the key shares of a frostd signing group",
		Long: `frost-dkg runs, from the operator's machine, the ceremonies that give frostd
participants their key shares. It relays over mutual TLS with a coordinator
certificate; the participants check each other's certificates against the
cluster CA and encrypt their secret shares to each other, so the relay never
sees a share (except with deal, which splits a key you already hold).

  run      a distributed key generation: a new key no machine ever holds
  deal     migrate an existing Ed25519 key: its ID52 stays the same
  refresh  give all n participants new shares of the same key
  show     a group's key, threshold, members and public shares`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDKGRunCmd(), newDKGDealCmd(), newDKGRefreshCmd(), newDKGShowCmd())
	return root
}

// relayFlags are the flags of every command that talks to participants.
type relayFlags struct {
	participants []string
	tlsDir       string
	tlsName      string
	timeout      time.Duration
	groupOut     string
}

func (f *relayFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&f.participants, "participants", nil, "the participants' gRPC addresses, HOST:PORT,... (ids come from their certificates)")
	cmd.Flags().StringVar(&f.tlsDir, "tls-dir", "", "directory holding the cluster's ca.crt and a coordinator certificate NAME.crt, NAME.key")
	cmd.Flags().StringVar(&f.tlsName, "tls-name", "coordinator", "the coordinator certificate's NAME in --tls-dir")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 60*time.Second, "give up (naming whom it waits for) after this long")
	cmd.Flags().StringVar(&f.groupOut, "group-out", "", "write the group (group.json) here, for the coordinator's state_dir")
}

func (f *relayFlags) config() (dkgnet.Config, error) {
	if len(f.participants) < 2 {
		return dkgnet.Config{}, errors.New("--participants needs the addresses of at least 2 participants, HOST:PORT,HOST:PORT,...")
	}
	if f.tlsDir == "" {
		return dkgnet.Config{}, errors.New("--tls-dir is required: the directory holding ca.crt and a coordinator certificate (frostd certs issue --role coordinator)")
	}
	files, err := clientFiles(f.tlsDir, f.tlsName)
	if err != nil {
		return dkgnet.Config{}, err
	}
	id, err := files.Identity()
	if err != nil {
		return dkgnet.Config{}, err
	}
	if id.Role != pki.RoleCoordinator {
		return dkgnet.Config{}, fmt.Errorf("%s is %s's certificate; participants accept ceremonies from coordinator certificates only (--tls-name a coordinator)", files.Cert, id)
	}
	conf, err := pki.ClientTLS(files, pki.RoleParticipant)
	if err != nil {
		return dkgnet.Config{}, err
	}
	return dkgnet.Config{Addrs: f.participants, TLS: conf}, nil
}

func (f *relayFlags) context(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx, stop := untilSignal(cmd.Context())
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	return ctx, func() { cancel(); stop() }
}

// writeGroup writes g to path as group.json, if path is set.
func writeGroup(w io.Writer, path string, g *protocol.Group) error {
	if path == "" {
		return nil
	}
	d := state.Dir{Path: filepath.Dir(path)}
	if filepath.Base(path) != state.GroupFile {
		return fmt.Errorf("--group-out %s: name the file %s (it goes into the coordinator's state_dir)", path, state.GroupFile)
	}
	if err := d.SaveGroup(g); err != nil {
		return fmt.Errorf("writing --group-out: %w", err)
	}
	fmt.Fprintf(w, "wrote the group to %s\n", path)
	return nil
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress prints ceremony progress: a line per participant and round,
// or a table redrawn in place on a terminal.
type progress struct {
	w     io.Writer
	tty   bool
	mu    sync.Mutex
	state map[protocol.ParticipantID]string
	drawn int
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, tty: isTerminal(w), state: map[protocol.ParticipantID]string{}}
}

func (p *progress) event(e dkgnet.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	what := e.Round.String()
	switch {
	case e.Done && e.Err != "":
		what = "FAILED: " + e.Err
	case e.Done:
		what = "done"
	}
	p.state[e.ID] = fmt.Sprintf("%-22s %s", e.Addr, what)
	if !p.tty {
		fmt.Fprintf(p.w, "participant %d  %s\n", e.ID, p.state[e.ID])
		return
	}
	if p.drawn > 0 {
		fmt.Fprintf(p.w, "\x1b[%dA", p.drawn)
	}
	ids := make([]protocol.ParticipantID, 0, len(p.state))
	for id := range p.state {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		fmt.Fprintf(p.w, "\x1b[2K  participant %-3d %s\n", id, p.state[id])
	}
	p.drawn = len(ids)
}

func newDKGRunCmd() *cobra.Command {
	var f relayFlags
	var threshold uint16
	cmd := &cobra.Command{
		Use:   "run --threshold T --participants ADDR,... --tls-dir DIR [--group-out FILE]",
		Short: "Run a distributed key generation: a new group key that no machine ever holds",
		Long: `Run makes a new t-of-n group key among participants that await one (started
from a state directory with no key share, e.g. after frostd cluster init
--no-key). Each participant ends with its own share, saved sealed in its state
directory, and starts signing at once. No machine, this one included, ever
holds the key.

It prints each participant's progress, then the group's ID52 and the
transcript hash that every participant confirmed, and writes the group to
--group-out for the coordinator. On a failure it names the participants at
fault, or on --timeout those it was still waiting for; nothing is saved.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.config()
			if err != nil {
				return err
			}
			if threshold < 2 || int(threshold) > len(f.participants) {
				return fmt.Errorf("--threshold %d must be between 2 and the number of participants %d", threshold, len(f.participants))
			}
			cfg.Threshold = threshold
			out := cmd.OutOrStdout()
			cfg.Progress = newProgress(out).event
			ctx, cancel := f.context(cmd)
			defer cancel()
			fmt.Fprintf(out, "key generation: %d-of-%d\n", threshold, len(f.participants))
			res, err := dkgnet.Keygen(ctx, cfg)
			if err != nil {
				return fmt.Errorf("key generation failed: %w", err)
			}
			fmt.Fprintf(out, "group ID52: %s\n", id52.Encode(res.Group.PublicKey))
			fmt.Fprintf(out, "transcript: %s\n", hex.EncodeToString(res.Transcript))
			return writeGroup(out, f.groupOut, res.Group)
		},
	}
	cmd.Flags().Uint16Var(&threshold, "threshold", 0, "signers needed (t), 2 to n")
	f.add(cmd)
	return cmd
}

func newDKGRefreshCmd() *cobra.Command {
	var f relayFlags
	cmd := &cobra.Command{
		Use:   "refresh --participants ADDR,... --tls-dir DIR [--group-out FILE]",
		Short: "Give all n participants new shares of the same group key",
		Long: `Refresh replaces every participant's key share with a new share of the same
key (a proactive refresh): the group key and its ID52 stay, every share and
public key share changes, and old shares no longer combine with new ones. All
n participants must take part. Write the new group over the coordinator's
group.json with --group-out: a running coordinator installs the new public
key shares within seconds, without a restart.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.config()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			cfg.Progress = newProgress(out).event
			ctx, cancel := f.context(cmd)
			defer cancel()
			res, err := dkgnet.Refresh(ctx, cfg)
			if err != nil {
				return fmt.Errorf("refresh failed: %w", err)
			}
			fmt.Fprintf(out, "group key unchanged: %s\n", id52.Encode(res.Group.PublicKey))
			fmt.Fprintf(out, "transcript: %s\n", hex.EncodeToString(res.Transcript))
			fmt.Fprintln(out, "every key share was replaced; the coordinator needs the new group.json (--group-out over its state_dir's copy; it reloads it by itself)")
			return writeGroup(out, f.groupOut, res.Group)
		},
	}
	f.add(cmd)
	return cmd
}

func newDKGDealCmd() *cobra.Command {
	var f relayFlags
	var threshold uint16
	var from string
	var destroy bool
	cmd := &cobra.Command{
		Use:   "deal --from-key ID52 [--dir KEYDIR] --threshold T --participants ADDR,... --tls-dir DIR",
		Short: "Migrate an existing key into the cluster: its ID52 stays the same",
		Long: `Deal splits an existing Ed25519 key (found as frostd keys finds keys, by
--from-key and --dir) into one share per participant and installs each over
mutual TLS. The group key is the key's own, so its ID52 does not change. This
machine holds the whole key while it deals: afterwards destroy the old key
file (--destroy-old-key, or answer y when asked on a terminal), or the
threshold protects nothing.

` + keyHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return errors.New("--from-key is required: the ID52 (or its start, or the key's name) of the key to migrate")
			}
			cfg, err := f.config()
			if err != nil {
				return err
			}
			if threshold < 2 || int(threshold) > len(f.participants) {
				return fmt.Errorf("--threshold %d must be between 2 and the number of participants %d", threshold, len(f.participants))
			}
			cfg.Threshold = threshold
			l, err := localLoader(cmd)
			if err != nil {
				return err
			}
			s, err := l.Load(from)
			if err != nil {
				return err
			}
			seed := s.Seed()
			defer clear(seed)
			out := cmd.OutOrStdout()
			cfg.Progress = func(e dkgnet.Event) { fmt.Fprintf(out, "participant %d  %-22s share installed\n", e.ID, e.Addr) }
			ctx, cancel := f.context(cmd)
			defer cancel()
			g, err := dkgnet.Deal(ctx, cfg, seed)
			if err != nil {
				return fmt.Errorf("deal failed: %w", err)
			}
			if !g.PublicKey.Equal(s.PublicKey()) {
				return fmt.Errorf("the dealt group key %s is not the key's own %s; this is a bug: keep the old key", id52.Encode(g.PublicKey), s.ID52())
			}
			fmt.Fprintf(out, "group ID52: %s (unchanged)\n", id52.Encode(g.PublicKey))
			if err := writeGroup(out, f.groupOut, g); err != nil {
				return err
			}
			return destroyOldKey(cmd, l.Dir, s.ID52(), destroy)
		},
	}
	cmd.Flags().StringVar(&from, "from-key", "", "the key to migrate: ID52, start of one, or key name")
	cmd.Flags().String("dir", "", "key directory (default $FROSTD_KEYS_DIR, else ~/.config/frostd/keys)")
	cmd.Flags().Uint16Var(&threshold, "threshold", 0, "signers needed (t), 2 to n")
	cmd.Flags().BoolVar(&destroy, "destroy-old-key", false, "overwrite the old key file with zeros and remove it once every share is installed")
	f.add(cmd)
	return cmd
}

// destroyOldKey tells the operator the old key must go, and destroys its
// file when asked to.
func destroyOldKey(cmd *cobra.Command, dir, id string, yes bool) error {
	out := cmd.OutOrStdout()
	path, err := keyFileOf(dir, id)
	if err != nil {
		return err
	}
	if path == "" {
		fmt.Fprintf(out, "the old key %s came from FROSTD_SECRET_KEYS(_FILE), not a key file: remove its line there yourself; while it exists, the threshold protects nothing\n", id)
		return nil
	}
	fmt.Fprintf(out, "the old key file %s still holds the whole key: it must be destroyed, or the threshold protects nothing\n", path)
	if !yes && isTerminal(cmd.InOrStdin()) {
		fmt.Fprintf(out, "destroy %s now (overwrite with zeros, then remove)? [y/N] ", path)
		line, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
		yes = strings.EqualFold(strings.TrimSpace(line), "y") || strings.EqualFold(strings.TrimSpace(line), "yes")
	}
	if !yes {
		fmt.Fprintf(out, "kept %s; destroy it with frost-dkg's --destroy-old-key or shred -u\n", path)
		return nil
	}
	if err := shred(path); err != nil {
		return fmt.Errorf("destroying %s: %w; destroy it by hand (shred -u)", path, err)
	}
	fmt.Fprintf(out, "destroyed %s\n", path)
	return nil
}

// keyFileOf finds the .private-key file in dir that holds the key id, or
// "" when none does.
func keyFileOf(dir, id string) (string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.private-key"))
	if err != nil {
		return "", err
	}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".private-key")
		l := localLoaderAt(dir)
		s, err := l.LoadDir(name)
		if err == nil && s.ID52() == id {
			return p, nil
		}
	}
	return "", nil
}

// shred overwrites the file with zeros, syncs it, and removes it.
func shred(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err == nil {
		_, err = f.WriteAt(make([]byte, st.Size()), 0)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Remove(path)
}

func newDKGShowCmd() *cobra.Command {
	var addr, groupFile, tlsDir, tlsName string
	cmd := &cobra.Command{
		Use:   "show (--participant ADDR --tls-dir DIR | --group FILE)",
		Short: "Show a group: its key, threshold, members and their public shares",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var g *protocol.Group
			switch {
			case (addr == "") == (groupFile == ""):
				return errors.New("give --participant ADDR (with --tls-dir) or --group FILE")
			case groupFile != "":
				d := state.Dir{Path: filepath.Dir(groupFile)}
				if filepath.Base(groupFile) != state.GroupFile {
					return fmt.Errorf("--group %s: expected a file named %s", groupFile, state.GroupFile)
				}
				var err error
				if g, err = d.LoadGroup(); err != nil {
					return err
				}
			default:
				f := relayFlags{tlsDir: tlsDir, tlsName: tlsName, participants: []string{addr, addr}}
				cfg, err := f.config()
				if err != nil {
					return err
				}
				ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
				defer cancel()
				m, err := dkgnet.Info(ctx, addr, cfg.TLS)
				if err != nil {
					return err
				}
				if m.Group == nil {
					fmt.Fprintf(cmd.OutOrStdout(), "participant %d at %s holds no key share yet (awaiting frost-dkg run or deal)\n", m.ID, addr)
					return nil
				}
				fmt.Fprintf(cmd.OutOrStdout(), "participant %d at %s\n", m.ID, addr)
				g = m.Group
			}
			printGroup(cmd.OutOrStdout(), g)
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "participant", "", "a participant's gRPC address, HOST:PORT")
	cmd.Flags().StringVar(&groupFile, "group", "", "a group.json file")
	cmd.Flags().StringVar(&tlsDir, "tls-dir", "", "with --participant: directory of ca.crt and a coordinator certificate")
	cmd.Flags().StringVar(&tlsName, "tls-name", "coordinator", "with --participant: the coordinator certificate's NAME")
	return cmd
}

func printGroup(w io.Writer, g *protocol.Group) {
	fmt.Fprintf(w, "group key:  %s\n", hex.EncodeToString(g.PublicKey))
	fmt.Fprintf(w, "ID52:       %s\n", id52.Encode(g.PublicKey))
	fmt.Fprintf(w, "z-base-32:  %s\n", id52.EncodeZBase32(g.PublicKey))
	fmt.Fprintf(w, "threshold:  %d of %d\n", g.Threshold, g.MaxSigners)
	fmt.Fprintln(w, "members:")
	for _, m := range g.Members {
		fmt.Fprintf(w, "  %3d  %s\n", m.ID, hex.EncodeToString(m.PublicShare[:]))
	}
}

// localLoaderAt reads keys in dir quietly (the key was already loaded once
// with warnings shown).
func localLoaderAt(dir string) local.Loader { return local.Loader{Dir: dir, Warnings: io.Discard} }
