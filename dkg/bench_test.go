package dkg_test

import (
	"fmt"
	"testing"

	"github.com/frostd/frostd/dkg"
)

// BenchmarkCeremony runs whole key generations in memory: the work of all
// n participants (in parallel, one goroutine each per wave of messages),
// so a participant's own cost is roughly the time times GOMAXPROCS over n.
func BenchmarkCeremony(b *testing.B) {
	for _, tc := range []struct{ t, n uint16 }{{3, 5}, {7, 10}} {
		b.Run(fmt.Sprintf("%d-of-%d", tc.t, tc.n), func(b *testing.B) {
			for b.Loop() {
				if _, err := dkg.RunLocal(tc.t, tc.n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRefresh(b *testing.B) {
	for _, tc := range []struct{ t, n uint16 }{{3, 5}, {7, 10}} {
		b.Run(fmt.Sprintf("%d-of-%d", tc.t, tc.n), func(b *testing.B) {
			g, shares, err := dkg.DealRandom(tc.t, tc.n)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := dkg.RefreshLocal(g, shares); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
