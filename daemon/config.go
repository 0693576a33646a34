// Package daemon runs frostd's long-lived processes: a participant, a
// coordinator, and the embedded development cluster that starts several of
// each in one process. It wires the protocol core (packages participant
// and coordinator) to its edges: gRPC over mutual TLS, memberlist gossip,
// bbolt nonce stores, age-sealed key shares, Prometheus metrics and slog.
package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/sealed"
)

// TLSConfig names a node's certificate files (see `frostd certs`).
type TLSConfig struct {
	CA   string `toml:"ca"`
	Cert string `toml:"cert"`
	Key  string `toml:"key"`
}

// GossipConfig configures membership gossip.
type GossipConfig struct {
	Bind    string   `toml:"bind"`     // host:port for memberlist (UDP and TCP)
	Join    []string `toml:"join"`     // seeds; empty starts a new cluster
	KeyFile string   `toml:"key_file"` // 32-byte cluster key, hex; encrypts gossip
}

// SecretsConfig says how secrets at rest are sealed with age. Exactly one
// of IdentityFile, PassphraseFile, PassphraseEnv, InsecurePlaintext.
type SecretsConfig struct {
	IdentityFile      string `toml:"identity_file"`
	PassphraseFile    string `toml:"passphrase_file"`
	PassphraseEnv     string `toml:"passphrase_env"`
	InsecurePlaintext bool   `toml:"insecure_plaintext"`
}

// ParticipantConfig is a participant's configuration file.
type ParticipantConfig struct {
	Name     string        `toml:"name"`
	ID       uint16        `toml:"id"`
	StateDir string        `toml:"state_dir"`
	Listen   string        `toml:"listen"`
	Metrics  string        `toml:"metrics"`
	TLS      TLSConfig     `toml:"tls"`
	Gossip   GossipConfig  `toml:"gossip"`
	Secrets  SecretsConfig `toml:"secrets"`
	Policy   struct {
		Coordinators   []string `toml:"coordinators"`
		MaxMessageSize int      `toml:"max_message_size"`
		AllowPrefixes  []string `toml:"allow_prefixes"`
	} `toml:"policy"`
	Pool struct {
		Push int `toml:"push"` // unspent commitments pushed to a coordinator on (re)connect
	} `toml:"pool"`
	Store struct {
		KeepTombstones int `toml:"keep_tombstones"`
	} `toml:"store"`
}

// CoordinatorConfig is a coordinator's configuration file.
type CoordinatorConfig struct {
	Name           string       `toml:"name"`
	StateDir       string       `toml:"state_dir"`
	Listen         string       `toml:"listen"`
	Metrics        string       `toml:"metrics"`
	TLS            TLSConfig    `toml:"tls"`
	Gossip         GossipConfig `toml:"gossip"`
	AttemptTimeout Duration     `toml:"attempt_timeout"`
	MaxInFlight    int          `toml:"max_in_flight"`
	Pool           struct {
		Low   int `toml:"low"`
		Batch int `toml:"batch"`
	} `toml:"pool"`
}

// Duration is a time.Duration written as "2s" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: %w (write e.g. \"2s\" or \"500ms\")", b, err)
	}
	d.Duration = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// ExampleParticipantConfig is a documented participant configuration with
// the defaults; `frostd participant --print-config` prints it.
const ExampleParticipantConfig = `# frostd participant. Relative paths are relative to this file.
name = "participant-1"      # must match the name in its certificate
id = 1                      # its member id in the group (1..n)
state_dir = "participant-1" # group.json, keyshare.age, nonces.db, nonces.db.slots
listen = "127.0.0.1:7401"   # gRPC, mutual TLS only
metrics = "127.0.0.1:9401"  # Prometheus /metrics over plain HTTP; "" turns it off

[tls]                       # made by: frostd certs issue --role participant --id 1
ca = "certs/ca.crt"
cert = "certs/participant-1.crt"
key = "certs/participant-1.key"

[gossip]
bind = "127.0.0.1:7501"     # memberlist, UDP and TCP
join = ["127.0.0.1:7500"]   # any running member
key_file = "gossip.key"     # 32-byte cluster key in hex, the same on every node

[secrets]                   # how the key share and nonces are sealed at rest (age)
identity_file = "age.key"   # or passphrase_file = "...", or passphrase_env = "VAR"
# insecure_plaintext = true # tests only: secrets on disk unencrypted

[policy]
coordinators = []           # coordinator certificate names allowed to ask; [] = any coordinator certificate
max_message_size = 1048576
allow_prefixes = []         # sign only messages starting with one of these (e.g. ["3:seqi"] for pkarr
                            # packets only); [] signs any message a coordinator asks for

[pool]
push = 64                   # unspent commitments pushed to a coordinator when it appears

[store]
keep_tombstones = 0         # remember the last N spent nonces for precise replay errors (about 130 bytes
                            # each); 0 keeps all. Forgotten nonces stay unusable: they are refused as unknown.
`

// ExampleCoordinatorConfig is a documented coordinator configuration with
// the defaults; `frostd coordinator --print-config` prints it.
const ExampleCoordinatorConfig = `# frostd coordinator. Relative paths are relative to this file.
name = "coordinator"        # must match the name in its certificate
state_dir = "coordinator"   # group.json (public: the group key and public shares)
listen = "127.0.0.1:7400"   # gRPC for clients and participants, mutual TLS only
metrics = "127.0.0.1:9400"  # Prometheus /metrics; "" turns it off
attempt_timeout = "2s"      # how long a quorum has to answer one round
max_in_flight = 32          # concurrent sign requests; more wait their turn

[tls]                       # made by: frostd certs issue --role coordinator
ca = "certs/ca.crt"
cert = "certs/coordinator.crt"
key = "certs/coordinator.key"

[gossip]
bind = "127.0.0.1:7500"
join = []                   # the first node starts the cluster
key_file = "gossip.key"

[pool]
low = 16                    # ask a participant for more commitments below this
batch = 64                  # ... this many at a time
`

// LoadParticipantConfig reads and checks a participant configuration.
func LoadParticipantConfig(path string) (*ParticipantConfig, error) {
	var c ParticipantConfig
	if err := decodeFile(path, ExampleParticipantConfig, &c); err != nil {
		return nil, err
	}
	base := filepath.Dir(path)
	for _, p := range []*string{&c.StateDir, &c.TLS.CA, &c.TLS.Cert, &c.TLS.Key, &c.Gossip.KeyFile, &c.Secrets.IdentityFile, &c.Secrets.PassphraseFile} {
		*p = resolve(base, *p)
	}
	var errs []error
	if c.ID == 0 {
		errs = append(errs, errors.New("id must be the participant's member id, 1 or more"))
	}
	errs = append(errs, checkCommon(c.Name, c.StateDir, c.Listen, c.TLS)...)
	if _, err := c.SealKey(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

// LoadCoordinatorConfig reads and checks a coordinator configuration.
func LoadCoordinatorConfig(path string) (*CoordinatorConfig, error) {
	var c CoordinatorConfig
	if err := decodeFile(path, ExampleCoordinatorConfig, &c); err != nil {
		return nil, err
	}
	base := filepath.Dir(path)
	for _, p := range []*string{&c.StateDir, &c.TLS.CA, &c.TLS.Cert, &c.TLS.Key, &c.Gossip.KeyFile} {
		*p = resolve(base, *p)
	}
	if err := errors.Join(checkCommon(c.Name, c.StateDir, c.Listen, c.TLS)...); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

// decodeFile decodes defaults, then the file over them, and refuses
// unknown keys (a typo must not silently fall back to a default).
func decodeFile(path, defaults string, v any) error {
	if _, err := toml.Decode(defaults, v); err != nil {
		return fmt.Errorf("built-in defaults: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	// A [secrets] table in the file replaces the default one whole: its
	// settings exclude each other, so merging would make two of them set.
	if p, ok := v.(*ParticipantConfig); ok {
		p.Name, p.ID = "", 0 // who a participant is has no default
		var probe ParticipantConfig
		if md, err := toml.Decode(string(b), &probe); err == nil && md.IsDefined("secrets") {
			p.Secrets = SecretsConfig{}
		}
	}
	md, err := toml.Decode(string(b), v)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if undec := md.Undecoded(); len(undec) > 0 {
		return fmt.Errorf("%s: unknown setting %q (see --print-config for the settings)", path, undec[0].String())
	}
	return nil
}

func checkCommon(name, state, listen string, t TLSConfig) []error {
	var errs []error
	if name == "" {
		errs = append(errs, errors.New("name is empty: set it to the name in the node's certificate"))
	}
	if state == "" {
		errs = append(errs, errors.New("state_dir is empty"))
	}
	if listen == "" {
		errs = append(errs, errors.New("listen is empty: give host:port for gRPC"))
	}
	if t.CA == "" || t.Cert == "" || t.Key == "" {
		errs = append(errs, errors.New("[tls] needs ca, cert and key: frostd refuses plaintext (make them with frostd certs)"))
	}
	return errs
}

func resolve(base, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// ParticipantPolicy is the participant policy the configuration asks for.
func (c *ParticipantConfig) ParticipantPolicy() participant.Policy {
	p := participant.Policy{Coordinators: c.Policy.Coordinators, MaxMessageSize: c.Policy.MaxMessageSize}
	if len(c.Policy.AllowPrefixes) > 0 {
		prefixes := make([][]byte, len(c.Policy.AllowPrefixes))
		for i, s := range c.Policy.AllowPrefixes {
			prefixes[i] = []byte(s)
		}
		p.Allow = func(_ string, msg []byte) error {
			for _, pre := range prefixes {
				if bytes.HasPrefix(msg, pre) {
					return nil
				}
			}
			return fmt.Errorf("the message starts with none of the allowed prefixes %q ([policy] allow_prefixes)", c.Policy.AllowPrefixes)
		}
	}
	return p
}

// SealKey returns how to seal secrets at rest, as configured.
func (c *ParticipantConfig) SealKey() (sealed.Key, error) {
	s := c.Secrets
	set := 0
	for _, b := range []bool{s.IdentityFile != "", s.PassphraseFile != "", s.PassphraseEnv != "", s.InsecurePlaintext} {
		if b {
			set++
		}
	}
	if set != 1 {
		return sealed.Key{}, errors.New("[secrets] needs exactly one of identity_file, passphrase_file, passphrase_env, insecure_plaintext")
	}
	switch {
	case s.IdentityFile != "":
		return sealed.Key{IdentityFile: s.IdentityFile}, nil
	case s.PassphraseFile != "":
		b, err := readSmallFile(s.PassphraseFile, 4096)
		if err != nil {
			return sealed.Key{}, fmt.Errorf("[secrets] passphrase_file: %w", err)
		}
		if len(trimNewline(b)) == 0 {
			return sealed.Key{}, fmt.Errorf("[secrets] passphrase_file %s is empty", s.PassphraseFile)
		}
		return sealed.Key{Passphrase: string(trimNewline(b))}, nil
	case s.PassphraseEnv != "":
		v := os.Getenv(s.PassphraseEnv)
		if v == "" {
			return sealed.Key{}, fmt.Errorf("[secrets] passphrase_env: $%s is empty", s.PassphraseEnv)
		}
		return sealed.Key{Passphrase: v}, nil
	default:
		return sealed.Key{InsecurePlaintext: true}, nil
	}
}

// readSmallFile reads a regular file of at most limit bytes: a path to a
// device or a pipe (a typo, or a fuzzer's idea) must fail, not hang.
func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes; a passphrase file holds at most %d", path, fi.Size(), limit)
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
