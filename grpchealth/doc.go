// Package grpchealth serves heartbeat's probes as the gRPC health service grpc.health.v1.Health.
package grpchealth
