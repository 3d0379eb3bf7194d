module github.com/oarepo/heartbeat/examples/backends

go 1.25.9

replace (
	github.com/oarepo/heartbeat => ../..
	github.com/oarepo/heartbeat/receivers/elastic => ../../receivers/elastic
	github.com/oarepo/heartbeat/receivers/postgres => ../../receivers/postgres
	github.com/oarepo/heartbeat/receivers/redis => ../../receivers/redis
	github.com/oarepo/heartbeat/receivers/sql => ../../receivers/sql
)

require (
	github.com/elastic/go-elasticsearch/v8 v8.19.7
	github.com/go-chi/chi/v5 v5.5.0
	github.com/jackc/pgx/v5 v5.12.0
	github.com/oarepo/heartbeat v0.0.0-00010101000000-000000000000
	github.com/oarepo/heartbeat/receivers/elastic v0.0.0-00010101000000-000000000000
	github.com/oarepo/heartbeat/receivers/postgres v0.0.0-00010101000000-000000000000
	github.com/oarepo/heartbeat/receivers/redis v0.0.0-00010101000000-000000000000
	github.com/redis/go-redis/v9 v9.22.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/asaskevich/EventBus v0.0.0-20200907212545-49d423059eef // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/elastic/elastic-transport-go/v8 v8.9.0 // indirect
	github.com/go-logr/logr v1.4.3 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/oarepo/heartbeat/receivers/sql v0.0.0-00010101000000-000000000000 // indirect
	go.opentelemetry.io/auto/sdk v1.1.0 // indirect
	go.opentelemetry.io/otel v1.35.0 // indirect
	go.opentelemetry.io/otel/metric v1.35.0 // indirect
	go.opentelemetry.io/otel/trace v1.35.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.30.0 // indirect
	golang.org/x/text v0.41.0 // indirect
)
