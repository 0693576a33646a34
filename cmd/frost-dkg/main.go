// Command frost-dkg makes, migrates and refreshes the key shares of a
// frostd signing group over the network. Run `frost-dkg --help` for the
// commands.
package main

import (
	"os"

	"github.com/frostd/frostd/internal/cli"
)

func main() {
	os.Exit(cli.DKGMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
