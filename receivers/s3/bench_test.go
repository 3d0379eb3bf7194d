package s3_test

import (
	"context"
	"testing"
	"time"

	"github.com/oarepo/heartbeat/receivers/s3"
)

// BenchmarkBareBucketExists is the client's own HEAD of the bucket, the
// baseline.
func BenchmarkBareBucketExists(b *testing.B) {
	endpoint := requireServer(b)
	bucket := ownBucket(b, endpoint)
	c := client(b, endpoint, secretKey, recommended)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := c.BucketExists(ctx, bucket); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkReceiver is the receiver as the bus calls it, under a deadline.
// Compared with BenchmarkBareBucketExists it shows the receiver's overhead
// (goroutine, timer, reply map).
func BenchmarkReceiver(b *testing.B) {
	endpoint := requireServer(b)
	bucket := ownBucket(b, endpoint)
	r := s3.New(client(b, endpoint, secretKey, recommended), bucket)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		if reply := r(ctx); !reply.Status {
			b.Fatal(reply.Data)
		}
	}
}
