package pki_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"github.com/frostd/frostd/pki"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newCA(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ca")
	if _, err := pki.InitCA(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func issue(t *testing.T, caDir, name string, role pki.Role, opts pki.IssueOptions) pki.Files {
	t.Helper()
	f, err := pki.Issue(caDir, name, role, filepath.Join(t.TempDir(), name), opts)
	if err != nil {
		t.Fatalf("Issue(%s, %s): %v", name, role, err)
	}
	return f
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestInitCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	cert, err := pki.InitCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.IsCA || !cert.MaxPathLenZero {
		t.Errorf("CA certificate IsCA=%v MaxPathLenZero=%v, want a CA for leaf certificates only", cert.IsCA, cert.MaxPathLenZero)
	}
	onDisk := readCert(t, filepath.Join(dir, "ca.crt"))
	if !onDisk.Equal(cert) {
		t.Error("ca.crt differs from the returned certificate")
	}
	if runtime.GOOS != "windows" {
		if m := mode(t, filepath.Join(dir, "ca.key")); m != 0o600 {
			t.Errorf("ca.key mode %04o, want 0600", m)
		}
	}
	before, _ := os.ReadFile(filepath.Join(dir, "ca.key"))
	if _, err := pki.InitCA(dir); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second InitCA: got %v, want an error wrapping fs.ErrExist", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "ca.key"))
	if string(before) != string(after) {
		t.Fatal("second InitCA changed ca.key")
	}
}

func TestIssueIdentities(t *testing.T) {
	ca := newCA(t)
	caCert := readCert(t, filepath.Join(ca, "ca.crt"))
	cases := []struct {
		name string
		role pki.Role
		opts pki.IssueOptions
		uri  string
		want pki.Identity
	}{
		{"p3", pki.RoleParticipant, pki.IssueOptions{ParticipantID: 3}, "frostd://participant/3", pki.Identity{Role: pki.RoleParticipant, Name: "p3", ParticipantID: 3}},
		{"coord-1", pki.RoleCoordinator, pki.IssueOptions{}, "frostd://coordinator/coord-1", pki.Identity{Role: pki.RoleCoordinator, Name: "coord-1"}},
		{"billing.svc", pki.RoleClient, pki.IssueOptions{}, "frostd://client/billing.svc", pki.Identity{Role: pki.RoleClient, Name: "billing.svc"}},
	}
	for _, c := range cases {
		t.Run(string(c.role), func(t *testing.T) {
			f := issue(t, ca, c.name, c.role, c.opts)
			cert := readCert(t, f.Cert)
			if len(cert.URIs) != 1 || cert.URIs[0].String() != c.uri {
				t.Errorf("URI SANs %v, want [%s]", cert.URIs, c.uri)
			}
			got, err := pki.IdentityOf(cert)
			if err != nil || got != c.want {
				t.Errorf("IdentityOf = %+v, %v; want %+v", got, err, c.want)
			}
			if fromFile, err := f.Identity(); err != nil || fromFile != c.want {
				t.Errorf("Files.Identity = %+v, %v; want %+v", fromFile, err, c.want)
			}
			if err := cert.CheckSignatureFrom(caCert); err != nil {
				t.Errorf("not signed by the CA: %v", err)
			}
			if !slices.Contains(cert.DNSNames, "localhost") || len(cert.IPAddresses) != 2 {
				t.Errorf("SANs %v %v, want localhost, 127.0.0.1 and ::1", cert.DNSNames, cert.IPAddresses)
			}
			wantServer := c.role != pki.RoleClient
			if got := slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth); got != wantServer {
				t.Errorf("server auth usage %v, want %v", got, wantServer)
			}
			if d := cert.NotAfter.Sub(cert.NotBefore); d < 364*24*time.Hour || d > 366*24*time.Hour {
				t.Errorf("validity %v, want about a year", d)
			}
			if runtime.GOOS != "windows" {
				if m := mode(t, f.Key); m != 0o600 {
					t.Errorf("key mode %04o, want 0600", m)
				}
			}
			orig, _ := os.ReadFile(filepath.Join(ca, "ca.crt"))
			if cp, err := os.ReadFile(f.CA); err != nil || string(cp) != string(orig) {
				t.Errorf("the output directory has no copy of ca.crt (%v)", err)
			}
		})
	}
}

func TestIssueHostsAndValidity(t *testing.T) {
	ca := newCA(t)
	nb := time.Now().Add(-time.Hour).Truncate(time.Second)
	f := issue(t, ca, "coord", pki.RoleCoordinator, pki.IssueOptions{
		Hosts: []string{"coord.example.org", "10.1.2.3", "fd00::7"}, NotBefore: nb, Validity: 2 * time.Hour,
	})
	cert := readCert(t, f.Cert)
	if !slices.Contains(cert.DNSNames, "coord.example.org") {
		t.Errorf("DNS SANs %v lack coord.example.org", cert.DNSNames)
	}
	var ips []string
	for _, ip := range cert.IPAddresses {
		ips = append(ips, ip.String())
	}
	for _, want := range []string{"127.0.0.1", "::1", "10.1.2.3", "fd00::7"} {
		if !slices.Contains(ips, want) {
			t.Errorf("IP SANs %v lack %s", ips, want)
		}
	}
	if !cert.NotBefore.Equal(nb) || !cert.NotAfter.Equal(nb.Add(2*time.Hour)) {
		t.Errorf("validity %v to %v, want %v to %v", cert.NotBefore, cert.NotAfter, nb, nb.Add(2*time.Hour))
	}
}

func TestIssueRefuses(t *testing.T) {
	ca := newCA(t)
	out := t.TempDir()
	cases := []struct {
		desc  string
		name  string
		role  pki.Role
		opts  pki.IssueOptions
		error string
	}{
		{"participant without id", "p", pki.RoleParticipant, pki.IssueOptions{}, "participant id"},
		{"client with id", "c", pki.RoleClient, pki.IssueOptions{ParticipantID: 2}, "no participant id"},
		{"unknown role", "x", pki.Role("admin"), pki.IssueOptions{}, "unknown role"},
		{"empty name", "", pki.RoleClient, pki.IssueOptions{}, "1 to 64"},
		{"slash in name", "a/b", pki.RoleClient, pki.IssueOptions{}, "letters, digits"},
		{"reserved name", "ca", pki.RoleClient, pki.IssueOptions{}, "reserved"},
		{"bad host", "c", pki.RoleClient, pki.IssueOptions{Hosts: []string{"not a host"}}, "neither an IP"},
	}
	for _, c := range cases {
		_, err := pki.Issue(ca, c.name, c.role, out, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.error) {
			t.Errorf("%s: got %v, want an error mentioning %q", c.desc, err, c.error)
		}
	}
	if _, err := pki.Issue(t.TempDir(), "c", pki.RoleClient, out, pki.IssueOptions{}); err == nil || !strings.Contains(err.Error(), "certs init") {
		t.Errorf("issuing without a CA: got %v, want a hint to run certs init", err)
	}
	if _, err := pki.Issue(ca, "c", pki.RoleClient, out, pki.IssueOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pki.Issue(ca, "c", pki.RoleClient, out, pki.IssueOptions{}); !errors.Is(err, fs.ErrExist) {
		t.Errorf("reissuing over existing files: got %v, want an error wrapping fs.ErrExist", err)
	}
	other := newCA(t)
	if _, err := pki.Issue(other, "d", pki.RoleClient, out, pki.IssueOptions{}); err == nil || !strings.Contains(err.Error(), "another cluster CA") {
		t.Errorf("issuing into a directory of another cluster: got %v", err)
	}
}

func TestIdentityOfRejects(t *testing.T) {
	mk := func(cn string, uris ...string) *x509.Certificate {
		c := &x509.Certificate{}
		c.Subject.CommonName = cn
		for _, s := range uris {
			u, err := url.Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			c.URIs = append(c.URIs, u)
		}
		return c
	}
	bad := map[string]*x509.Certificate{
		"no identity":       mk("x", "https://example.org/"),
		"two identities":    mk("x", "frostd://client/x", "frostd://client/y"),
		"unknown role":      mk("x", "frostd://admin/x"),
		"participant zero":  mk("x", "frostd://participant/0"),
		"leading zero":      mk("x", "frostd://participant/03"),
		"id too large":      mk("x", "frostd://participant/65536"),
		"id not a number":   mk("x", "frostd://participant/three"),
		"extra path":        mk("x", "frostd://client/x/y"),
		"query":             mk("x", "frostd://client/x?admin=1"),
		"user info":         mk("x", "frostd://root@client/x"),
		"name differs":      mk("y", "frostd://coordinator/x"),
		"empty client name": mk("", "frostd://client/"),
	}
	for desc, c := range bad {
		if id, err := pki.IdentityOf(c); err == nil {
			t.Errorf("%s: IdentityOf accepted %v as %+v", desc, c.URIs, id)
		}
	}
	good := mk("node-7", "https://example.org/", "frostd://participant/65535")
	if id, err := pki.IdentityOf(good); err != nil || id.ParticipantID != 65535 || id.Name != "node-7" {
		t.Errorf("IdentityOf(participant 65535) = %+v, %v", id, err)
	}
}

// handshake runs a TLS handshake between the two configurations over an
// in-memory connection and returns each side's error and the server's
// view of the connection.
func handshake(t *testing.T, server, client *tls.Config) (serverErr, clientErr error, cs tls.ConnectionState) {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	client = client.Clone()
	client.ServerName = "localhost"
	srv, cli := tls.Server(a, server), tls.Client(b, client)
	done := make(chan error, 1)
	go func() {
		err := srv.Handshake()
		if err != nil {
			a.Close() // unblock the client
		}
		done <- err
	}()
	clientErr = cli.Handshake()
	if clientErr != nil {
		b.Close()
	} else {
		// TLS 1.3 clients finish before the server has checked their
		// certificate; reading surfaces the server's verdict.
		go func() { _, _ = cli.Read(make([]byte, 1)) }()
	}
	serverErr = <-done
	if serverErr == nil {
		cs = srv.ConnectionState()
	}
	return serverErr, clientErr, cs
}

func mustServer(t *testing.T, f pki.Files, roles ...pki.Role) *tls.Config {
	t.Helper()
	c, err := pki.ServerTLS(f, roles...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustClient(t *testing.T, f pki.Files, roles ...pki.Role) *tls.Config {
	t.Helper()
	c, err := pki.ClientTLS(f, roles...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMutualTLS(t *testing.T) {
	ca := newCA(t)
	coord := issue(t, ca, "coord", pki.RoleCoordinator, pki.IssueOptions{})
	part := issue(t, ca, "p2", pki.RoleParticipant, pki.IssueOptions{ParticipantID: 2})
	client := issue(t, ca, "app", pki.RoleClient, pki.IssueOptions{})

	t.Run("accepted", func(t *testing.T) {
		serr, cerr, cs := handshake(t, mustServer(t, part, pki.RoleCoordinator), mustClient(t, coord, pki.RoleParticipant))
		if serr != nil || cerr != nil {
			t.Fatalf("handshake: server %v, client %v", serr, cerr)
		}
		if cs.Version != tls.VersionTLS13 {
			t.Errorf("TLS version %x, want 1.3", cs.Version)
		}
		id, err := pki.ConnectionIdentity(cs)
		if err != nil || id != (pki.Identity{Role: pki.RoleCoordinator, Name: "coord"}) {
			t.Errorf("server sees %+v, %v", id, err)
		}
		ctx := peer.NewContext(context.Background(), &peer.Peer{AuthInfo: credentials.TLSInfo{State: cs}})
		if id, err := pki.PeerIdentity(ctx); err != nil || id.Name != "coord" {
			t.Errorf("PeerIdentity = %+v, %v", id, err)
		}
	})

	t.Run("client role refused by server", func(t *testing.T) {
		serr, _, _ := handshake(t, mustServer(t, part, pki.RoleCoordinator), mustClient(t, client))
		if serr == nil || !strings.Contains(serr.Error(), "not allowed") {
			t.Fatalf("server accepted a client certificate where only coordinators are allowed: %v", serr)
		}
	})

	t.Run("server role refused by client", func(t *testing.T) {
		_, cerr, _ := handshake(t, mustServer(t, part), mustClient(t, client, pki.RoleCoordinator))
		if cerr == nil || !strings.Contains(cerr.Error(), "not allowed") {
			t.Fatalf("client accepted a participant server where it wants a coordinator: %v", cerr)
		}
	})

	t.Run("RequirePeer", func(t *testing.T) {
		want3 := pki.RequirePeer(mustClient(t, coord), func(id pki.Identity) error {
			if id.ParticipantID != 3 {
				return errors.New("not participant 3")
			}
			return nil
		})
		_, cerr, _ := handshake(t, mustServer(t, part), want3)
		if cerr == nil || !strings.Contains(cerr.Error(), "not participant 3") {
			t.Fatalf("dialling participant 3 reached participant 2: %v", cerr)
		}
	})

	t.Run("wrong CA", func(t *testing.T) {
		stranger := issue(t, newCA(t), "coord", pki.RoleCoordinator, pki.IssueOptions{})
		serr, _, _ := handshake(t, mustServer(t, part), mustClient(t, stranger))
		if serr == nil {
			t.Fatal("server accepted a client of another CA")
		}
		_, cerr, _ := handshake(t, mustServer(t, stranger), mustClient(t, coord))
		if cerr == nil {
			t.Fatal("client accepted a server of another CA")
		}
	})

	t.Run("expired", func(t *testing.T) {
		old := issue(t, ca, "old", pki.RoleCoordinator, pki.IssueOptions{NotBefore: time.Now().Add(-48 * time.Hour), Validity: time.Hour})
		serr, _, _ := handshake(t, mustServer(t, part), mustClient(t, old))
		if serr == nil || !strings.Contains(serr.Error(), "expired") {
			t.Fatalf("server accepted an expired client certificate: %v", serr)
		}
	})

	t.Run("no client certificate", func(t *testing.T) {
		anon := mustClient(t, coord).Clone()
		anon.Certificates = nil
		serr, _, _ := handshake(t, mustServer(t, part), anon)
		if serr == nil {
			t.Fatal("server accepted a client without a certificate")
		}
	})
}

func TestPeerIdentityWithoutTLS(t *testing.T) {
	if _, err := pki.PeerIdentity(context.Background()); !errors.Is(err, pki.ErrUnauthenticated) {
		t.Errorf("no peer: got %v", err)
	}
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{}})
	if _, err := pki.PeerIdentity(ctx); !errors.Is(err, pki.ErrUnauthenticated) {
		t.Errorf("plaintext peer: got %v", err)
	}
	ctx = peer.NewContext(context.Background(), &peer.Peer{AuthInfo: credentials.TLSInfo{}})
	if _, err := pki.PeerIdentity(ctx); !errors.Is(err, pki.ErrUnauthenticated) {
		t.Errorf("TLS without a verified chain: got %v", err)
	}
}

func TestLoadChecksFiles(t *testing.T) {
	ca := newCA(t)
	f := issue(t, ca, "coord", pki.RoleCoordinator, pki.IssueOptions{})
	other := issue(t, newCA(t), "coord", pki.RoleCoordinator, pki.IssueOptions{})

	mixed := f
	mixed.CA = other.CA
	if _, err := pki.ServerTLS(mixed); err == nil || !strings.Contains(err.Error(), "not issued by") {
		t.Errorf("certificate of one CA with ca.crt of another: got %v", err)
	}
	swapped := f
	swapped.Key = other.Key
	if _, err := pki.ClientTLS(swapped); err == nil {
		t.Error("a key that does not match the certificate was accepted")
	}
	leafAsCA := f
	leafAsCA.CA = f.Cert
	if _, err := pki.ClientTLS(leafAsCA); err == nil || !strings.Contains(err.Error(), "not a CA") {
		t.Errorf("a node certificate as ca.crt: got %v", err)
	}
}
