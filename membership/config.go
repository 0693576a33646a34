package membership

import (
	"errors"
	"fmt"
	"log"
	"log/slog"
	"slices"

	"github.com/hashicorp/memberlist"
)

// Config describes one node. Name, Meta and either SecretKey or
// InsecureNoEncryption are required; everything else has a default.
type Config struct {
	// Name identifies the node in the cluster and must be unique in it.
	// It is also Meta.Name as the others see it.
	Name string

	// BindAddr and BindPort are where the node listens for gossip, UDP and
	// TCP on the same port. BindAddr defaults to 127.0.0.1 for ProfileLocal
	// and 0.0.0.0 for ProfileLAN; BindPort 0 picks a free port (read it
	// back with LocalAddr).
	BindAddr string
	BindPort int

	// AdvertiseAddr and AdvertisePort are what the others are told to use,
	// when that differs from the bound address (NAT, containers). By
	// default the bound address is advertised; with BindAddr 0.0.0.0,
	// memberlist picks one of the host's private addresses.
	AdvertiseAddr string
	AdvertisePort int

	// SecretKey encrypts and authenticates all gossip with AES-GCM: 16, 24
	// or 32 bytes (AES-128, -192, -256), the same on every node.
	SecretKey []byte
	// InsecureNoEncryption runs without SecretKey, so anyone who can reach
	// the port can join and forge membership. For tests only.
	InsecureNoEncryption bool

	// Join lists members already up ("host:port"); Start joins through
	// them and fails if none answers. Leave it empty for the first node,
	// or to call Node.Join later (for example in a retry loop).
	Join []string

	// Meta is what this node advertises. Meta.Name may be left empty; it is
	// set to Name.
	Meta Meta

	// Logger receives this package's and memberlist's own logs; memberlist's
	// [DEBUG] lines at slog.LevelDebug and so on. Nil means slog.Default().
	Logger *slog.Logger

	// Profile picks memberlist's timing defaults. Empty means ProfileLAN.
	Profile Profile
}

// validated returns cfg checked, with defaults filled in.
func (cfg Config) validated() (Config, error) {
	if cfg.Name == "" {
		return cfg, errors.New("membership: Config.Name is empty; give every node a unique name")
	}
	switch cfg.Profile {
	case "":
		cfg.Profile = ProfileLAN
	case ProfileLocal, ProfileLAN:
	default:
		return cfg, fmt.Errorf("membership: unknown Config.Profile %q; use %q or %q", cfg.Profile, ProfileLocal, ProfileLAN)
	}
	if cfg.BindAddr == "" {
		cfg.BindAddr = cfg.Profile.defaultBindAddr()
	}
	for _, p := range []struct {
		name string
		port int
	}{{"BindPort", cfg.BindPort}, {"AdvertisePort", cfg.AdvertisePort}} {
		if p.port < 0 || p.port > 65535 {
			return cfg, fmt.Errorf("membership: Config.%s %d is not a port; use 0 to 65535", p.name, p.port)
		}
	}
	if cfg.AdvertisePort != 0 && cfg.AdvertiseAddr == "" {
		return cfg, errors.New("membership: Config.AdvertisePort is set without AdvertiseAddr, and memberlist would ignore it; set both")
	}
	switch {
	case len(cfg.SecretKey) > 0 && cfg.InsecureNoEncryption:
		return cfg, errors.New("membership: Config sets both SecretKey and InsecureNoEncryption; drop one")
	case len(cfg.SecretKey) == 0 && !cfg.InsecureNoEncryption:
		return cfg, errors.New("membership: Config.SecretKey is empty; give every node the same 16, 24 or 32-byte cluster key (InsecureNoEncryption exists for tests)")
	case len(cfg.SecretKey) > 0:
		if n := len(cfg.SecretKey); n != 16 && n != 24 && n != 32 {
			return cfg, fmt.Errorf("membership: Config.SecretKey is %d bytes; an AES key is 16, 24 or 32 bytes", n)
		}
		cfg.SecretKey = slices.Clone(cfg.SecretKey)
	}
	switch cfg.Meta.Name {
	case "":
		cfg.Meta.Name = cfg.Name
	case cfg.Name:
	default:
		return cfg, fmt.Errorf("membership: Config.Meta.Name %q differs from Config.Name %q; leave Meta.Name empty", cfg.Meta.Name, cfg.Name)
	}
	cfg.Join = slices.Clone(cfg.Join)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg, nil
}

// memberlistConfig translates a validated Config. The caller sets the
// delegates.
func (cfg Config) memberlistConfig() *memberlist.Config {
	mc := cfg.Profile.memberlistConfig()
	mc.Name = cfg.Name
	mc.BindAddr = cfg.BindAddr
	mc.BindPort = cfg.BindPort
	mc.AdvertiseAddr = cfg.AdvertiseAddr
	mc.AdvertisePort = cfg.AdvertisePort
	if mc.AdvertisePort == 0 {
		// memberlist's defaults say 7946; what we bound is the right
		// default. (With BindPort 0 memberlist fills in the port it got.)
		mc.AdvertisePort = cfg.BindPort
	}
	mc.SecretKey = cfg.SecretKey
	mc.Logger = log.New(&slogWriter{log: cfg.Logger.With("component", "memberlist")}, "", 0)
	return mc
}
