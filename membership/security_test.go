package membership

import (
	"slices"
	"testing"
	"time"
)

// A node with the wrong cluster key, or none, cannot join: Join returns an
// error (the seed cannot decrypt the state exchange and hangs up), and the
// seed never lists it. A node with the right key joins the same seed, so
// the failures are about the key and nothing else.
func TestWrongKeyCannotJoin(t *testing.T) {
	t.Parallel()
	seedRec := &recorder{}
	seed := start(t, localConfig(t, "seed", Meta{Role: RoleCoordinator}), seedRec.observe)

	wrong := localConfig(t, "wrong-key", participant(1))
	wrong.SecretKey = otherKey
	wrong.Join = []string{seed.LocalAddr()}
	if n, err := Start(wrong, nil); err == nil {
		n.Shutdown()
		t.Fatal("Start with the wrong key joined")
	} else {
		t.Logf("Start with the wrong key: %v", err)
	}

	wrong.Join = nil
	intruder := start(t, wrong, nil)
	if err := intruder.Join([]string{seed.LocalAddr()}); err == nil {
		t.Fatal("Join with the wrong key succeeded")
	}

	plain := localConfig(t, "no-key", participant(2))
	plain.SecretKey, plain.InsecureNoEncryption = nil, true
	unencrypted := start(t, plain, nil)
	if err := unencrypted.Join([]string{seed.LocalAddr()}); err == nil {
		t.Fatal("Join without encryption into an encrypted cluster succeeded")
	}

	good := localConfig(t, "right-key", participant(3))
	good.Join = []string{seed.LocalAddr()}
	start(t, good, nil)
	waitUntil(t, 5*time.Second, "the right-key node to be listed by the seed", func() bool {
		return slices.Equal(names(seed.Members()), []string{"right-key", "seed"})
	})

	// Give gossip a few probe intervals: the outsiders must still be
	// unknown to the cluster, and the cluster to them.
	time.Sleep(2 * time.Second)
	if got := names(seed.Members()); !slices.Equal(got, []string{"right-key", "seed"}) {
		t.Fatalf("seed lists %v", got)
	}
	for _, e := range seedRec.all() {
		if name := e.Member.Meta.Name; name == "wrong-key" || name == "no-key" {
			t.Fatalf("seed heard of %s: %v", name, e.Event)
		}
	}
	for _, n := range []*Node{intruder, unencrypted} {
		if got := names(n.Members()); !slices.Equal(got, []string{n.Name()}) {
			t.Fatalf("%s lists %v, want only itself", n.Name(), got)
		}
	}
}
