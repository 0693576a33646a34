package cli_test

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frostd/frostd/pki"
)

func certsInit(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ca")
	r := run(t, "", "certs", "init", "--dir", dir)
	if r.code != 0 {
		t.Fatalf("certs init: exit %d, stderr %q", r.code, r.stderr)
	}
	want := filepath.Join(dir, "ca.crt") + "\n" + filepath.Join(dir, "ca.key") + "\n"
	if r.stdout != want {
		t.Fatalf("certs init printed %q, want %q", r.stdout, want)
	}
	return dir
}

func parseCertFile(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s holds no PEM block", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCertsInit(t *testing.T) {
	dir := certsInit(t)
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(filepath.Join(dir, "ca.key"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("ca.key: %v, mode %v; want 0600", err, fi.Mode().Perm())
		}
	}
	if ca := parseCertFile(t, filepath.Join(dir, "ca.crt")); !ca.IsCA {
		t.Error("ca.crt is not a CA certificate")
	}
	r := run(t, "", "certs", "init", "--dir", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "already") {
		t.Errorf("second init: exit %d, stderr %q; want a refusal to overwrite", r.code, r.stderr)
	}
	if r := run(t, "", "certs", "init"); r.code != 1 || !strings.Contains(r.stderr, "--dir is required") {
		t.Errorf("init without --dir: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestCertsIssue(t *testing.T) {
	dir := certsInit(t)

	r := run(t, "", "certs", "issue", "--dir", dir, "--name", "p3", "--role", "participant", "--id", "3", "--host", "p3.internal,10.0.0.3", "--host", "fd00::3")
	if r.code != 0 {
		t.Fatalf("issue participant: exit %d, stderr %q", r.code, r.stderr)
	}
	out := filepath.Join(dir, "p3")
	files := pki.NodeFiles(out, "p3")
	if want := files.CA + "\n" + files.Cert + "\n" + files.Key + "\n"; r.stdout != want {
		t.Errorf("printed %q, want %q", r.stdout, want)
	}
	if !strings.Contains(r.stderr, "frostd://participant/3") {
		t.Errorf("stderr %q does not show the identity", r.stderr)
	}
	id, err := files.Identity()
	if err != nil || id != (pki.Identity{Role: pki.RoleParticipant, Name: "p3", ParticipantID: 3}) {
		t.Errorf("identity %+v, %v", id, err)
	}
	cert := parseCertFile(t, files.Cert)
	if !slices.Contains(cert.DNSNames, "p3.internal") || len(cert.IPAddresses) != 4 {
		t.Errorf("SANs %v %v, want p3.internal and four IP addresses", cert.DNSNames, cert.IPAddresses)
	}
	if _, err := pki.ServerTLS(files, pki.RoleCoordinator); err != nil {
		t.Errorf("the issued files do not make a TLS configuration: %v", err)
	}

	clientOut := filepath.Join(t.TempDir(), "billing")
	r = run(t, "", "certs", "issue", "--dir", dir, "--name", "billing", "--role", "client", "--valid-for", "2d", "--out", clientOut)
	if r.code != 0 {
		t.Fatalf("issue client: exit %d, stderr %q", r.code, r.stderr)
	}
	cert = parseCertFile(t, filepath.Join(clientOut, "billing.crt"))
	if d := cert.NotAfter.Sub(cert.NotBefore); d < 48*time.Hour || d > 49*time.Hour {
		t.Errorf("--valid-for 2d gave %v", d)
	}
	if id, err := pki.NodeFiles(clientOut, "billing").Identity(); err != nil || id.Role != pki.RoleClient {
		t.Errorf("client identity %+v, %v", id, err)
	}

	r = run(t, "", "certs", "issue", "--dir", dir, "--name", "coord", "--role", "coordinator")
	if r.code != 0 {
		t.Fatalf("issue coordinator: exit %d, stderr %q", r.code, r.stderr)
	}
	cert = parseCertFile(t, filepath.Join(dir, "coord", "coord.crt"))
	if d := cert.NotAfter.Sub(cert.NotBefore); d < 364*24*time.Hour || d > 366*24*time.Hour {
		t.Errorf("default validity %v, want a year", d)
	}
}

func TestCertsIssueRefuses(t *testing.T) {
	dir := certsInit(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--name", "x", "--role", "client"}, "--dir is required"},
		{[]string{"--dir", dir, "--role", "client"}, "--name is required"},
		{[]string{"--dir", dir, "--name", "x"}, "--role is required"},
		{[]string{"--dir", dir, "--name", "x", "--role", "admin"}, "unknown role"},
		{[]string{"--dir", dir, "--name", "p", "--role", "participant"}, "--id is required"},
		{[]string{"--dir", dir, "--name", "p", "--role", "participant", "--id", "0"}, "participant id"},
		{[]string{"--dir", dir, "--name", "p", "--role", "participant", "--id", "70000"}, "out of range"},
		{[]string{"--dir", dir, "--name", "c", "--role", "client", "--id", "2"}, "participants only"},
		{[]string{"--dir", dir, "--name", "a/b", "--role", "client"}, "letters, digits"},
		{[]string{"--dir", dir, "--name", "c", "--role", "client", "--valid-for", "soon"}, "--valid-for"},
		{[]string{"--dir", dir, "--name", "c", "--role", "client", "--host", "bad host"}, "neither an IP"},
		{[]string{"--dir", t.TempDir(), "--name", "c", "--role", "client"}, "certs init"},
	}
	for _, c := range cases {
		r := run(t, "", append([]string{"certs", "issue"}, c.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("certs issue %v: exit %d, stderr %q; want exit 1 mentioning %q", c.args, r.code, r.stderr, c.want)
		}
	}

	if r := run(t, "", "certs", "issue", "--dir", dir, "--name", "c", "--role", "client"); r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "c", "c.key"))
	r := run(t, "", "certs", "issue", "--dir", dir, "--name", "c", "--role", "client")
	if r.code != 1 || !strings.Contains(r.stderr, "exists") {
		t.Errorf("reissue: exit %d, stderr %q; want a refusal to overwrite", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "c", "c.key")); string(after) != string(before) {
		t.Error("a refused reissue changed the key")
	}
}

func TestCertsHelp(t *testing.T) {
	r := run(t, "", "certs", "issue", "--help")
	for _, want := range []string{"frostd://participant/N", "--host", "--valid-for", "ca.crt"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("certs issue --help (exit %d) does not mention %q", r.code, want)
		}
	}
	if r := run(t, "", "certs"); r.code != 0 || !strings.Contains(r.stdout, "certs init") {
		t.Errorf("certs alone: exit %d, stdout %q", r.code, r.stdout)
	}
	if r := run(t, "", "certs", "typo"); r.code == 0 {
		t.Error("certs typo succeeded")
	}
}
