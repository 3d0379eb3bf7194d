package sql_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	heartbeatsql "github.com/oarepo/heartbeat/receivers/sql"
)

// BenchmarkPing compares the bare db.PingContext with the same ping through
// the receiver, on each real server: the difference is the receiver's own
// cost (the goroutine that keeps the deadline, the pool statistics, the
// reply map).
//
//	go test -run '^$' -bench . -benchmem ./receivers/sql/
func BenchmarkPing(b *testing.B) {
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			db := open(b, s.driver, s.dsn(b))
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			require.NoError(b, db.PingContext(ctx))

			b.Run("bare PingContext", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := db.PingContext(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("receiver", func(b *testing.B) {
				check := heartbeatsql.New(db)
				b.ReportAllocs()
				for b.Loop() {
					if r := check(ctx); !r.Status {
						b.Fatal(r.Data)
					}
				}
			})
		})
	}
}
