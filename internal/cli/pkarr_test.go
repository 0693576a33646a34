package cli_test

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/pkarr"
)

func TestPkarrSignVerify(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	id := generate(t, dir)
	pub, _ := id52.Decode(id)
	z32 := id52.EncodeZBase32(pub)
	out := filepath.Join(t.TempDir(), "node.pkarr")

	r := run(t, "", "pkarr", "sign", "--key", id[:6], "--dir", dir,
		"--txt", "relay=https://relay.example/", "--txt", "addr=203.0.113.7:4433,[2001:db8::7]:4433", "--out", out)
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("pkarr sign: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "packet for "+z32) || !strings.Contains(r.stderr, out) {
		t.Errorf("pkarr sign's stderr %q does not name the key and the file", r.stderr)
	}

	// The file is a canonical packet that the library verifies.
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pkarr.Parse(b)
	if err != nil {
		t.Fatalf("pkarr.Parse of the written packet: %v", err)
	}
	if !p.PublicKey.Equal(pub) || !ed25519.PublicKey(b[:32]).Equal(pub) {
		t.Fatalf("packet key %x, want %x first in the file", p.PublicKey, pub)
	}
	records, err := p.Records()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 2 || records[0].Name != "_iroh" || records[0].TTL != 30 ||
		records[0].TXT[0] != "relay=https://relay.example/" || records[1].TXT[0] != "addr=203.0.113.7:4433,[2001:db8::7]:4433" {
		t.Fatalf("records %+v, want the two --txt values under _iroh, commas kept", records)
	}

	v := run(t, "", "pkarr", "verify", out)
	if v.code != 0 || v.stderr != "" {
		t.Fatalf("pkarr verify: exit %d, stderr %q", v.code, v.stderr)
	}
	lines := strings.Split(v.stdout, "\n")
	want := []string{
		"z-base-32: " + z32,
		"id52: " + id,
		"", // timestamp, checked below
		"_iroh." + z32 + `. 30 IN TXT "relay=https://relay.example/"`,
		"_iroh." + z32 + `. 30 IN TXT "addr=203.0.113.7:4433,[2001:db8::7]:4433"`,
		"",
	}
	if len(lines) != len(want) {
		t.Fatalf("pkarr verify printed %d lines, want %d:\n%s", len(lines), len(want), v.stdout)
	}
	for i, w := range want {
		if w != "" && lines[i] != w {
			t.Errorf("line %d is %q, want %q", i+1, lines[i], w)
		}
	}
	if ts := p.Time().UTC().Format("2006-01-02T15:04:05.999999Z07:00"); !strings.HasPrefix(lines[2], "timestamp: "+ts+" (") {
		t.Errorf("line 3 is %q, want the timestamp %s", lines[2], ts)
	}

	// From standard input too.
	if s := run(t, string(b), "pkarr", "verify", "-"); s.code != 0 || s.stdout != v.stdout {
		t.Errorf("pkarr verify -: exit %d, stdout %q, want %q", s.code, s.stdout, v.stdout)
	}

	// Any change to the signed part makes it invalid.
	for name, change := range map[string]func([]byte){
		"signature": func(b []byte) { b[40] ^= 1 },
		"timestamp": func(b []byte) { b[32+64+7]++ },
		"record":    func(b []byte) { b[len(b)-1] ^= 1 },
		"key":       func(b []byte) { b[0] ^= 1 },
	} {
		t.Run("altered "+name, func(t *testing.T) {
			bad := append([]byte(nil), b...)
			change(bad)
			path := filepath.Join(t.TempDir(), "bad.pkarr")
			if err := os.WriteFile(path, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			r := run(t, "", "pkarr", "verify", path)
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			expectFailure(t, r, "frostd: invalid: pkarr: packet for ")
		})
	}
	t.Run("cut short", func(t *testing.T) {
		r := run(t, string(b[:50]), "pkarr", "verify", "-")
		if r.code != 1 {
			t.Errorf("exit %d, want 1", r.code)
		}
		expectFailure(t, r, "shorter than the 104-byte header")
	})
}

func TestPkarrSignOptions(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	id := generate(t, dir)
	r := run(t, "", "pkarr", "sign", "--key", id, "--dir", dir, "--name", "@", "--ttl", "300", "--txt", "hello", "--out", "-")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	p, err := pkarr.Parse([]byte(r.stdout))
	if err != nil {
		t.Fatalf("--out - did not write a packet to stdout: %v", err)
	}
	records, err := p.Records()
	if err != nil || len(records) != 1 || records[0].Name != "@" || records[0].TTL != 300 || records[0].TXT[0] != "hello" {
		t.Fatalf("records %+v (%v), want one TXT \"hello\" at the key's own name, TTL 300", records, err)
	}
	v := run(t, r.stdout, "pkarr", "verify", "-")
	if want := p.Origin() + `. 300 IN TXT "hello"` + "\n"; v.code != 0 || !strings.HasSuffix(v.stdout, want) {
		t.Fatalf("pkarr verify: exit %d, stdout %q, want it to end %q", v.code, v.stdout, want)
	}
}

// pkarr sign takes every backend; here the key is in an ssh-agent.
func TestPkarrSignWithSSHAgent(t *testing.T) {
	isolate(t)
	socket := startSSHAgent(t)
	pub, _ := addAgentKey(t, socket, "pkarr")
	out := filepath.Join(t.TempDir(), "p")
	r := run(t, "", "pkarr", "sign", "--backend", "sshagent", "--agent-socket", socket, "--key", id52.Encode(pub), "--txt", "relay=https://r.example/", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	v := run(t, "", "pkarr", "verify", out)
	if v.code != 0 || !strings.HasPrefix(v.stdout, "z-base-32: "+id52.EncodeZBase32(pub)+"\n") {
		t.Fatalf("pkarr verify: exit %d, stdout %q, stderr %q", v.code, v.stdout, v.stderr)
	}
}

func TestPkarrErrors(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	id := generate(t, dir)
	long := strings.Repeat("x", 256)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no txt", []string{"sign", "--key", id, "--dir", dir, "--out", "-"}, "--txt is required"},
		{"no out", []string{"sign", "--key", id, "--dir", dir, "--txt", "a=b"}, "--out is required"},
		{"no key", []string{"sign", "--dir", dir, "--txt", "a=b", "--out", "-"}, "--key is required"},
		{"long txt", []string{"sign", "--key", id, "--dir", dir, "--txt", long, "--out", "-"}, "over DNS's 255-byte limit"},
		{"too many records", append([]string{"sign", "--key", id, "--dir", dir, "--out", "-"},
			strings.Split(strings.Repeat("--txt "+strings.Repeat("y", 200)+" ", 6), " ")[:12]...), "over the 1000-byte limit"},
		{"bad name", []string{"sign", "--key", id, "--dir", dir, "--txt", "a", "--name", "a..b", "--out", "-"}, "empty label"},
		{"unwritable out", []string{"sign", "--key", id, "--dir", dir, "--txt", "a", "--out", filepath.Join(dir, "no", "such", "dir")}, "--out: open"},
		{"verify no file", []string{"verify"}, "pkarr verify takes one packet file"},
		{"verify missing file", []string{"verify", filepath.Join(dir, "nope")}, "no such file"},
		{"pkarr typo", []string{"sgn"}, `unknown command "sgn"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			expectFailure(t, run(t, "", append([]string{"pkarr"}, tt.args...)...), tt.want)
		})
	}
}
