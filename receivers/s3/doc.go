// Package s3 is a heartbeat receiver that checks an S3 bucket (AWS S3,
// MinIO, SeaweedFS, Ceph or any S3-compatible store) through the minio-go
// v7 client the application already holds.
//
//	import "github.com/oarepo/heartbeat/receivers/s3"
//
//	client, err := minio.New("s3.example:9000", &minio.Options{
//		Creds:      credentials.NewStaticV4(accessKey, secretKey, ""),
//		Secure:     true,
//		Region:     "us-east-1",
//		MaxRetries: 1,
//	})
//	…
//	bus.Subscribe(signal.Readiness, s3.New(client, "records"))
//
// # What a check proves
//
// Each check asks the client whether the configured bucket exists: one
// signed HEAD request for the bucket. A pass proves at once that the
// endpoint answers, that it accepts the application's keys and that the
// bucket is there. The check reads and writes no object.
//
// A missing bucket fails as "bucket "records" does not exist". Wrong keys
// fail as "bucket "records": Access Denied. (AccessDenied, HTTP 403): the
// access key or secret key is wrong, or the key may not read this bucket":
// the answer to a HEAD request has no body, so S3 cannot say which key is
// wrong. A client without a region asks for the bucket's location first,
// and that answer does name the cause (SignatureDoesNotMatch,
// InvalidAccessKeyId). A server that is down fails with the client's network error
// ("connection refused"). The request honours the probe's deadline; when
// the deadline passes first the check says "timed out after …" and what a
// TCP dial to the endpoint found. At most one request per receiver is in
// flight: a probe that arrives while an earlier request still waits joins
// it.
//
// minio-go's HealthCheck and IsOnline are not used: they are a background
// loop whose verdict counts an AccessDenied answer as online, and they say
// nothing about the bucket.
//
// # Data
//
// On success the reply's data holds "time" (seconds, float64) and "bucket".
// On failure it holds "error", scrubbed by package redact with the client's
// secret key and session token as extra secrets.
//
// # Client settings
//
//   - MaxRetries: minio-go retries a failed request up to 10 times with a
//     growing backoff, so once the bucket's location is cached "connection
//     refused" turns into a timeout at the probe's deadline. MaxRetries: 1
//     sends one request and brings the real error back at once; the next
//     probe is the retry. With the default the receiver still names the
//     cause, from its own TCP dial.
//   - Region: without it the client first asks the server for the bucket's
//     location, one more request until an answer is cached. Setting the
//     bucket's region saves that request; the price is that wrong keys
//     then read AccessDenied, as the HEAD's answer has no body to say more.
//   - The client's transport keeps the connection alive between probes, so
//     a check costs one HEAD on an open connection.
//
// Check a shared object store on readiness, not on liveliness: a liveness
// failure restarts the container, so an outage checked there restarts every
// pod of the service at once and fixes nothing.
package s3
