package state_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/frostd/frostd/dkg"
	"github.com/frostd/frostd/sealed"
	"github.com/frostd/frostd/state"
)

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	id := filepath.Join(dir, "age.key")
	if _, err := sealed.GenerateIdentityFile(id); err != nil {
		t.Fatal(err)
	}
	d := state.Dir{Path: filepath.Join(dir, "p1"), Key: sealed.Key{IdentityFile: id}}
	if _, err := d.LoadGroup(); !errors.Is(err, state.ErrNoGroup) {
		t.Fatalf("empty dir: %v, want ErrNoGroup", err)
	}
	g, shares, err := dkg.DealRandom(2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SaveGroup(g); err != nil {
		t.Fatal(err)
	}
	if err := d.SaveKeyShare(shares[0]); err != nil {
		t.Fatal(err)
	}
	if err := d.SaveKeyShare(shares[0]); err == nil {
		t.Fatal("SaveKeyShare overwrote an existing share")
	}
	back, err := d.LoadGroup()
	if err != nil || !back.Equal(g) {
		t.Fatalf("LoadGroup: %v", err)
	}
	ks, err := d.LoadKeyShare(g)
	if err != nil || ks != shares[0] {
		t.Fatalf("LoadKeyShare: %v", err)
	}
	// The share on disk is sealed, and a wrong key does not open it.
	raw, _ := os.ReadFile(filepath.Join(d.Path, state.KeyShareFile))
	if len(raw) == 0 || string(raw[:3]) == `{"i` {
		t.Fatal("keyshare.age is not sealed")
	}
	other := filepath.Join(dir, "other.key")
	if _, err := sealed.GenerateIdentityFile(other); err != nil {
		t.Fatal(err)
	}
	if _, err := (state.Dir{Path: d.Path, Key: sealed.Key{IdentityFile: other}}).LoadKeyShare(g); !errors.Is(err, sealed.ErrWrongKey) {
		t.Fatalf("wrong identity: %v, want ErrWrongKey", err)
	}
	// A share that does not belong to the group is refused.
	g2, _, _ := dkg.DealRandom(2, 3)
	if _, err := d.LoadKeyShare(g2); err == nil {
		t.Fatal("a share of another group loaded")
	}
	if err := d.ReplaceKeyShare(shares[1]); err != nil {
		t.Fatal(err)
	}
	if ks, err := d.LoadKeyShare(g); err != nil || ks != shares[1] {
		t.Fatalf("after ReplaceKeyShare: %v", err)
	}
	s, err := d.OpenNonceStore()
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}
