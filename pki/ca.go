package pki

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Files and validity of the cluster CA.
const (
	CACertFile = "ca.crt"
	CAKeyFile  = "ca.key"

	// CAValidity is how long a new cluster CA is valid.
	CAValidity = 10 * 365 * 24 * time.Hour

	// DefaultValidity is how long a node certificate is valid unless
	// IssueOptions says otherwise.
	DefaultValidity = 365 * 24 * time.Hour

	// clockSkew backdates certificates so that nodes whose clocks lag a
	// little accept them at once.
	clockSkew = 5 * time.Minute
)

// Files names the PEM files a node uses for mutual TLS.
type Files struct {
	CA   string // the cluster CA certificate (ca.crt)
	Cert string // the node's certificate
	Key  string // the node's private key
}

// NodeFiles returns the files Issue writes for name into dir.
func NodeFiles(dir, name string) Files {
	return Files{
		CA:   filepath.Join(dir, CACertFile),
		Cert: filepath.Join(dir, name+".crt"),
		Key:  filepath.Join(dir, name+".key"),
	}
}

// InitCA makes a new cluster CA in dir (created with mode 0700 if needed):
// ca.crt, its certificate, and ca.key, its Ed25519 private key, mode 0600.
// It refuses to overwrite an existing CA, since every certificate issued
// by it would stop working.
func InitCA(dir string) (*x509.Certificate, error) {
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("pki: %s exists: a cluster CA is already there (remove it only if you mean to reissue every certificate of the cluster): %w", p, fs.ErrExist)
		}
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generating the CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "frostd cluster CA", Organization: []string{"frostd"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(CAValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true, // node certificates only, no intermediates
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		return nil, fmt.Errorf("pki: creating the CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	// The key first: a certificate without its key is useless, a key
	// without its certificate only leaves InitCA refusing to run again.
	if err := writeKey(keyPath, priv); err != nil {
		return nil, err
	}
	if err := writeNew(certPath, pemCert(der), 0o644); err != nil {
		return nil, err
	}
	return cert, nil
}

// IssueOptions adjusts Issue.
type IssueOptions struct {
	// ParticipantID is the participant's id in the group, 1 to 65535.
	// Required for participants, refused for other roles.
	ParticipantID uint16

	// Hosts are DNS names or IP addresses the node is reached at, added to
	// localhost, 127.0.0.1 and ::1.
	Hosts []string

	// NotBefore is when the certificate starts being valid; zero means a
	// few minutes ago (for clock skew).
	NotBefore time.Time

	// Validity is how long the certificate is valid from NotBefore;
	// default DefaultValidity. It is cut at the CA's own expiry.
	Validity time.Duration
}

// Issue makes a certificate for the node called name with the given role,
// signed by the CA in caDir. It writes NAME.crt and NAME.key (mode 0600)
// into outDir (created with mode 0700 if needed), and a copy of ca.crt if
// outDir has none, so that outDir holds what the node needs. It refuses to
// overwrite files, and to write into a directory holding another
// cluster's ca.crt.
func Issue(caDir, name string, role Role, outDir string, opts IssueOptions) (Files, error) {
	id := Identity{Role: role, Name: name, ParticipantID: opts.ParticipantID}
	if err := id.Validate(); err != nil {
		return Files{}, fmt.Errorf("pki: %w", err)
	}
	caCert, caKey, caPEM, err := loadCA(caDir)
	if err != nil {
		return Files{}, err
	}
	dnsNames, ips, err := sans(opts.Hosts)
	if err != nil {
		return Files{}, err
	}
	files := NodeFiles(outDir, name)
	for _, p := range []string{files.Cert, files.Key} {
		if _, err := os.Lstat(p); err == nil {
			return Files{}, fmt.Errorf("pki: %s exists; remove it first to reissue the certificate of %s: %w", p, id, fs.ErrExist)
		}
	}
	if existing, err := os.ReadFile(files.CA); err == nil && !bytes.Equal(existing, caPEM) {
		return Files{}, fmt.Errorf("pki: %s is the certificate of another cluster CA than %s; issue into another directory", files.CA, filepath.Join(caDir, CACertFile))
	}

	notBefore := opts.NotBefore
	if notBefore.IsZero() {
		notBefore = time.Now().Add(-clockSkew)
	}
	validity := opts.Validity
	if validity <= 0 {
		validity = DefaultValidity
	}
	notAfter := notBefore.Add(validity)
	if notAfter.After(caCert.NotAfter) {
		notAfter = caCert.NotAfter
	}
	ext := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	if role != RoleClient {
		ext = append(ext, x509.ExtKeyUsageServerAuth) // participants and coordinators also serve
	}
	serial, err := randomSerial()
	if err != nil {
		return Files{}, err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Files{}, fmt.Errorf("pki: generating a key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"frostd"}, OrganizationalUnit: []string{string(role)}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           ext,
		BasicConstraintsValid: true,
		DNSNames:              dnsNames,
		IPAddresses:           ips,
		URIs:                  []*url.URL{id.URI()},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, pub, caKey)
	if err != nil {
		return Files{}, fmt.Errorf("pki: signing the certificate of %s: %w", id, err)
	}
	if err := os.MkdirAll(outDir, 0o700); err != nil {
		return Files{}, fmt.Errorf("pki: %w", err)
	}
	if err := writeKey(files.Key, priv); err != nil {
		return Files{}, err
	}
	if err := writeNew(files.Cert, pemCert(der), 0o644); err != nil {
		return Files{}, err
	}
	if _, err := os.Lstat(files.CA); errors.Is(err, fs.ErrNotExist) {
		if err := writeNew(files.CA, caPEM, 0o644); err != nil {
			return Files{}, err
		}
	}
	return files, nil
}

// sans splits hosts into DNS names and IP addresses, after the loopback
// names every certificate carries.
func sans(hosts []string) ([]string, []net.IP, error) {
	dnsNames := []string{"localhost"}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
			continue
		}
		if !validHostname(h) {
			return nil, nil, fmt.Errorf("pki: host %q is neither an IP address nor a DNS name", h)
		}
		dnsNames = append(dnsNames, strings.ToLower(h))
	}
	return dnsNames, ips, nil
}

func validHostname(h string) bool {
	h = strings.TrimPrefix(h, "*.") // a wildcard is allowed as the first label only
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// loadCA reads the CA certificate and key of caDir and checks that they
// belong together.
func loadCA(caDir string) (*x509.Certificate, ed25519.PrivateKey, []byte, error) {
	certPEM, err := os.ReadFile(filepath.Join(caDir, CACertFile))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("pki: reading the cluster CA (make one with frostd certs init): %w", err)
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("pki: %s: %w", filepath.Join(caDir, CACertFile), err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(caDir, CAKeyFile))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("pki: reading the CA key (certificates are issued where ca.key is): %w", err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("pki: %s: %w", filepath.Join(caDir, CAKeyFile), err)
	}
	pub, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok || !pub.Equal(key.Public()) {
		return nil, nil, nil, fmt.Errorf("pki: %s does not belong to %s", CAKeyFile, CACertFile)
	}
	if !cert.IsCA {
		return nil, nil, nil, fmt.Errorf("pki: %s is not a CA certificate", filepath.Join(caDir, CACertFile))
	}
	return cert, key, certPEM, nil
}

func parseCert(b []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(block.Bytes)
}

func parseKey(b []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("no PEM PRIVATE KEY block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key is a %T, want Ed25519", k)
	}
	return ek, nil
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func writeKey(path string, priv ed25519.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	return writeNew(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// writeNew writes a file that must not exist yet.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	return nil
}

func randomSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("pki: serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}
