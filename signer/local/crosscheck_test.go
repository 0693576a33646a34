package local_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frostd/frostd/id52"
	"github.com/frostd/frostd/signer/local"
)

// crosscheckOutput is what testdata/crosscheck.py prints: ID52s, z-base-32
// forms and signatures computed with Python's cryptography package and
// base64 module, independently of this code. To regenerate, run
// `python3 testdata/crosscheck.py` in this directory and paste its output.
const crosscheckOutput = `message 66726f7374642063726f73732d636865636b206d657373616765
vector counting
seed 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
public 03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8
id52 0eggffvjpo8bs7bgrkceeiu0j5ju9lhgjeigqnotri3684il66s0
zbase32 yqooxx9u3aemh8mo5wcqq16yufu6jitouq1o4za751dger1igghy
signature c874be054881b4f4dafdb01c3dcc244fd22a3766265c3f86dd738cb029d2e1d15981e7a1c69ec9dcdc4a4a65edc9f470da83cc2490df0ebf0ae5f28bde14f907
vector rfc8032-test1
seed 9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60
public d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a
id52 qtd9g0c2m45bflabvr9sip07787e2snjraj269df08d6hto7a4d0
zbase32 47pjoycnsrfmxikm95jh13y88e8qnhzu5kungjpxyepgt7a8krpy
signature decfe133f14a0d60c62d6786174ffd46c361110e04336a46ad49e6b02ff29b84dcb5f86248c8af1dcecd28b37520fd2050b3f18d8fc93d091f8059c6f65f8604
vector ones
seed ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
public 76a1592044a6e4f511265bca73a604d90b0529d1df602be30a19a9257660d1f5
id52 eqgli824krifa496bf5779g4r45gaaehrtg2nooa36kiatj0q7qg
zbase32 q4oi1enrw51xkrjgmxf88jor5rfokkqt57onzaakdgw1k7uy484o
signature 694e2d1bc3bf23925ed8809f557bbda80aa427abb33517b545e207a252401426b3aa68495a604f14b6628451bbf2c69c2da9310532f8fd7a26ffdda86eb27107
`

type vector struct {
	name                                   string
	seed, public, id52, zbase32, signature string
}

func parseCrosscheck(t *testing.T) (message []byte, vectors []vector) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(crosscheckOutput), "\n") {
		key, value, _ := strings.Cut(line, " ")
		var v *vector
		if len(vectors) > 0 {
			v = &vectors[len(vectors)-1]
		}
		switch key {
		case "message":
			var err error
			if message, err = hex.DecodeString(value); err != nil {
				t.Fatal(err)
			}
		case "vector":
			vectors = append(vectors, vector{name: value})
		case "seed":
			v.seed = value
		case "public":
			v.public = value
		case "id52":
			v.id52 = value
		case "zbase32":
			v.zbase32 = value
		case "signature":
			v.signature = value
		default:
			t.Fatalf("crosscheckOutput: unknown line %q", line)
		}
	}
	if len(vectors) != 3 || message == nil {
		t.Fatalf("crosscheckOutput holds %d vectors and message %q, want 3 and a message", len(vectors), message)
	}
	return message, vectors
}

func TestCrossCheck(t *testing.T) {
	message, vectors := parseCrosscheck(t)
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			seed, _ := hex.DecodeString(v.seed)
			s, err := local.FromSeed(seed)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(s.PublicKey()); got != v.public {
				t.Errorf("public key %s, Python says %s", got, v.public)
			}
			if s.ID52() != v.id52 {
				t.Errorf("ID52 %s, Python says %s", s.ID52(), v.id52)
			}
			if got := id52.EncodeZBase32(s.PublicKey()); got != v.zbase32 {
				t.Errorf("z-base-32 %s, Python says %s", got, v.zbase32)
			}
			sig, err := s.Sign(context.Background(), message)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(sig); got != v.signature {
				t.Errorf("signature %s, Python says %s", got, v.signature)
			}

			// The same seed through a key file, as fastn writes it.
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "entity.private-key"), v.seed, 0o600)
			loaded, err := local.Loader{Dir: dir}.Load(v.id52)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(loaded.Seed(), seed) {
				t.Error("key loaded from a file differs from the seed written")
			}
		})
	}
}

// TestRFC8032 checks TEST 1 of RFC 8032 section 7.1, a third source
// besides this code and Python's.
func TestRFC8032(t *testing.T) {
	seed, _ := hex.DecodeString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
	s, err := local.FromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(s.PublicKey()), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"; got != want {
		t.Errorf("public key %s, RFC 8032 says %s", got, want)
	}
	sig, err := s.Sign(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
	if got := hex.EncodeToString(sig); got != want {
		t.Errorf("signature of the empty message %s, RFC 8032 says %s", got, want)
	}
}

// TestCrossCheckScript keeps crosscheckOutput in step with the script, when
// python3 with the cryptography package is installed.
func TestCrossCheckScript(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	if err := exec.Command(python, "-c", "import cryptography").Run(); err != nil {
		t.Skip("python3 has no cryptography package")
	}
	out, err := exec.Command(python, filepath.Join("testdata", "crosscheck.py")).Output()
	if err != nil {
		t.Fatalf("testdata/crosscheck.py: %v", err)
	}
	if string(out) != crosscheckOutput {
		t.Fatalf("testdata/crosscheck.py prints\n%s\nbut crosscheckOutput is\n%s\npaste the script's output into crosscheckOutput", out, crosscheckOutput)
	}
}

func writeFile(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // WriteFile's mode is masked by umask
		t.Fatal(err)
	}
}
