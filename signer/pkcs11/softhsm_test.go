//go:build cgo

package pkcs11

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testPIN   = "1234"
	testSOPIN = "5678"
)

// needTool returns the path of a program from the apt package pkg. Without
// it the test fails in CI, where the package is part of the setup, and
// skips elsewhere.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	fail(t, fmt.Sprintf("%s is not installed; install it with `apt-get install %s` (%v)", name, pkg, err))
	return ""
}

func fail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// newToken makes a SoftHSM2 token for t alone: a config in t.TempDir()
// with its own token directory, which SOFTHSM2_CONF points at for the rest
// of the test, and a token initialized with softhsm2-util. It returns a
// Config for the token, with the PIN in a file and key label "k".
func newToken(t *testing.T, label string) Config {
	t.Helper()
	util := needTool(t, "softhsm2-util", "softhsm2")
	if _, err := os.Stat(DefaultModule); err != nil {
		fail(t, fmt.Sprintf("SoftHSM2's module is missing; install it with `apt-get install softhsm2` (%v)", err))
	}
	// SoftHSM2 reads SOFTHSM2_CONF when it is initialized; a module left
	// loaded by an earlier test would still serve that test's tokens.
	modules.Lock()
	loaded := len(modules.byPath)
	modules.Unlock()
	if loaded != 0 {
		t.Fatalf("%d PKCS#11 modules are still loaded from an earlier test: a Signer was not closed, or Close did not finalize", loaded)
	}

	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	text := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tokens)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	cmd := exec.Command(util, "--init-token", "--free", "--label", label, "--pin", testPIN, "--so-pin", testSOPIN)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	return Config{TokenLabel: label, KeyLabel: "k", PINFile: writePIN(t, testPIN+"\n")}
}

func writePIN(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// pkcs11Tool runs OpenSC's pkcs11-tool on SoftHSM2's module, logged in.
func pkcs11Tool(t *testing.T, args ...string) string {
	t.Helper()
	bin := needTool(t, "pkcs11-tool", "opensc")
	args = append([]string{"--module", DefaultModule, "--login", "--pin", testPIN}, args...)
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("pkcs11-tool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// open returns a Signer that is closed, and checked to close cleanly, when
// the test ends.
func open(t *testing.T, cfg Config) *Signer {
	t.Helper()
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}
