package cli_test

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/pki"
	"github.com/frostd/frostd/signer/pkcs11"
	"github.com/frostd/frostd/transport/grpctransport/grpctest"
)

// needTool returns the path of a program from the apt package pkg. Without
// it the test fails in CI, where scripts/install-test-deps.sh installs it,
// and skips elsewhere.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s is not installed; install it with `apt-get install %s` (%v)", name, pkg, err)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// shortDir returns a private directory with a short path, for Unix
// sockets, removed when the test ends.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "fc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// startSSHAgent runs OpenSSH's ssh-agent in the foreground until the test
// ends, and returns its socket.
func startSSHAgent(t *testing.T) string {
	t.Helper()
	bin := needTool(t, "ssh-agent", "openssh-client")
	socket := filepath.Join(shortDir(t), "agent.sock")
	cmd := exec.Command(bin, "-D", "-a", socket)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting ssh-agent: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	// With -D the agent prints its SSH_AUTH_SOCK line once it listens.
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if !strings.HasPrefix(line, "SSH_AUTH_SOCK="+socket+";") {
		t.Fatalf("ssh-agent printed %q (%v), want its SSH_AUTH_SOCK line", line, err)
	}
	return socket
}

// addAgentKey makes an Ed25519 key with ssh-keygen, adds it to the agent
// with ssh-add, and returns its public key and .pub file.
func addAgentKey(t *testing.T, socket, comment string) (ed25519.PublicKey, string) {
	t.Helper()
	keygen := needTool(t, "ssh-keygen", "openssh-client")
	sshAdd := needTool(t, "ssh-add", "openssh-client")
	path := filepath.Join(t.TempDir(), "key")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	add := exec.Command(sshAdd, path)
	add.Env = []string{"PATH=" + os.Getenv("PATH"), "SSH_AUTH_SOCK=" + socket}
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	line, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	parsed, _, _, _, err := ssh.ParseAuthorizedKey(line)
	if err != nil {
		t.Fatal(err)
	}
	return parsed.(ssh.CryptoPublicKey).CryptoPublicKey().(ed25519.PublicKey), path + ".pub"
}

// checkSignature fails unless r printed a hex signature of msg by pub.
func checkSignature(t *testing.T, r result, pub ed25519.PublicKey, msg string) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("sign: exit %d, stderr %q", r.code, r.stderr)
	}
	sig, err := hex.DecodeString(strings.TrimSuffix(r.stdout, "\n"))
	if err != nil || !ed25519.Verify(pub, []byte(msg), sig) {
		t.Fatalf("sign printed %q, want a signature of %q by %s", r.stdout, msg, id52.Encode(pub))
	}
}

func TestSignBackendLocalExplicit(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	id := generate(t, dir)
	pub, _ := id52.Decode(id)
	checkSignature(t, run(t, "m", "sign", "--backend", "local", "--key", id[:6], "--dir", dir), pub, "m")
	checkSignature(t, run(t, "m", "sign", "--backend", "LOCAL", "--key", id, "--dir", dir), pub, "m")
}

func TestSignWithSSHAgent(t *testing.T) {
	isolate(t)
	socket := startSSHAgent(t)
	pub, pubFile := addAgentKey(t, socket, "the frostd key")
	other, _ := addAgentKey(t, socket, "another key")
	id := id52.Encode(pub)
	line, err := os.ReadFile(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, _ := ssh.NewPublicKey(pub)

	// The shortest prefix that tells the two keys apart.
	n := 1
	for strings.HasPrefix(id52.Encode(other), id[:n]) {
		n++
	}
	for name, key := range map[string]string{
		"ID52":                id,
		"upper-case ID52":     strings.ToUpper(id),
		"prefix":              id[:n],
		"public key":          strings.TrimSpace(string(line)),
		"SHA256 fingerprint":  ssh.FingerprintSHA256(sshPub),
		"public key, no name": strings.Join(strings.Fields(string(line))[:2], " "),
	} {
		t.Run(name, func(t *testing.T) {
			checkSignature(t, run(t, "signed in the agent", "sign", "--backend", "sshagent", "--agent-socket", socket, "--key", key), pub, "signed in the agent")
		})
	}
	t.Run("SSH_AUTH_SOCK", func(t *testing.T) {
		t.Setenv("SSH_AUTH_SOCK", socket)
		checkSignature(t, run(t, "m", "sign", "--backend", "sshagent", "--key", id), pub, "m")
	})

	missing, _, _ := ed25519.GenerateKey(nil)
	missingSSH, _ := ssh.NewPublicKey(missing)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecSSH, _ := ssh.NewPublicKey(&ec.PublicKey)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no key", []string{}, "--key is required with --backend sshagent"},
		{"no key lists keys", []string{}, id + " (the frostd key)"},
		{"unknown prefix", []string{"--key", "0000"}, `no Ed25519 key in the agent has an ID52 starting with "0000"`},
		{"bad prefix", []string{"--key", "xyz"}, `'x' at position 1 is not one of 0-9 and a-v`},
		{"ID52 not in agent", []string{"--key", id52.Encode(missing)}, "is not in the ssh-agent"},
		{"unknown fingerprint", []string{"--key", ssh.FingerprintSHA256(missingSSH)}, "no Ed25519 key in the agent has fingerprint"},
		{"cut public key", []string{"--key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"}, "does not parse"},
		{"ECDSA public key", []string{"--key", string(ssh.MarshalAuthorizedKey(ecSSH))}, "names a key of type ecdsa-sha2-nistp256; frostd signs with Ed25519 keys only"},
		{"no agent", []string{"--agent-socket", filepath.Join(t.TempDir(), "none"), "--key", id}, "cannot reach an ssh-agent"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"sign", "--backend", "sshagent"}, tt.args...)
			if !contains(tt.args, "--agent-socket") {
				args = append(args, "--agent-socket", socket)
			}
			expectFailure(t, run(t, "m", args...), tt.want)
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

const testPIN = "1234"

// newToken makes a SoftHSM2 token with an Ed25519 key labelled "k" in a
// configuration of its own (SOFTHSM2_CONF for the rest of the test) and
// returns the key's public key and a file holding the PIN.
func newToken(t *testing.T, label string) (ed25519.PublicKey, string) {
	t.Helper()
	util := needTool(t, "softhsm2-util", "softhsm2")
	if _, err := os.Stat(pkcs11.DefaultModule); err != nil {
		msg := fmt.Sprintf("SoftHSM2's module is missing; install it with `apt-get install softhsm2` (%v)", err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	if out, err := exec.Command(util, "--init-token", "--free", "--label", label, "--pin", testPIN, "--so-pin", "5678").CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	pinFile := filepath.Join(dir, "pin")
	if err := os.WriteFile(pinFile, []byte(testPIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, err := pkcs11.GenerateKey(pkcs11.Config{TokenLabel: label, PINFile: pinFile}, "k")
	if err != nil {
		t.Fatal(err)
	}
	return pub, pinFile
}

func TestSignWithPKCS11(t *testing.T) {
	isolate(t)
	// Each subtest makes its own token in its own SoftHSM2 configuration,
	// which SoftHSM2 reads when its module is loaded: the second finds its
	// token only if the first run unloaded the module, that is, if frostd
	// closed the signer.
	for _, label := range []string{"first", "second"} {
		t.Run(label, func(t *testing.T) {
			pub, pinFile := newToken(t, label)
			token := []string{"sign", "--backend", "pkcs11", "--pkcs11-token", label, "--pkcs11-key", "k"}
			checkSignature(t, run(t, "on the token", append(token, "--pkcs11-pin-file", pinFile)...), pub, "on the token")

			t.Setenv("FROSTD_TEST_PIN", testPIN)
			checkSignature(t, run(t, "from env", append(token, "--pkcs11-pin-env", "FROSTD_TEST_PIN", "--key", id52.Encode(pub)[:5])...), pub, "from env")

			wrong := filepath.Join(t.TempDir(), "wrong")
			if err := os.WriteFile(wrong, []byte("0000\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			other, _, _ := ed25519.GenerateKey(nil)
			otherID := id52.Encode(other)
			for _, tt := range []struct {
				name string
				args []string
				want string
			}{
				{"no PIN", token, "the PIN itself is never a flag"},
				{"wrong PIN", append(token, "--pkcs11-pin-file", wrong), "wrong PIN"},
				{"both PINs", append(token, "--pkcs11-pin-file", pinFile, "--pkcs11-pin-env", "FROSTD_TEST_PIN"), "not both"},
				{"unset PIN variable", append(token, "--pkcs11-pin-env", "FROSTD_NO_SUCH_PIN"), "FROSTD_NO_SUCH_PIN is not set"},
				{"no token", []string{"sign", "--backend", "pkcs11", "--pkcs11-key", "k", "--pkcs11-pin-file", pinFile}, "--pkcs11-token is required"},
				{"no key label", []string{"sign", "--backend", "pkcs11", "--pkcs11-token", label, "--pkcs11-pin-file", pinFile}, "--pkcs11-key is required"},
				{"other identity", append(token, "--pkcs11-pin-file", pinFile, "--key", otherID[:8]), "not the --key " + otherID[:8]},
				{"PIN as a flag", append(token, "--pkcs11-pin", testPIN), "unknown flag: --pkcs11-pin"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					expectFailure(t, run(t, "m", tt.args...), tt.want)
				})
			}
		})
	}
}

func TestSignWithFrostCluster(t *testing.T) {
	isolate(t)
	c := grpctest.New(t, 3, 5, grpctest.Options{})
	group := c.Group.PublicKey
	files := c.Issue(t, "billing", pki.RoleClient, 0)
	tlsDir := filepath.Dir(files.Cert)
	frostArgs := []string{"sign", "--backend", "frost", "--cluster", c.CoordinatorAddr, "--tls-dir", tlsDir}

	checkSignature(t, run(t, "signed by 3 of 5", frostArgs...), group, "signed by 3 of 5")
	checkSignature(t, run(t, "pinned", append(frostArgs, "--key", id52.Encode(group), "--tls-name", "billing")...), group, "pinned")

	// pkarr sign takes the same flags.
	out := filepath.Join(t.TempDir(), "p")
	r := run(t, "", append([]string{"pkarr", "sign", "--txt", "relay=https://r.example/", "--out", out}, frostArgs[1:]...)...)
	if r.code != 0 {
		t.Fatalf("pkarr sign with the cluster: exit %d, stderr %q", r.code, r.stderr)
	}
	if v := run(t, "", "pkarr", "verify", out); v.code != 0 || !strings.HasPrefix(v.stdout, "z-base-32: "+id52.EncodeZBase32(group)+"\n") {
		t.Fatalf("pkarr verify of the cluster's packet: exit %d, stdout %q, stderr %q", v.code, v.stdout, v.stderr)
	}

	other, _, _ := ed25519.GenerateKey(nil)
	twoCerts := t.TempDir()
	for _, name := range []string{"ca.crt", "billing.crt", "billing.key"} {
		b, err := os.ReadFile(filepath.Join(tlsDir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, to := range []string{name, strings.Replace(name, "billing", "other", 1)} {
			if err := os.WriteFile(filepath.Join(twoCerts, to), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"other identity", append(frostArgs, "--key", id52.Encode(other)), "the frost key is " + id52.Encode(group)},
		{"no certificate", []string{"sign", "--backend", "frost", "--cluster", c.CoordinatorAddr, "--tls-dir", t.TempDir()}, "holds no client certificate"},
		{"two certificates", []string{"sign", "--backend", "frost", "--cluster", c.CoordinatorAddr, "--tls-dir", twoCerts}, "holds 2 certificates (billing, other); choose one with --tls-name"},
		{"unknown name", append(frostArgs, "--tls-name", "nobody"), "nobody.crt"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			expectFailure(t, run(t, "m", tt.args...), tt.want)
		})
	}
}

func TestBackendErrors(t *testing.T) {
	isolate(t)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown backend", []string{"--backend", "vault"}, `unknown --backend "vault": choose local, sshagent, pkcs11, frost`},
		{"pkcs11 flag with local", []string{"--key", "x", "--pkcs11-token", "t"}, "--pkcs11-token is for --backend pkcs11, not local"},
		{"dir with sshagent", []string{"--backend", "sshagent", "--dir", "d"}, "--dir is for --backend local, not sshagent"},
		{"agent socket with pkcs11", []string{"--backend", "pkcs11", "--agent-socket", "s"}, "--agent-socket is for --backend sshagent"},
		{"frost without cluster", []string{"--backend", "frost"}, "--cluster is required with --backend frost"},
		{"frost without TLS", []string{"--backend", "frost", "--cluster", "127.0.0.1:7000"}, "--tls-dir is required with --backend frost"},
		{"tls-name with local", []string{"--key", "x", "--tls-name", "n"}, "--tls-name is for --backend frost, not local"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			expectFailure(t, run(t, "m", append([]string{"sign"}, tt.args...)...), tt.want)
		})
	}
}

func TestSignHelpNamesBackends(t *testing.T) {
	r := run(t, "", "sign", "--help")
	for _, want := range []string{"--backend", "sshagent", "--agent-socket", "--pkcs11-pin-file", "--pkcs11-pin-env", "never from the command line", "--cluster", "--tls-dir", "--tls-name"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("sign --help does not mention %q", want)
		}
	}
	if strings.Contains(r.stdout, "--pkcs11-pin ") {
		t.Error("sign --help offers the PIN as a flag")
	}
	if !bytes.Contains([]byte(r.stdout), []byte("SSH_AUTH_SOCK")) {
		t.Error("sign --help does not say --agent-socket defaults to SSH_AUTH_SOCK")
	}
}
