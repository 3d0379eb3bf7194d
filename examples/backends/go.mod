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
	github.com/go-sql-driver/mysql v1.10.1
	github.com/jackc/pgx/v5 v5.12.0
	github.com/minio/minio-go/v7 v7.3.0
	github.com/oarepo/heartbeat v0.0.0-00010101000000-000000000000
	github.com/oarepo/heartbeat/receivers/elastic v0.0.0-00010101000000-000000000000
	github.com/oarepo/heartbeat/receivers/postgres v0.0.0-00010101000000-000000000000
	github.com/oarepo/heartbeat/receivers/redis v0.0.0-00010101000000-000000000000
	github.com/opensearch-project/opensearch-go/v4 v4.7.3
	github.com/rabbitmq/amqp091-go v1.16.0
	github.com/redis/go-redis/v9 v9.22.0
	github.com/stretchr/testify v1.12.1
)

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/klauspost/compress v1.19.2 // indirect
	github.com/klauspost/cpuid/v2 v2.4.0 // indirect
	github.com/klauspost/crc32 v1.3.0 // indirect
	github.com/minio/crc64nvme v1.1.1 // indirect
	github.com/minio/md5-simd v1.1.2 // indirect
	github.com/philhofer/fwd v1.2.0 // indirect
	github.com/rs/xid v1.6.0 // indirect
	github.com/tinylib/msgp v1.6.4 // indirect
	github.com/zeebo/xxh3 v1.1.0 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/net v0.58.0 // indirect
	gopkg.in/ini.v1 v1.67.3 // indirect
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
	github.com/oarepo/heartbeat/receivers/rabbitmq v0.0.0-00010101000000-000000000000
	github.com/oarepo/heartbeat/receivers/s3 v0.0.0-00010101000000-000000000000
	github.com/oarepo/heartbeat/receivers/sql v0.0.0-00010101000000-000000000000
	go.opentelemetry.io/auto/sdk v1.1.0 // indirect
	go.opentelemetry.io/otel v1.35.0 // indirect
	go.opentelemetry.io/otel/metric v1.35.0 // indirect
	go.opentelemetry.io/otel/trace v1.35.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.41.0 // indirect
)

replace github.com/oarepo/heartbeat/receivers/rabbitmq => ../../receivers/rabbitmq

replace github.com/oarepo/heartbeat/receivers/s3 => ../../receivers/s3
