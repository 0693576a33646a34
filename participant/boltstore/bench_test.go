package boltstore_test

import (
	"fmt"
	"testing"

	"github.com/frostd/frostd/participant"
)

// BenchmarkSpend measures a Spend of one nonce and of a 64-nonce batch per
// op. Both cost one bbolt commit and one fsync of the slots file, so the
// batch should cost little more than the single spend.
func BenchmarkSpend(b *testing.B) {
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := mustOpen(b, storePath(b), testKey)
			defer s.Close()
			all := make([]participant.Spend, 0, b.N*batch)
			for left := b.N * batch; left > 0; left -= 1024 {
				ns := nonces(min(left, 1024))
				if err := s.Put(ns); err != nil {
					b.Fatal(err)
				}
				for _, n := range ns {
					all = append(all, spend(n))
				}
			}
			b.ResetTimer()
			for i := range b.N {
				if _, err := s.Spend(all[i*batch : (i+1)*batch]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "spends/s")
		})
	}
}
