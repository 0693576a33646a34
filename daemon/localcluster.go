package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/pki"
	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/sealed"
	"github.com/frostd/frostd/state"
)

// LocalClusterOptions describes a cluster on one host.
type LocalClusterOptions struct {
	Threshold, Participants uint16
	// BasePort numbers the ports: the coordinator's gRPC on BasePort,
	// participant i's on BasePort+i; gossip on BasePort+100(+i); metrics on
	// BasePort+200(+i).
	BasePort int
	// Host is the address every node binds; default 127.0.0.1.
	Host string
	// KeyGen makes the group key; default a DKG ceremony among the n
	// participants, run in this process (dkg.RunLocal).
	KeyGen func(t, n uint16) (*protocol.Group, []protocol.KeyShare, error)
	// NoKey writes certificates and configs but no group key: the
	// participants start awaiting one, and `frost-dkg run` (or deal)
	// makes it over the network. InitLocalCluster then returns a nil group.
	NoKey bool
}

// Local cluster layout inside its directory.
const (
	ClientName      = "cli"
	coordinatorName = "coordinator"
	coordinatorConf = "coordinator.toml"
)

// ParticipantConfigPath is where InitLocalCluster writes participant i's config.
func ParticipantConfigPath(dir string, id uint16) string {
	return filepath.Join(dir, fmt.Sprintf("participant-%d.toml", id))
}

// CoordinatorConfigPath is where InitLocalCluster writes the coordinator's config.
func CoordinatorConfigPath(dir string) string { return filepath.Join(dir, coordinatorConf) }

// ClientFiles are the client certificate files of a local cluster, for
// `frostd sign --backend frost`.
func ClientFiles(dir string) pki.Files { return pki.NodeFiles(filepath.Join(dir, "certs"), ClientName) }

// CoordinatorAddr is the gRPC address of a local cluster's coordinator.
func CoordinatorAddr(dir string) (string, error) {
	c, err := LoadCoordinatorConfig(CoordinatorConfigPath(dir))
	if err != nil {
		return "", err
	}
	return c.Listen, nil
}

// InitLocalCluster writes everything a cluster on one host needs into dir:
// a cluster CA and certificates for the coordinator, the participants and a
// client; a gossip key; an age identity that seals the key shares; the
// group key and one sealed share per participant; and a config file per
// node. It refuses a dir that already holds a cluster. With o.NoKey it
// writes no group key and returns a nil group.
func InitLocalCluster(dir string, o LocalClusterOptions) (*protocol.Group, error) {
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.KeyGen == nil {
		o.KeyGen = localDKG
	}
	if o.BasePort <= 0 || o.BasePort+200+int(o.Participants) > 65535 {
		return nil, fmt.Errorf("base port %d leaves no room for %d participants", o.BasePort, o.Participants)
	}
	if _, err := os.Stat(CoordinatorConfigPath(dir)); err == nil {
		return nil, fmt.Errorf("%s already holds a cluster (remove the directory to start over): %w", dir, fs.ErrExist)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	certs := filepath.Join(dir, "certs")
	if _, err := pki.InitCA(certs); err != nil {
		return nil, err
	}
	issue := func(name string, role pki.Role, id uint16) error {
		_, err := pki.Issue(certs, name, role, certs, pki.IssueOptions{ParticipantID: id, Hosts: []string{o.Host}})
		return err
	}
	if err := issue(coordinatorName, pki.RoleCoordinator, 0); err != nil {
		return nil, err
	}
	if err := issue(ClientName, pki.RoleClient, 0); err != nil {
		return nil, err
	}
	gossip := make([]byte, 32)
	if _, err := rand.Read(gossip); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "gossip.key"), []byte(hex.EncodeToString(gossip)+"\n"), 0o600); err != nil {
		return nil, err
	}
	ageKey := filepath.Join(dir, "age.key")
	if _, err := sealed.GenerateIdentityFile(ageKey); err != nil {
		return nil, err
	}
	key := sealed.Key{IdentityFile: ageKey}

	var g *protocol.Group
	var shares []protocol.KeyShare
	if o.NoKey {
		if o.Participants < 2 || o.Threshold < 2 || o.Threshold > o.Participants {
			return nil, fmt.Errorf("threshold %d must be between 2 and the number of participants %d", o.Threshold, o.Participants)
		}
		for id := uint16(1); id <= o.Participants; id++ {
			shares = append(shares, protocol.KeyShare{ID: id}) // ids only
		}
	} else {
		var err error
		if g, shares, err = o.KeyGen(o.Threshold, o.Participants); err != nil {
			return nil, err
		}
		if err := (state.Dir{Path: filepath.Join(dir, coordinatorName)}).SaveGroup(g); err != nil {
			return nil, err
		}
	}
	addr := func(port int) string { return fmt.Sprintf("%s:%d", o.Host, port) }
	coord := CoordinatorConfig{}
	if _, err := toml.Decode(ExampleCoordinatorConfig, &coord); err != nil {
		return nil, err
	}
	coord.Listen, coord.Metrics = addr(o.BasePort), addr(o.BasePort+200)
	// Every node lists every other as a gossip seed, so any node that
	// restarts rejoins through whichever are up.
	gossipAddr := func(i int) string { return addr(o.BasePort + 100 + i) }
	seedsBut := func(self int) []string {
		var out []string
		for i := 0; i <= int(o.Participants); i++ {
			if i != self {
				out = append(out, gossipAddr(i))
			}
		}
		return out
	}
	coord.Gossip = GossipConfig{Bind: gossipAddr(0), Join: seedsBut(0), KeyFile: "gossip.key"}
	coord.TLS = TLSConfig(relFiles(dir, pki.NodeFiles(certs, coordinatorName)))
	if err := writeTOML(CoordinatorConfigPath(dir), coord); err != nil {
		return nil, err
	}
	for _, ks := range shares {
		name := fmt.Sprintf("participant-%d", ks.ID)
		if err := issue(name, pki.RoleParticipant, ks.ID); err != nil {
			return nil, err
		}
		sd := state.Dir{Path: filepath.Join(dir, name), Key: key}
		if g != nil {
			if err := sd.SaveGroup(g); err != nil {
				return nil, err
			}
			if err := sd.SaveKeyShare(ks); err != nil {
				return nil, err
			}
		} else if err := os.MkdirAll(sd.Path, 0o700); err != nil {
			return nil, err
		}
		var p ParticipantConfig
		if _, err := toml.Decode(ExampleParticipantConfig, &p); err != nil {
			return nil, err
		}
		p.Name, p.ID, p.StateDir = name, ks.ID, name
		p.Listen, p.Metrics = addr(o.BasePort+int(ks.ID)), addr(o.BasePort+200+int(ks.ID))
		p.Gossip = GossipConfig{Bind: gossipAddr(int(ks.ID)), Join: seedsBut(int(ks.ID)), KeyFile: "gossip.key"}
		p.TLS = TLSConfig(relFiles(dir, pki.NodeFiles(certs, name)))
		p.Secrets = SecretsConfig{IdentityFile: "age.key"}
		if err := writeTOML(ParticipantConfigPath(dir, ks.ID), p); err != nil {
			return nil, err
		}
		clear(ks.Secret[:])
	}
	return g, nil
}

// localDKG runs a key generation ceremony among the n participants in
// this process: every message goes through the same state machine that
// participants run over the network.
func localDKG(t, n uint16) (*protocol.Group, []protocol.KeyShare, error) {
	out, err := dkg.RunLocal(t, n)
	if err != nil {
		return nil, nil, fmt.Errorf("key generation: %w", err)
	}
	return out.Group, out.Shares, nil
}

func relFiles(dir string, f pki.Files) pki.Files {
	rel := func(p string) string {
		if r, err := filepath.Rel(dir, p); err == nil {
			return r
		}
		return p
	}
	return pki.Files{CA: rel(f.CA), Cert: rel(f.Cert), Key: rel(f.Key)}
}

func writeTOML(path string, v any) error {
	var b strings.Builder
	b.WriteString("# Written by frostd; see `frostd participant --print-config` for every setting.\n")
	if err := toml.NewEncoder(&b).Encode(v); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// DevCluster is a local cluster running in this process.
type DevCluster struct {
	Group        *protocol.Group
	Coordinator  *CoordinatorNode
	Participants []*ParticipantNode
	Dir          string
}

// StartDev starts every node of the local cluster in dir, creating the
// cluster first if dir holds none.
func StartDev(dir string, o LocalClusterOptions, log *slog.Logger) (*DevCluster, bool, error) {
	created := false
	if _, err := os.Stat(CoordinatorConfigPath(dir)); errors.Is(err, fs.ErrNotExist) {
		if _, err := InitLocalCluster(dir, o); err != nil {
			return nil, false, fmt.Errorf("creating the cluster in %s: %w", dir, err)
		}
		created = true
	}
	ccfg, err := LoadCoordinatorConfig(CoordinatorConfigPath(dir))
	if err != nil {
		return nil, created, err
	}
	d := &DevCluster{Dir: dir}
	if d.Coordinator, err = StartCoordinator(ccfg, log); err != nil {
		return nil, created, err
	}
	d.Group = d.Coordinator.Group()
	for _, id := range d.Group.IDs() {
		pcfg, err := LoadParticipantConfig(ParticipantConfigPath(dir, id))
		if err == nil {
			var p *ParticipantNode
			if p, err = StartParticipant(pcfg, log); err == nil {
				d.Participants = append(d.Participants, p)
				continue
			}
		}
		d.Close()
		return nil, created, fmt.Errorf("participant %d: %w", id, err)
	}
	return d, created, nil
}

// Close stops every node.
func (d *DevCluster) Close() {
	for _, p := range d.Participants {
		p.Close()
	}
	if d.Coordinator != nil {
		d.Coordinator.Close()
	}
}

// Ready waits until the coordinator sees at least t participants alive.
func (d *DevCluster) Ready(ctx context.Context) error {
	for {
		if len(d.Coordinator.Service().Stats().Reachable) >= int(d.Group.Threshold) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d participants to join: %w", d.Group.Threshold, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
