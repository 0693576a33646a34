//go:build cgo

package pkcs11

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/frostd/frostd/signer"
	"github.com/frostd/frostd/signer/signertest"
)

func TestConformance(t *testing.T) {
	cfg := newToken(t, "conformance")
	pub, err := GenerateKey(cfg, "k")
	if err != nil {
		t.Fatal(err)
	}
	for _, sessions := range []int{0, 1} {
		cfg := cfg
		cfg.Sessions = sessions
		t.Run(map[int]string{0: "default pool", 1: "one session"}[sessions], func(t *testing.T) {
			signertest.Run(t, func(t *testing.T) signer.Signer {
				s := open(t, cfg)
				if !s.PublicKey().Equal(pub) {
					t.Fatalf("PublicKey %x, want %x from GenerateKey", s.PublicKey(), pub)
				}
				return s
			})
		})
	}
}

func TestGenerateKey(t *testing.T) {
	cfg := newToken(t, "keygen")
	pubA, err := GenerateKey(cfg, "a")
	if err != nil {
		t.Fatal(err)
	}
	cfg.KeyLabel = "a"
	a := open(t, cfg)

	// GenerateKey logs in and out while a Signer holds the login.
	pubB, err := GenerateKey(cfg, "b")
	if err != nil {
		t.Fatal(err)
	}
	if pubA.Equal(pubB) {
		t.Fatal("two generated keys are equal")
	}
	if _, err := a.Sign(context.Background(), []byte("still logged in")); err != nil {
		t.Fatalf("Sign after GenerateKey ran beside the Signer: %v", err)
	}
	if _, err := GenerateKey(cfg, "a"); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("GenerateKey over an existing label: got %v, want fs.ErrExist", err)
	}

	// The public half names the curve by OID, and holds the key GenerateKey
	// returned in a DER OCTET STRING.
	out := pkcs11Tool(t, "--list-objects", "--type", "pubkey", "--label", "b")
	for _, want := range []string{"06032b6570", fmt.Sprintf("0420%x", []byte(pubB))} {
		if !strings.Contains(out, want) {
			t.Errorf("pkcs11-tool does not show %q for the new public key:\n%s", want, out)
		}
	}

	// The private half is sensitive and not extractable.
	out = pkcs11Tool(t, "--list-objects", "--type", "privkey", "--label", "b")
	for _, want := range []string{"sensitive", "never extractable", "local"} {
		if !strings.Contains(out, want) {
			t.Errorf("pkcs11-tool does not list the new private key as %q:\n%s", want, out)
		}
	}
}

// Keys that OpenSC's pkcs11-tool makes carry CKA_EC_PARAMS as the
// PrintableString "edwards25519", not the OID GenerateKey writes.
func TestKeyMadeByPkcs11Tool(t *testing.T) {
	cfg := newToken(t, "opensc")
	pkcs11Tool(t, "--keypairgen", "--key-type", "EC:edwards25519", "--label", "tool")
	cfg.KeyLabel = "tool"
	s := open(t, cfg)
	msg := []byte("signed with a key pkcs11-tool made")
	sig, err := s.Sign(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(s.PublicKey(), msg, sig) {
		t.Fatal("signature does not verify")
	}
}

func TestWrongPIN(t *testing.T) {
	cfg := newToken(t, "pin")
	if _, err := GenerateKey(cfg, "k"); err != nil {
		t.Fatal(err)
	}
	good := cfg.PINFile
	cfg.PINFile = writePIN(t, "0000\n")
	_, err := New(context.Background(), cfg)
	if !errors.Is(err, signer.ErrRefused) || !strings.Contains(err.Error(), "wrong PIN") {
		t.Fatalf("New with a wrong PIN: got %v, want ErrRefused saying the PIN is wrong", err)
	}

	if _, err := GenerateKey(cfg, "other"); !errors.Is(err, signer.ErrRefused) {
		t.Fatalf("GenerateKey with a wrong PIN: got %v, want ErrRefused", err)
	}

	// The failures left nothing behind, and the right PIN still works.
	cfg.PINFile = good
	first := open(t, cfg)

	// A second Signer is refused a wrong PIN even though the token, which
	// does not check PINs while logged in, would let it through.
	cfg.PINFile = writePIN(t, "4321")
	_, err = New(context.Background(), cfg)
	if !errors.Is(err, signer.ErrRefused) || !strings.Contains(err.Error(), "wrong PIN") {
		t.Fatalf("second New with a wrong PIN: got %v, want ErrRefused saying the PIN is wrong", err)
	}
	if _, err := first.Sign(context.Background(), []byte("m")); err != nil {
		t.Fatalf("first Signer after the refused second one: %v", err)
	}
}

func TestPINFromEnvironment(t *testing.T) {
	cfg := newToken(t, "env")
	if _, err := GenerateKey(cfg, "k"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FROSTD_TEST_PIN", testPIN)
	cfg.PINFile, cfg.PINEnv = "", "FROSTD_TEST_PIN"
	s := open(t, cfg)
	if _, err := s.Sign(context.Background(), []byte("m")); err != nil {
		t.Fatal(err)
	}
}

func TestReadPIN(t *testing.T) {
	t.Setenv("FROSTD_TEST_PIN", "env pin")
	t.Setenv("FROSTD_EMPTY_PIN", "")
	for _, tc := range []struct {
		name    string
		cfg     Config
		want    string
		wantErr string
	}{
		{"file", Config{PINFile: writePIN(t, "12 34\n")}, "12 34", ""},
		{"file CRLF", Config{PINFile: writePIN(t, "1234\r\n")}, "1234", ""},
		{"file no newline", Config{PINFile: writePIN(t, "1234")}, "1234", ""},
		{"env", Config{PINEnv: "FROSTD_TEST_PIN"}, "env pin", ""},
		{"neither", Config{}, "", "no PIN"},
		{"both", Config{PINFile: "x", PINEnv: "y"}, "", "both"},
		{"missing file", Config{PINFile: filepath.Join(t.TempDir(), "absent")}, "", "no such file"},
		{"empty file", Config{PINFile: writePIN(t, "\n")}, "", "empty"},
		{"two lines", Config{PINFile: writePIN(t, "1234\n5678\n")}, "", "more than one line"},
		{"unset variable", Config{PINEnv: "FROSTD_NO_SUCH_PIN"}, "", "FROSTD_NO_SUCH_PIN is not set"},
		{"empty variable", Config{PINEnv: "FROSTD_EMPTY_PIN"}, "", "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readPIN(tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %q, %v; want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestMissingKey(t *testing.T) {
	cfg := newToken(t, "nokey")
	cfg.KeyLabel = "absent"
	_, err := New(context.Background(), cfg)
	if !errors.Is(err, signer.ErrBadKey) || !strings.Contains(err.Error(), `"absent"`) || !strings.Contains(err.Error(), "GenerateKey") {
		t.Fatalf("New for a missing key label: got %v, want ErrBadKey naming the label and GenerateKey", err)
	}
}

func TestNotAnEd25519Key(t *testing.T) {
	cfg := newToken(t, "p256")
	pkcs11Tool(t, "--keypairgen", "--key-type", "EC:prime256v1", "--label", "ecdsa")
	cfg.KeyLabel = "ecdsa"
	_, err := New(context.Background(), cfg)
	if !errors.Is(err, signer.ErrBadKey) || !strings.Contains(err.Error(), "not an Ed25519") {
		t.Fatalf("New for a P-256 key: got %v, want ErrBadKey saying it is not Ed25519", err)
	}
}

func TestMissingToken(t *testing.T) {
	cfg := newToken(t, "present")
	cfg.TokenLabel = "absent"
	_, err := New(context.Background(), cfg)
	if !errors.Is(err, signer.ErrUnavailable) {
		t.Fatalf("New for a missing token: got %v, want ErrUnavailable", err)
	}
	for _, want := range []string{`"absent"`, `"present"`, "softhsm2-util --init-token"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestMissingModule(t *testing.T) {
	pin := writePIN(t, testPIN)
	t.Run("no file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "libnothing.so")
		_, err := New(context.Background(), Config{Module: path, TokenLabel: "t", KeyLabel: "k", PINFile: pin})
		if !errors.Is(err, signer.ErrUnavailable) || !strings.Contains(err.Error(), path) {
			t.Fatalf("got %v, want ErrUnavailable naming %s", err, path)
		}
	})
	t.Run("not a library", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "libfake.so")
		if err := os.WriteFile(path, []byte("not ELF"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := New(context.Background(), Config{Module: path, TokenLabel: "t", KeyLabel: "k", PINFile: pin})
		if !errors.Is(err, signer.ErrUnavailable) || !strings.Contains(err.Error(), path) {
			t.Fatalf("got %v, want ErrUnavailable naming %s", err, path)
		}
	})
	t.Run("GenerateKey", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "libnothing.so")
		_, err := GenerateKey(Config{Module: path, TokenLabel: "t", PINFile: pin}, "k")
		if !errors.Is(err, signer.ErrUnavailable) {
			t.Fatalf("got %v, want ErrUnavailable", err)
		}
	})
}

// Two Signers on one token share the process's login; closing one must not
// log out the other, and closing both unloads the module.
func TestSignersShareLogin(t *testing.T) {
	cfg := newToken(t, "shared")
	if _, err := GenerateKey(cfg, "k"); err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := open(t, cfg)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Sign(context.Background(), []byte("after the other closed")); err != nil {
		t.Fatalf("Sign after another Signer on the token closed: %v", err)
	}
	if _, err := a.Sign(context.Background(), []byte("closed")); !errors.Is(err, signer.ErrUnavailable) {
		t.Fatalf("Sign after Close: got %v, want ErrUnavailable", err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestCloseUnloadsModule(t *testing.T) {
	cfg := newToken(t, "close")
	if _, err := GenerateKey(cfg, "k"); err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	modules.Lock()
	loaded := len(modules.byPath)
	modules.Unlock()
	if loaded != 0 {
		t.Fatalf("%d modules still loaded after the only Signer closed", loaded)
	}
}

// A session the token has lost is replaced: the call that finds it broken
// fails with ErrUnavailable, and the next one opens a new session, logging
// in again because closing the last session logged the token out.
func TestSessionRecovers(t *testing.T) {
	cfg := newToken(t, "recover")
	if _, err := GenerateKey(cfg, "k"); err != nil {
		t.Fatal(err)
	}
	cfg.Sessions = 1
	s := open(t, cfg)
	sess := <-s.pool
	if err := s.mod.ctx.CloseSession(sess.h); err != nil {
		t.Fatal(err)
	}
	s.pool <- sess

	_, err := s.Sign(context.Background(), []byte("on a closed session"))
	if !errors.Is(err, signer.ErrUnavailable) {
		t.Fatalf("Sign on a session the token closed: got %v, want ErrUnavailable", err)
	}
	msg := []byte("on a new session")
	sig, err := s.Sign(context.Background(), msg)
	if err != nil {
		t.Fatalf("Sign after the broken session: %v", err)
	}
	if !ed25519.Verify(s.PublicKey(), msg, sig) {
		t.Fatal("signature does not verify")
	}
}

// A call waiting for a session gives up when its context ends.
func TestCancelWhileWaitingForSession(t *testing.T) {
	cfg := newToken(t, "wait")
	if _, err := GenerateKey(cfg, "k"); err != nil {
		t.Fatal(err)
	}
	cfg.Sessions = 1
	s := open(t, cfg)
	sess := <-s.pool // every session busy
	defer func() { s.pool <- sess }()

	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() {
		_, err := s.Sign(ctx, []byte("waits"))
		result <- err
	}()
	cancel()
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Fatalf("Sign with every session busy: got %v, want an error wrapping context.Canceled", err)
	}
}

func TestMaxMessage(t *testing.T) {
	cfg := newToken(t, "max")
	if _, err := GenerateKey(cfg, "k"); err != nil {
		t.Fatal(err)
	}
	cfg.MaxMessage = 1000
	signertest.Run(t, func(t *testing.T) signer.Signer { return open(t, cfg) }, signertest.MaxMessage(1000))
}

// The probe signature in New catches a public key object that belongs to
// another key.
func TestMismatchedPublicKey(t *testing.T) {
	cfg := newToken(t, "mismatch")
	if _, err := GenerateKey(cfg, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := GenerateKey(cfg, "b"); err != nil {
		t.Fatal(err)
	}
	// Give b's public key object a's label and ID, and delete a's.
	mod, err := openModule("")
	if err != nil {
		t.Fatal(err)
	}
	defer mod.release()
	slot, err := mod.findToken(cfg.TokenLabel)
	if err != nil {
		t.Fatal(err)
	}
	c := mod.ctx
	h, err := c.OpenSession(slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseSession(h)
	publicKey := func(label string) (p11.ObjectHandle, []byte) {
		objs, err := findObjects(c, h, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_CLASS, p11.CKO_PUBLIC_KEY),
			p11.NewAttribute(p11.CKA_LABEL, label),
		}, 2)
		if err != nil || len(objs) != 1 {
			t.Fatalf("public key %q: %d objects, %v", label, len(objs), err)
		}
		attrs, err := c.GetAttributeValue(h, objs[0], []*p11.Attribute{p11.NewAttribute(p11.CKA_ID, nil)})
		if err != nil {
			t.Fatal(err)
		}
		return objs[0], attrs[0].Value
	}
	aPub, aID := publicKey("a")
	bPub, bID := publicKey("b")
	if bytes.Equal(aID, bID) {
		t.Fatal("GenerateKey gave two keys the same CKA_ID")
	}
	if err := c.DestroyObject(h, aPub); err != nil {
		t.Fatal(err)
	}
	if err := c.SetAttributeValue(h, bPub, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_LABEL, "a"),
		p11.NewAttribute(p11.CKA_ID, aID),
	}); err != nil {
		t.Fatal(err)
	}

	cfg.KeyLabel = "a"
	_, err = New(context.Background(), cfg)
	if !errors.Is(err, signer.ErrBadKey) || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("New with another key's public key object: got %v, want ErrBadKey saying it does not match", err)
	}
}

func TestParseECPoint(t *testing.T) {
	key := bytes.Repeat([]byte{0xab}, 32)
	for _, tc := range []struct {
		name  string
		point []byte
		ok    bool
	}{
		{"DER OCTET STRING", append([]byte{0x04, 0x20}, key...), true},
		{"raw", key, true},
		{"raw starting like DER", append([]byte{0x04, 0x20}, key[2:]...), true},
		{"Ed448", append([]byte{0x04, 57}, make([]byte, 57)...), false},
		{"short OCTET STRING", append([]byte{0x04, 0x1f}, key[1:]...), false},
		{"trailing bytes", append(append([]byte{0x04, 0x20}, key...), 0), false},
		{"BIT STRING", append([]byte{0x03, 0x21, 0x00}, key...), false},
		{"empty", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub, err := parseECPoint(tc.point)
			if !tc.ok {
				if !errors.Is(err, signer.ErrBadKey) {
					t.Fatalf("got %x, %v; want ErrBadKey", pub, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.point
			if len(want) != 32 {
				want = want[2:]
			}
			if !bytes.Equal(pub, want) {
				t.Fatalf("got %x, want %x", pub, want)
			}
		})
	}
}

func TestBrokenSoftHSMConfig(t *testing.T) {
	cfg := newToken(t, "conf")
	t.Setenv("SOFTHSM2_CONF", filepath.Join(t.TempDir(), "absent.conf"))
	_, err := New(context.Background(), cfg)
	if !errors.Is(err, signer.ErrUnavailable) || !strings.Contains(err.Error(), "SOFTHSM2_CONF") {
		t.Fatalf("New with SOFTHSM2_CONF naming no file: got %v, want ErrUnavailable mentioning SOFTHSM2_CONF", err)
	}
}

// When the token drops the process's login while a Signer is open (here by
// closing its only session behind its back, as unplugging would), a new
// Signer logs in again rather than finding no private key.
func TestLoginLostUnderOpenSigner(t *testing.T) {
	cfg := newToken(t, "lost")
	if _, err := GenerateKey(cfg, "k"); err != nil {
		t.Fatal(err)
	}
	cfg.Sessions = 1
	a := open(t, cfg)
	sess := <-a.pool
	if err := a.mod.ctx.CloseSession(sess.h); err != nil {
		t.Fatal(err)
	}
	sess.open = false
	a.pool <- sess

	b := open(t, cfg)
	if _, err := b.Sign(context.Background(), []byte("m")); err != nil {
		t.Fatalf("Sign on a Signer opened after the login was lost: %v", err)
	}
	if _, err := a.Sign(context.Background(), []byte("m")); err != nil {
		t.Fatalf("Sign on the first Signer after its session was replaced: %v", err)
	}
}
