// Package cli holds the cobra commands of frostd. Commands parse flags and
// print; the work they do lives in importable packages.
package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// ExitError carries a process exit code through cobra without printing an
// error line, for commands such as verify whose answer is their exit code.
type ExitError struct{ Code int }

func (e ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// Main runs frostd with args and returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return execute(NewRoot(), "frostd", args, stdin, stdout, stderr)
}

// execute runs a command tree and turns its error into an exit code and
// one line on stderr.
func execute(root *cobra.Command, name string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	var exit ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.Code
	default:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
}

// NewRoot returns the frostd command tree.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "frostd",
		Short: "Threshold Ed25519 signing: sign with identities no single machine holds",
		Long: `frostd signs with Ed25519 identities through one interface and
interchangeable backends: a local key, ssh-agent, a PKCS#11 HSM, or a FROST
cluster in which no machine ever holds the whole key.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, add := range commands {
		root.AddCommand(add())
	}
	return root
}

// commands lists the top-level command constructors; each lives in its own file.
var commands = []func() *cobra.Command{newCertsCmd, newClusterCmd, newCoordinatorCmd, newDemoCmd, newDevCmd, newParticipantCmd, newKeysCmd, newPkarrCmd, newSignCmd, newSSHAgentCmd, newVerifyCmd}
