// Package grpchealth serves heartbeat's probes as the gRPC health service
// grpc.health.v1.Health, beside the HTTP endpoints and from the same
// receivers.
//
// The services are the probes:
//
//	"readiness"               signal.Readiness
//	"liveliness", "liveness"  signal.Liveliness
//	"startup"                 signal.Startup
//	""                        the server as a whole: readiness and liveliness both pass
//
// The empty name, which grpc-health-probe and a kubelet gRPC probe without a
// service ask by default, means "this server can serve": ready and alive.
// Startup is left out because it only gates the other probes while the
// process starts, and a server whose readiness passes has started.
// Any other name is answered with codes.NotFound by Check, and with
// SERVICE_UNKNOWN by Watch, as the health protocol asks.
//
// Check publishes the probe's signal on the bus (Bus.Publish), exactly as an
// HTTP probe does: the same receiver deadlines, the same coalescing and the
// same reuse of recent replies, so a gRPC probe costs what an HTTP probe
// costs and a hung receiver is answered NOT_SERVING at its deadline. Like
// the HTTP answer, Check ignores the monitor's thresholds.
//
// Watch reports the monitor's view, after its thresholds (the monitor is
// what tells people and clients, and a client-side load balancer is better
// served by a status that does not flap). It sends the current status at
// once, then a message whenever it changes. Changes arrive in two ways: the
// monitor's transitions (Monitor.Listen), which carry whatever any probe
// (the kubelet, an HTTP client, another gRPC client) has just seen; and a
// publish of the watched signals every watch interval (DefaultWatchInterval,
// 5s, see WithWatchInterval) while the stream is open, so that a change is
// seen even when nothing else probes. Those publishes reuse recent replies
// and join runs under way like any other, so the calls a receiver makes to
// its backend stay bounded however many streams are open.
//
// The startup service latches, as the HTTP startup probe does and as
// Kubernetes expects of a startupProbe: once the server has answered it
// SERVING (a Check or List whose publish passed with every startup check, or
// a Watch of "startup" that sent SERVING), Check, List and Watch answer it
// SERVING for the rest of the Server's life without publishing
// signal.Startup again, so that a startup check (a warm-up, a migration)
// runs only while the process starts. Shutdown still makes it NOT_SERVING.
//
// A draining server fails readiness through the drain's "shutdown" check on
// the bus (drain.Drain.Subscribe), over gRPC as over HTTP, while liveliness
// keeps serving.
//
// List answers every service at once. Shutdown makes every service
// NOT_SERVING and ends every Watch stream, so that grpc.Server.GracefulStop
// can finish.
package grpchealth
