package dkgnet_test

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/frostd/frostd/dkg/dkgnet"
	"github.com/frostd/frostd/pki"
	"github.com/frostd/frostd/protocol"
)

// TestDkgServiceRefusesClients serves the Dkg service behind a TLS
// configuration that lets every role of the cluster connect, so that the
// service's own check is what refuses a client certificate.
func TestDkgServiceRefusesClients(t *testing.T) {
	certs := t.TempDir()
	if _, err := pki.InitCA(certs); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		role pki.Role
		id   uint16
	}{{"p1", pki.RoleParticipant, 1}, {"coord", pki.RoleCoordinator, 0}, {"billing", pki.RoleClient, 0}} {
		if _, err := pki.Issue(certs, c.name, c.role, certs, pki.IssueOptions{ParticipantID: c.id, Hosts: []string{"127.0.0.1"}}); err != nil {
			t.Fatal(err)
		}
	}
	srvTLS, err := pki.ServerTLS(pki.NodeFiles(certs, "p1")) // any role may connect
	if err != nil {
		t.Fatal(err)
	}
	installed := false
	p, err := dkgnet.NewParticipant(dkgnet.ParticipantConfig{
		Certificate: srvTLS.Certificates[0],
		Roots:       srvTLS.ClientCAs,
		Key:         func() (*protocol.Group, protocol.KeyShare, bool) { return nil, protocol.KeyShare{}, false },
		Install:     func(*protocol.Group, protocol.KeyShare, bool) error { installed = true; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(srvTLS)))
	p.Register(srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(lis) }()
	defer func() { srv.Stop(); <-done }()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client, err := pki.ClientTLS(pki.NodeFiles(certs, "billing"), pki.RoleParticipant)
	if err != nil {
		t.Fatal(err)
	}
	_, err = dkgnet.Info(ctx, lis.Addr().String(), client)
	if st, _ := status.FromError(unwrapAll(err)); st.Code() != codes.PermissionDenied {
		t.Fatalf("a client certificate called Dkg.Roster: %v, want PERMISSION_DENIED", err)
	}
	// The same seen through a deal: refused, nothing installed.
	_, err = dkgnet.Deal(ctx, dkgnet.Config{Addrs: []string{lis.Addr().String(), lis.Addr().String()}, TLS: client, Threshold: 2}, make([]byte, 32))
	if err == nil || installed {
		t.Fatalf("a client certificate dealt a share (err %v)", err)
	}

	coord, err := pki.ClientTLS(pki.NodeFiles(certs, "coord"), pki.RoleParticipant)
	if err != nil {
		t.Fatal(err)
	}
	m, err := dkgnet.Info(ctx, lis.Addr().String(), coord)
	if err != nil {
		t.Fatalf("a coordinator certificate was refused: %v", err)
	}
	if m.ID != 1 || m.Group != nil {
		t.Fatalf("Roster says participant %d with group %v", m.ID, m.Group)
	}
}

func unwrapAll(err error) error {
	for {
		type unwrapper interface{ Unwrap() error }
		u, ok := err.(unwrapper)
		if !ok {
			return err
		}
		next := u.Unwrap()
		if next == nil {
			return err
		}
		err = next
	}
}
