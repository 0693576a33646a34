package membership

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigRejected(t *testing.T) {
	ok := Config{Name: "p1", SecretKey: clusterKey, Meta: participant(1), Profile: ProfileLocal}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no name", func(c *Config) { c.Name = "" }, "Config.Name is empty"},
		{"no key", func(c *Config) { c.SecretKey = nil }, "SecretKey is empty"},
		{"short key", func(c *Config) { c.SecretKey = make([]byte, 15) }, "15 bytes"},
		{"key and insecure", func(c *Config) { c.InsecureNoEncryption = true }, "both SecretKey and InsecureNoEncryption"},
		{"profile", func(c *Config) { c.Profile = "wan" }, `unknown Config.Profile "wan"`},
		{"port", func(c *Config) { c.BindPort = 70000 }, "BindPort 70000"},
		{"advertise port alone", func(c *Config) { c.AdvertisePort = 7946 }, "AdvertisePort is set without AdvertiseAddr"},
		{"meta name", func(c *Config) { c.Meta.Name = "other" }, `Meta.Name "other" differs`},
		{"meta", func(c *Config) { c.Meta.ParticipantID = 0 }, "needs a ParticipantID"},
		{"meta too large", func(c *Config) { c.Meta.GRPCAddr = strings.Repeat("x", 600) }, "metadata too large"},
	} {
		cfg := ok
		cfg.Logger = testLogger(t)
		tc.change(&cfg)
		n, err := Start(cfg, nil)
		if err == nil {
			n.Shutdown()
			t.Errorf("%s: Start succeeded", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to say %q", tc.name, err, tc.want)
		}
	}
	cfg := ok
	cfg.Meta.GRPCAddr = strings.Repeat("x", 600)
	if _, err := Start(cfg, nil); !errors.Is(err, ErrMetaTooLarge) {
		t.Errorf("oversized Meta: err = %v, want ErrMetaTooLarge", err)
	}
}

func TestConfigDefaults(t *testing.T) {
	key := bytes.Clone(clusterKey)
	cfg, err := Config{Name: "p1", SecretKey: key, Meta: participant(1)}.validated()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Profile != ProfileLAN || cfg.BindAddr != "0.0.0.0" || cfg.Meta.Name != "p1" || cfg.Logger == nil {
		t.Fatalf("defaults: %+v", cfg)
	}
	key[0] ^= 1
	if cfg.SecretKey[0] == key[0] {
		t.Fatal("the config shares the caller's key slice; a later change by the caller would change the cluster key")
	}
	local, err := Config{Name: "p1", InsecureNoEncryption: true, Meta: participant(1), Profile: ProfileLocal}.validated()
	if err != nil {
		t.Fatal(err)
	}
	if local.BindAddr != "127.0.0.1" {
		t.Fatalf("local profile binds %q by default, want loopback", local.BindAddr)
	}
	mc := local.memberlistConfig()
	if mc.ProbeInterval != 500*time.Millisecond || mc.SuspicionMaxTimeoutMult != 3 || mc.RetransmitMult != 4 || mc.AdvertisePort != 0 {
		t.Fatalf("local memberlist config: probe %s, max mult %d, retransmit %d, advertise port %d",
			mc.ProbeInterval, mc.SuspicionMaxTimeoutMult, mc.RetransmitMult, mc.AdvertisePort)
	}
	if lan := cfg.memberlistConfig(); lan.ProbeInterval != time.Second || len(lan.SecretKey) != 32 {
		t.Fatalf("LAN memberlist config: probe %s, key %d bytes", lan.ProbeInterval, len(lan.SecretKey))
	}
}

func TestMethodsAfterShutdown(t *testing.T) {
	n := start(t, localConfig(t, "solo", participant(1)), nil)
	if got := n.Members(); len(got) != 1 || got[0].Meta != n.Meta() || got[0].Addr != n.LocalAddr() {
		t.Fatalf("a lone node lists %+v, want only itself", got)
	}
	n.Shutdown()
	n.Shutdown() // idempotent
	for name, err := range map[string]error{
		"Join":       n.Join([]string{"127.0.0.1:1"}),
		"Leave":      n.Leave(time.Second),
		"UpdateMeta": n.UpdateMeta(participant(2), time.Second),
	} {
		if !errors.Is(err, ErrShutdown) {
			t.Errorf("%s after Shutdown: %v, want ErrShutdown", name, err)
		}
	}
	if err := n.Leave(0); err == nil {
		t.Error("Leave(0) accepted; it would wait forever")
	}
}
