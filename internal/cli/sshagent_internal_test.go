package cli

import (
	"os/exec"
	"testing"
)

// What ssh-agent's line sets must be the path, even if it has spaces or
// quotes, once a shell evals it.
func TestShellQuote(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, path := range []string{"/tmp/ssh-x/agent.1", "/tmp/a b/s", "/tmp/it's/s", "/tmp/$HOME/`id`/s", "/tmp/a;b/s"} {
		line := "SSH_AUTH_SOCK=" + shellQuote(path) + "; export SSH_AUTH_SOCK;"
		out, err := exec.Command(sh, "-c", line+` printf %s "$SSH_AUTH_SOCK"`).Output()
		if err != nil || string(out) != path {
			t.Errorf("eval of %q set SSH_AUTH_SOCK to %q (%v), want %q", line, out, err, path)
		}
	}
	if got := shellQuote("/tmp/ssh-x/agent.1"); got != "/tmp/ssh-x/agent.1" {
		t.Errorf("an ordinary path is quoted as %q; ssh-agent prints it bare", got)
	}
}
