package bench

import "testing"

// BenchmarkProbe serves one readiness probe per iteration through ServeHTTP
// with an httptest recorder, the same way for every subject:
//
//	go test -run '^$' -bench . -benchmem ./bench
//
// Sub-benchmark names carry the keys benchstat groups by, so that
//
//	benchstat -col /lib bench.txt
//
// prints the subjects side by side, each compared with the bare handler.
func BenchmarkProbe(b *testing.B) {
	for _, sc := range Scenarios {
		for _, sub := range Subjects {
			b.Run("scenario="+sc.Name+"/lib="+sub.Name, func(b *testing.B) {
				var be Backend
				tg := sub.New(sc.Setup(&be))
				b.Cleanup(tg.Close)
				Probe(b, tg)
			})
		}
	}
}
