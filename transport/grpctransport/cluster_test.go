package grpctransport_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/frostd/frostd/coordinator"
	"github.com/frostd/frostd/participant"
	"github.com/frostd/frostd/pki"
	frostdv1 "github.com/frostd/frostd/proto/frostd/v1"
	"github.com/frostd/frostd/protocol"
	"github.com/frostd/frostd/signer"
	"github.com/frostd/frostd/transport/grpctransport"
	"github.com/frostd/frostd/transport/grpctransport/grpctest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// bound is a generous limit on how long one call may take before the test
// fails; no test waits for it to pass.
const bound = 30 * time.Second

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), bound)
	t.Cleanup(cancel)
	return c
}

// shortCtx is for calls to a coordinator that cannot be reached: they
// wait for a connection until their deadline, and fail either way.
func shortCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	t.Cleanup(cancel)
	return c
}

// syncBuffer is a log destination safe for the servers' goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func dialCoordinator(t *testing.T, c *grpctest.Cluster, conf *tls.Config) *grpctransport.CoordinatorClient {
	t.Helper()
	cl, err := grpctransport.DialCoordinator(c.CoordinatorAddr, conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// transportAs returns a Participants transport presenting files, knowing
// every participant of c.
func transportAs(t *testing.T, c *grpctest.Cluster, files pki.Files) *grpctransport.Participants {
	t.Helper()
	tr := grpctransport.NewParticipants(grpctest.ClientTLS(t, files), grpctransport.ParticipantsOptions{})
	t.Cleanup(func() { tr.Close() })
	for _, p := range c.Participants {
		tr.SetAddress(p.ID, p.Addr)
	}
	return tr
}

func TestClusterSigns(t *testing.T) {
	c := grpctest.New(t, 3, 5, grpctest.Options{})
	cl := dialCoordinator(t, c, c.ClientTLS(t))

	g, err := cl.GroupInfo(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if !g.Equal(c.Group) {
		t.Fatalf("GroupInfo returned %+v, want %+v", g, c.Group)
	}
	msgs := [][]byte{[]byte("first"), {}, bytes.Repeat([]byte{7}, 100<<10)}
	for round := range 3 { // later rounds use pooled commitments
		sigs, err := cl.Sign(ctx(t), msgs)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for i, m := range msgs {
			if !ed25519.Verify(c.Group.PublicKey, m, sigs[i]) {
				t.Fatalf("round %d: signature %d does not verify", round, i)
			}
		}
	}
	if pools := c.Service.Stats().Pools; len(pools) != 5 {
		t.Errorf("pools %v, want one per participant", pools)
	}
}

// commitAll asks participants ids for one commitment each, as a
// coordinator would, and returns a sign item over message using them.
func commitAll(t *testing.T, tr *grpctransport.Participants, message []byte, session byte, ids ...protocol.ParticipantID) protocol.SignItem {
	t.Helper()
	item := protocol.SignItem{Message: message}
	item.Session[0] = session
	for _, id := range ids {
		resp, err := tr.Commit(ctx(t), id, protocol.CommitRequest{Count: 1})
		if err != nil {
			t.Fatalf("Commit to participant %d: %v", id, err)
		}
		item.Commitments = append(item.Commitments, resp.Commitments...)
	}
	return item
}

func TestRefusalsCrossTheWire(t *testing.T) {
	policyErr := errors.New("message does not start with \"ok\"")
	c := grpctest.New(t, 3, 5, grpctest.Options{Policy: participant.Policy{
		Allow: func(_ string, m []byte) error {
			if !bytes.HasPrefix(m, []byte("ok")) {
				return policyErr
			}
			return nil
		},
	}})
	tr := c.Transport

	item := commitAll(t, tr, []byte("ok 1"), 1, 1, 2, 3)
	req := protocol.SignRequest{Items: []protocol.SignItem{item}}
	if _, err := tr.Sign(ctx(t), 1, req); err != nil {
		t.Fatalf("first Sign: %v", err)
	}

	t.Run("replay", func(t *testing.T) {
		_, err := tr.Sign(ctx(t), 1, req)
		if !errors.Is(err, protocol.ErrNonceSpent) {
			t.Fatalf("replayed request: got %v, want an error wrapping ErrNonceSpent", err)
		}
		if status.Code(err) != codes.AlreadyExists {
			t.Errorf("status %v, want AlreadyExists", status.Code(err))
		}
		var r *protocol.Refusal
		if !errors.As(err, &r) || r.Code != protocol.CodeNonceSpent || r.Detail == "" {
			t.Errorf("no nonce-spent Refusal in %v", err)
		}
	})

	t.Run("policy detail is exact", func(t *testing.T) {
		bad := commitAll(t, tr, []byte("no"), 2, 1, 2, 3)
		_, err := tr.Sign(ctx(t), 2, protocol.SignRequest{Items: []protocol.SignItem{bad}})
		want := protocol.Refuse(protocol.CodePolicy, "%v", policyErr)
		var r *protocol.Refusal
		if !errors.As(err, &r) || !reflect.DeepEqual(r, want) {
			t.Fatalf("got refusal %#v (%v), want %#v", r, err, want)
		}
		if !errors.Is(err, protocol.ErrPolicy) || status.Code(err) != codes.PermissionDenied {
			t.Errorf("%v: want ErrPolicy and PermissionDenied", err)
		}
		if !strings.Contains(err.Error(), "participant 2") {
			t.Errorf("error %q does not say which participant refused", err)
		}
	})

	t.Run("unknown commitment", func(t *testing.T) {
		forged := commitAll(t, tr, []byte("ok 3"), 3, 1, 2, 3)
		forged.Commitments[0].ID ^= 1 << 40
		_, err := tr.Sign(ctx(t), 1, protocol.SignRequest{Items: []protocol.SignItem{forged}})
		if !errors.Is(err, protocol.ErrUnknownCommitment) || status.Code(err) != codes.FailedPrecondition {
			t.Fatalf("got %v (%v), want ErrUnknownCommitment and FailedPrecondition", err, status.Code(err))
		}
	})

	t.Run("coordinator reports refused", func(t *testing.T) {
		cl := dialCoordinator(t, c, c.ClientTLS(t))
		_, err := cl.Sign(ctx(t), [][]byte{[]byte("not ok")})
		if !errors.Is(err, signer.ErrRefused) || status.Code(err) != codes.PermissionDenied {
			t.Fatalf("got %v, want an error wrapping signer.ErrRefused", err)
		}
		if !strings.Contains(err.Error(), policyErr.Error()) {
			t.Errorf("error %q does not carry the participants' reason", err)
		}
	})
}

func TestCoordinatorErrorsMapToSignerErrors(t *testing.T) {
	c := grpctest.New(t, 3, 5, grpctest.Options{Service: coordinator.ServiceConfig{Config: coordinator.Config{MaxMessageSize: 1000}}})
	cl := dialCoordinator(t, c, c.ClientTLS(t))

	if _, err := cl.Sign(ctx(t), [][]byte{make([]byte, 1001)}); !errors.Is(err, signer.ErrMessageTooLarge) {
		t.Errorf("message over the coordinator's limit: got %v, want ErrMessageTooLarge", err)
	}
	if _, err := cl.Sign(ctx(t), nil); status.Code(err) != codes.InvalidArgument {
		t.Errorf("no message: got %v, want InvalidArgument", err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := cl.Sign(cancelled, [][]byte{[]byte("x")}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v, want context.Canceled", err)
	}
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if _, err := cl.Sign(expired, [][]byte{[]byte("x")}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expired context: got %v, want context.DeadlineExceeded", err)
	}

	// With three of five participants gone, no quorum of three remains.
	for _, id := range []protocol.ParticipantID{1, 2, 3} {
		c.StopParticipant(id)
	}
	_, err := cl.Sign(ctx(t), [][]byte{[]byte("x")})
	if !errors.Is(err, signer.ErrUnavailable) || status.Code(err) != codes.Unavailable {
		t.Errorf("two of five participants up: got %v, want ErrUnavailable", err)
	}

	// With the coordinator gone, a call fails at once if it went out
	// before the client saw the connection close, and otherwise waits for
	// a connection until its deadline.
	c.StopCoordinator()
	for range 2 {
		if _, err := cl.Sign(shortCtx(t), [][]byte{[]byte("x")}); !errors.Is(err, signer.ErrUnavailable) {
			t.Errorf("coordinator down: got %v, want ErrUnavailable", err)
		}
	}
	if _, err := cl.Sign(shortCtx(t), [][]byte{[]byte("x")}); !errors.Is(err, signer.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("coordinator down: got %v, want ErrUnavailable and DeadlineExceeded", err)
	}
}

func TestAuthorization(t *testing.T) {
	logs := &syncBuffer{}
	c := grpctest.New(t, 3, 5, grpctest.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})

	t.Run("client certificate calls a participant", func(t *testing.T) {
		tr := transportAs(t, c, c.Issue(t, "nosy", pki.RoleClient, 0))
		_, err := tr.Commit(ctx(t), 1, protocol.CommitRequest{Count: 1})
		if status.Code(err) != codes.PermissionDenied || !errors.Is(err, protocol.ErrPolicy) {
			t.Fatalf("got %v, want PermissionDenied", err)
		}
		if !strings.Contains(logs.String(), "client nosy") {
			t.Errorf("the refusal was not logged; log:\n%s", logs)
		}
	})

	t.Run("participant certificate calls a participant", func(t *testing.T) {
		tr := transportAs(t, c, c.Participants[3].Files)
		_, err := tr.Sign(ctx(t), 1, protocol.SignRequest{})
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("got %v, want PermissionDenied", err)
		}
	})

	t.Run("participant certificate calls Coordinator.Sign", func(t *testing.T) {
		cl := dialCoordinator(t, c, grpctest.ClientTLS(t, c.Participants[0].Files))
		_, err := cl.Sign(ctx(t), [][]byte{[]byte("x")})
		if status.Code(err) != codes.PermissionDenied || !errors.Is(err, signer.ErrRefused) {
			t.Fatalf("got %v, want PermissionDenied and ErrRefused", err)
		}
	})

	t.Run("coordinator certificate calls Coordinator.Sign", func(t *testing.T) {
		cl := dialCoordinator(t, c, grpctest.ClientTLS(t, c.CoordinatorFiles))
		if _, err := cl.Sign(ctx(t), [][]byte{[]byte("x")}); status.Code(err) != codes.PermissionDenied {
			t.Fatalf("got %v, want PermissionDenied", err)
		}
	})

	t.Run("GroupInfo for every role", func(t *testing.T) {
		for _, f := range []pki.Files{c.Participants[4].Files, c.CoordinatorFiles, c.Issue(t, "app", pki.RoleClient, 0)} {
			g, err := dialCoordinator(t, c, grpctest.ClientTLS(t, f)).GroupInfo(ctx(t))
			if err != nil || !g.Equal(c.Group) {
				t.Errorf("GroupInfo as %s: %v", f.Cert, err)
			}
		}
	})

	t.Run("coordinator client checks the server is a coordinator", func(t *testing.T) {
		cl, err := grpctransport.DialCoordinator(c.Participants[0].Addr, c.ClientTLS(t))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		// The call waits for a connection that never comes; its error
		// names the last refused handshake once one has happened, which
		// a loaded machine may take more than one short call to see.
		for deadline := time.Now().Add(bound); ; {
			_, err = cl.GroupInfo(shortCtx(t))
			if !errors.Is(err, signer.ErrUnavailable) {
				t.Fatalf("GroupInfo from a participant's address: got %v, want ErrUnavailable", err)
			}
			if strings.Contains(err.Error(), "participant 1") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("GroupInfo from a participant's address: got %v, want a handshake failure naming what answered", err)
			}
		}
	})
}

func TestPushCommitments(t *testing.T) {
	// The participants refuse the coordinator's own requests for
	// commitments, so that its pools hold exactly what is pushed.
	const pusher = "pusher"
	c := grpctest.New(t, 3, 5, grpctest.Options{Policy: participant.Policy{Coordinators: []string{pusher}}})
	p2 := c.Participants[1]
	cl := dialCoordinator(t, c, grpctest.ClientTLS(t, p2.Files))

	fresh := func(p *grpctest.Participant, n int) []protocol.Commitment {
		resp, err := p.Participant.Commit(pusher, protocol.CommitRequest{Count: n})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Commitments
	}
	const before = 0
	if err := cl.PushCommitments(ctx(t), fresh(p2, 10)); err != nil {
		t.Fatalf("pushing own commitments: %v", err)
	}
	if after := c.Service.Stats().Pools[2]; after != before+10 {
		t.Errorf("pool of participant 2: %d after pushing 10 onto %d", after, before)
	}

	err := cl.PushCommitments(ctx(t), fresh(c.Participants[2], 1))
	if status.Code(err) != codes.PermissionDenied || !errors.Is(err, protocol.ErrPolicy) {
		t.Errorf("pushing participant 3's commitments with participant 2's certificate: got %v, want PermissionDenied", err)
	}
	mixed := append(fresh(p2, 1), fresh(c.Participants[2], 1)...)
	if err := cl.PushCommitments(ctx(t), mixed); status.Code(err) != codes.PermissionDenied {
		t.Errorf("pushing a mix: got %v, want PermissionDenied", err)
	}
	bad := fresh(p2, 1)
	bad[0].Hiding = [32]byte{} // not a valid point
	if err := cl.PushCommitments(ctx(t), bad); status.Code(err) != codes.InvalidArgument || !errors.Is(err, protocol.ErrMalformed) {
		t.Errorf("pushing an invalid point: got %v, want InvalidArgument", err)
	}
	if err := cl.PushCommitments(ctx(t), nil); status.Code(err) != codes.InvalidArgument {
		t.Errorf("pushing nothing: got %v, want InvalidArgument", err)
	}

	client := dialCoordinator(t, c, c.ClientTLS(t))
	if err := client.PushCommitments(ctx(t), fresh(p2, 1)); status.Code(err) != codes.PermissionDenied {
		t.Errorf("a client pushing: got %v, want PermissionDenied", err)
	}
	if got := c.Service.Stats().Pools[2]; got != before+10 {
		t.Errorf("refused pushes changed the pool: %d, want %d", got, before+10)
	}
}

func TestHandshakeRefusals(t *testing.T) {
	c := grpctest.New(t, 3, 5, grpctest.Options{})

	other := t.TempDir()
	if _, err := pki.InitCA(filepath.Join(other, "ca")); err != nil {
		t.Fatal(err)
	}
	foreign, err := pki.Issue(filepath.Join(other, "ca"), grpctest.CoordinatorName, pki.RoleCoordinator, filepath.Join(other, "coord"), pki.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	expired := filepath.Join(t.TempDir(), "old")
	old, err := pki.Issue(c.CADir, grpctest.CoordinatorName, pki.RoleCoordinator, expired, pki.IssueOptions{NotBefore: time.Now().Add(-48 * time.Hour), Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}

	for name, files := range map[string]pki.Files{"wrong CA": foreign, "expired": old} {
		t.Run(name, func(t *testing.T) {
			tr := transportAs(t, c, files)
			_, err := tr.Commit(ctx(t), 1, protocol.CommitRequest{Count: 1})
			if !errors.Is(err, protocol.ErrUnavailable) || status.Code(err) != codes.Unavailable {
				t.Fatalf("got %v, want the handshake refused (Unavailable)", err)
			}
		})
	}

	t.Run("server of the wrong CA", func(t *testing.T) {
		tr := grpctransport.NewParticipants(grpctest.ClientTLS(t, c.CoordinatorFiles), grpctransport.ParticipantsOptions{})
		defer tr.Close()
		srvTLS, err := pki.ServerTLS(foreign)
		if err != nil {
			t.Fatal(err)
		}
		srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(srvTLS)))
		lis := grpctest.Listen(t, "127.0.0.1:0")
		go srv.Serve(lis)
		defer srv.Stop()
		tr.SetAddress(1, lis.Addr().String())
		if _, err := tr.Commit(ctx(t), 1, protocol.CommitRequest{Count: 1}); !errors.Is(err, protocol.ErrUnavailable) {
			t.Fatalf("got %v, want the handshake refused", err)
		}
	})

	t.Run("plaintext", func(t *testing.T) {
		cc, err := grpc.NewClient(c.Participants[0].Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close()
		_, err = frostdv1.NewParticipantClient(cc).Commit(ctx(t), &frostdv1.CommitRequest{Count: 1})
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("plaintext call: got %v, want Unavailable", err)
		}
	})

	t.Run("wrong participant at the address", func(t *testing.T) {
		tr := grpctransport.NewParticipants(grpctest.ClientTLS(t, c.CoordinatorFiles), grpctransport.ParticipantsOptions{})
		defer tr.Close()
		tr.SetAddress(1, c.Participants[1].Addr)
		_, err := tr.Commit(ctx(t), 1, protocol.CommitRequest{Count: 1})
		if !errors.Is(err, protocol.ErrUnavailable) || !strings.Contains(err.Error(), "participant 2") {
			t.Fatalf("got %v, want a refusal naming participant 2", err)
		}
	})

	// None of this hurt the cluster.
	cl := dialCoordinator(t, c, c.ClientTLS(t))
	if _, err := cl.Sign(ctx(t), [][]byte{[]byte("still serving")}); err != nil {
		t.Fatal(err)
	}
}

func TestMalformedAndOversized(t *testing.T) {
	pol := participant.Policy{MaxMessageSize: 1 << 10, MaxBatch: 4}
	c := grpctest.New(t, 3, 5, grpctest.Options{Policy: pol, Service: coordinator.ServiceConfig{Config: coordinator.Config{MaxMessageSize: 1 << 10, MaxBatch: 4}}})

	conf, err := pki.ClientTLS(c.CoordinatorFiles)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := grpc.NewClient(c.Participants[0].Addr, grpc.WithTransportCredentials(credentials.NewTLS(conf)))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	raw := frostdv1.NewParticipantClient(cc)

	session := byte(0)
	good := func() *frostdv1.SignRequest {
		session++ // a participant signs once per session
		item := commitAll(t, c.Transport, []byte("good"), session, 1, 2, 3)
		r := &frostdv1.SignRequest{Items: []*frostdv1.SignItem{{Session: item.Session[:], Message: item.Message}}}
		for _, cm := range item.Commitments {
			r.Items[0].Commitments = append(r.Items[0].Commitments, &frostdv1.Commitment{Signer: uint32(cm.Signer), Id: cm.ID, Hiding: cm.Hiding[:], Binding: cm.Binding[:]})
		}
		return r
	}
	cases := map[string]func(*frostdv1.SignRequest){
		"short session": func(r *frostdv1.SignRequest) { r.Items[0].Session = r.Items[0].Session[:15] },
		"long hiding point": func(r *frostdv1.SignRequest) {
			r.Items[0].Commitments[0].Hiding = append(r.Items[0].Commitments[0].Hiding, 0)
		},
		"short binding":      func(r *frostdv1.SignRequest) { r.Items[0].Commitments[1].Binding = nil },
		"signer zero":        func(r *frostdv1.SignRequest) { r.Items[0].Commitments[2].Signer = 0 },
		"signer beyond 16 b": func(r *frostdv1.SignRequest) { r.Items[0].Commitments[2].Signer = 1 << 16 },
		"empty commitment":   func(r *frostdv1.SignRequest) { r.Items[0].Commitments[1] = &frostdv1.Commitment{} },
		"no items":           func(r *frostdv1.SignRequest) { r.Items = nil },
		"too many items": func(r *frostdv1.SignRequest) {
			for range 4 {
				r.Items = append(r.Items, r.Items[0])
			}
		},
	}
	for name, mutate := range cases {
		r := good()
		mutate(r)
		_, err := raw.Sign(ctx(t), r)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: got %v, want InvalidArgument", name, err)
		}
		if _, err := raw.Sign(ctx(t), good()); err != nil {
			t.Fatalf("after %s: a good request failed: %v", name, err)
		}
	}
	if _, err := raw.Commit(ctx(t), &frostdv1.CommitRequest{}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("commit of 0: got %v, want InvalidArgument", err)
	}

	limit := grpctransport.ParticipantRecvLimit(pol, 5)
	huge := good()
	huge.Items[0].Message = make([]byte, limit+1)
	if _, err := raw.Sign(ctx(t), huge); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("request over the %d-byte limit: got %v, want ResourceExhausted", limit, err)
	}
	big := good()
	big.Items[0].Message = make([]byte, 2<<10) // within the gRPC limit, over the policy
	if _, err := raw.Sign(ctx(t), big); status.Code(err) != codes.PermissionDenied {
		t.Errorf("message over the policy: got %v, want PermissionDenied", err)
	}
	if _, err := raw.Sign(ctx(t), good()); err != nil {
		t.Fatalf("after oversized requests: %v", err)
	}

	cl := dialCoordinator(t, c, c.ClientTLS(t))
	climit := grpctransport.CoordinatorRecvLimit(coordinator.Config{MaxMessageSize: 1 << 10, MaxBatch: 4}, 0)
	if _, err := cl.Sign(ctx(t), [][]byte{make([]byte, climit+1)}); !errors.Is(err, signer.ErrMessageTooLarge) {
		t.Errorf("client request over the coordinator's limit: got %v, want ErrMessageTooLarge", err)
	}
	if _, err := cl.Sign(ctx(t), [][]byte{[]byte("after")}); err != nil {
		t.Fatalf("coordinator after an oversized request: %v", err)
	}
}

func TestParticipantsTransport(t *testing.T) {
	c := grpctest.New(t, 3, 5, grpctest.Options{})
	tr := transportAs(t, c, c.CoordinatorFiles)

	if _, err := tr.Commit(ctx(t), 9, protocol.CommitRequest{Count: 1}); !errors.Is(err, protocol.ErrUnavailable) {
		t.Errorf("unknown participant: got %v, want ErrUnavailable", err)
	}
	if _, err := tr.Commit(ctx(t), 1, protocol.CommitRequest{Count: 2}); err != nil {
		t.Fatal(err)
	}

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tr.Commit(cancelled, 1, protocol.CommitRequest{Count: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v, want context.Canceled", err)
	}

	// A participant restarting on the same address is reached again.
	c.StopParticipant(2)
	if _, err := tr.Commit(ctx(t), 2, protocol.CommitRequest{Count: 1}); !errors.Is(err, protocol.ErrUnavailable) {
		t.Errorf("stopped participant: got %v, want ErrUnavailable", err)
	}
	c.StartParticipant(t, 2, c.Participants[1].Addr)
	reached := false
	for deadline := time.Now().Add(bound); !reached && time.Now().Before(deadline); {
		_, err := tr.Commit(ctx(t), 2, protocol.CommitRequest{Count: 1})
		reached = err == nil
		if err != nil && !errors.Is(err, protocol.ErrUnavailable) {
			t.Fatalf("restarted participant: %v", err)
		}
		if !reached {
			time.Sleep(50 * time.Millisecond) // the reconnection backoff runs
		}
	}
	if !reached {
		t.Fatal("restarted participant never reached again")
	}

	tr.RemoveAddress(1)
	if _, err := tr.Commit(ctx(t), 1, protocol.CommitRequest{Count: 1}); !errors.Is(err, protocol.ErrUnavailable) {
		t.Errorf("removed participant: got %v, want ErrUnavailable", err)
	}
	tr.SetAddress(1, c.Participants[0].Addr)
	if _, err := tr.Commit(ctx(t), 1, protocol.CommitRequest{Count: 1}); err != nil {
		t.Errorf("participant added back: %v", err)
	}

	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Commit(ctx(t), 1, protocol.CommitRequest{Count: 1}); !errors.Is(err, protocol.ErrUnavailable) {
		t.Errorf("closed transport: got %v, want ErrUnavailable", err)
	}
}

func TestConcurrentSigning(t *testing.T) {
	c := grpctest.New(t, 3, 5, grpctest.Options{})
	cl := dialCoordinator(t, c, c.ClientTLS(t))
	// One request first, so that the burst finds the pools filled instead
	// of making every participant compute hundreds of nonces at once
	// (slow under the race detector).
	if _, err := cl.Sign(ctx(t), [][]byte{[]byte("warm up")}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := fmt.Appendf(nil, "message %d", i)
			sigs, err := cl.Sign(ctx(t), [][]byte{m})
			if err == nil && !ed25519.Verify(c.Group.PublicKey, m, sigs[0]) {
				err = fmt.Errorf("signature %d does not verify", i)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
