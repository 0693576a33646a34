package agentserver_test

import (
	"bytes"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh/agent"

	"github.com/frostd/frostd/agentserver"
	"github.com/frostd/frostd/signer/local"
)

// Serve a key to OpenSSH. Any signer.Signer will do: a FROST cluster's
// coordinator.Service or signer/frost client offers a key that no machine
// holds.
func Example() {
	s, err := local.FromSeed(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "agent-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	srv, err := agentserver.Listen(agentserver.Config{
		Socket: filepath.Join(dir, "agent.sock"),
		Signer: s,
	})
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve()
	defer srv.Close()

	// ssh-add -L, ssh and ssh-keygen -Y sign do the same with
	// SSH_AUTH_SOCK=srv.Socket().
	conn, err := net.Dial("unix", srv.Socket())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	keys, err := agent.NewClient(conn).List()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(keys[0].String())
	fmt.Println(srv.AuthorizedKey())
	// Output:
	// ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c ha4e7nbk17opbvaircmjpeiteb56e2dv3ma146vjei403d0fdte0
	// ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c
}
