package pki_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/frostd/frostd/pki"
)

// A cluster CA, a certificate for participant 1, and the TLS configuration
// that participant serves with: only coordinators may connect.
func Example() {
	dir, err := os.MkdirTemp("", "pki-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	caDir := filepath.Join(dir, "ca")
	if _, err := pki.InitCA(caDir); err != nil {
		log.Fatal(err)
	}
	files, err := pki.Issue(caDir, "p1", pki.RoleParticipant, filepath.Join(dir, "p1"), pki.IssueOptions{
		ParticipantID: 1,
		Hosts:         []string{"p1.cluster.internal"},
	})
	if err != nil {
		log.Fatal(err)
	}
	id, err := files.Identity()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id, id.URI())

	if _, err := pki.ServerTLS(files, pki.RoleCoordinator); err != nil {
		log.Fatal(err)
	}
	// Output: participant 1 (p1) frostd://participant/1
}
