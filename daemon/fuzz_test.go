package daemon_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/frostd/frostd/daemon"
)

// FuzzLoadConfig: any file content gives a config or an error, never a
// panic, and a config that loads names its node.
func FuzzLoadConfig(f *testing.F) {
	f.Add([]byte(daemon.ExampleParticipantConfig))
	f.Add([]byte(daemon.ExampleCoordinatorConfig))
	f.Add([]byte("id = 1\n[secrets]\ninsecure_plaintext = true\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "c.toml")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if c, err := daemon.LoadParticipantConfig(p); err == nil && (c.Name == "" || c.ID == 0) {
			t.Fatalf("a participant config without a name or id loaded: %+v", c)
		}
		if c, err := daemon.LoadCoordinatorConfig(p); err == nil && c.Name == "" {
			t.Fatalf("a coordinator config without a name loaded: %+v", c)
		}
	})
}
