// Command frostd signs with Ed25519 identities whose private key no single
// machine holds. Run `frostd --help` for the commands.
package main

import (
	"os"

	"github.com/frostd/frostd/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
