module github.com/oarepo/heartbeat/examples

go 1.25.0

replace github.com/oarepo/heartbeat => ..

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/oarepo/heartbeat v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_model v0.6.2 // indirect
	github.com/prometheus/common v0.70.1 // indirect
	github.com/prometheus/procfs v0.21.1 // indirect
)

require (
	github.com/asaskevich/EventBus v0.0.0-20200907212545-49d423059eef // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/oarepo/heartbeat/grpchealth v0.0.0-00010101000000-000000000000
	github.com/oarepo/heartbeat/metrics/prometheus v0.0.0-00010101000000-000000000000
	github.com/prometheus/client_golang v1.24.1
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.57.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.41.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260706201446-f0a921348800 // indirect
	google.golang.org/grpc v1.84.0
	google.golang.org/protobuf v1.36.11 // indirect
)

replace github.com/oarepo/heartbeat/receivers/postgres => ../receivers/postgres

replace github.com/oarepo/heartbeat/receivers/redis => ../receivers/redis

replace github.com/oarepo/heartbeat/receivers/elastic => ../receivers/elastic

replace github.com/oarepo/heartbeat/metrics/prometheus => ../metrics/prometheus

replace github.com/oarepo/heartbeat/grpchealth => ../grpchealth
