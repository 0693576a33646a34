package testcluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/frostd/frostd/daemon"
	"github.com/frostd/frostd/signer/frost"
)

// Dev starts a `frostd dev` cluster in this process (a coordinator and n
// participants with real gRPC over mutual TLS, memberlist gossip, bbolt
// nonce stores and age-sealed shares, keys from a DKG ceremony) in a
// temporary directory, and returns it with a client signed in through
// signer/frost. Both are closed when the test ends.
func Dev(tb testing.TB, t, n uint16) (*daemon.DevCluster, *frost.Signer) {
	tb.Helper()
	dir := tb.TempDir()
	opts := daemon.LocalClusterOptions{Threshold: t, Participants: n, BasePort: FreeBasePort(tb, int(n))}
	d, _, err := daemon.StartDev(dir, opts, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(d.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := d.Ready(ctx); err != nil {
		tb.Fatal(err)
	}
	s, err := frost.New(ctx, frost.Config{Addr: d.Coordinator.Addr(), Files: daemon.ClientFiles(dir)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return d, s
}

// FreeBasePort returns a base port whose local-cluster ports (base..base+n,
// base+100.., base+200..) are free for TCP and UDP right now.
func FreeBasePort(tb testing.TB, n int) int {
	tb.Helper()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		base := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if base < 10000 || base+200+n > 65000 {
			continue
		}
		if portsFree(base, n) {
			return base
		}
	}
	tb.Fatal("no free port range on 127.0.0.1")
	return 0
}

func portsFree(base, n int) bool {
	for _, off := range []int{0, 100, 200} {
		for i := 0; i <= n; i++ {
			addr := fmt.Sprintf("127.0.0.1:%d", base+off+i)
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return false
			}
			ln.Close()
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				return false
			}
			pc.Close()
		}
	}
	return true
}
