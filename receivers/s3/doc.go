// Package s3 is a heartbeat receiver that checks an S3 bucket through the application's own minio-go client.
package s3
