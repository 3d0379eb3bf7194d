package s3_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/oarepo/heartbeat/receivers/s3"
	"github.com/oarepo/heartbeat/signal"
)

func ExampleNew() {
	client, err := minio.New("s3.example:9000", &minio.Options{
		Creds:  credentials.NewStaticV4("ACCESS-KEY", "SECRET-KEY", ""),
		Secure: true,
		// One request per probe, no location lookup; see the package
		// documentation.
		MaxRetries: 1,
		Region:     "us-east-1",
	})
	if err != nil {
		log.Fatal(err)
	}

	bus := signal.NewBus()
	defer bus.Subscribe(signal.Readiness, s3.New(client, "records", s3.WithName("storage")))()

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, reply := range bus.Publish(ctx, signal.Readiness) {
		fmt.Println(reply.Name, reply.Status, reply.Data["error"])
	}
}

// A store that is down fails the check, and the error says why.
func ExampleNew_serverDown() {
	client, err := minio.New("127.0.0.1:1", &minio.Options{
		Creds:      credentials.NewStaticV4("ACCESS-KEY", "SECRET-KEY", ""),
		MaxRetries: 1,
		Region:     "us-east-1",
	})
	if err != nil {
		log.Fatal(err)
	}
	check := s3.New(client, "records")

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	reply := check(ctx)
	fmt.Println(reply.Name, reply.Status)
	fmt.Println(reply.Data["error"])
	// Output:
	// s3 false
	// bucket "records": Head "http://127.0.0.1:1/records/": dial tcp 127.0.0.1:1: connect: connection refused
}
