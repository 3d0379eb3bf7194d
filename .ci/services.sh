#!/usr/bin/env bash
# Makes sure the servers and tools the tests need are installed and running
# on this machine. It installs only what is missing (Debian packages) and
# starts only what is not running; it edits no system configuration, and a
# server it did not start is only checked, never changed. Safe to run any
# number of times; when everything is up it only checks.
#
# What the tests need (README.md, "Run the tests"):
#   - PostgreSQL on 127.0.0.1:5432: user postgres without a password, a
#     database named test (or HEARTBEAT_TEST_POSTGRES_URL); also its server
#     binaries (initdb, postgres), with which some tests start a private
#     server of their own on a free port;
#   - Redis on 127.0.0.1:6379 without a password (or
#     HEARTBEAT_TEST_REDIS_URL); redis-server for private servers;
#   - MariaDB on 127.0.0.1:3306: user root without a password over TCP, a
#     database named test (or HEARTBEAT_TEST_MYSQL_DSN);
#   - RabbitMQ on 127.0.0.1:5672;
#   - prometheus and promtool (both from Debian's prometheus package; the
#     deploy tests start a private Prometheus server of their own) and
#     chromium + chromedriver, as binaries only;
#   - whatever .ci/seaweedfs.sh sets up, when that script exists.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "services: $*" >&2; }

wait_for() { # name, command...
	local name=$1
	shift
	for _ in $(seq 1 120); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.5
	done
	log "$name did not answer within 60 s"
	return 1
}

have() { command -v "$1" >/dev/null 2>&1; }

# tcp_open host port: something accepts connections there.
tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# --- install what is missing ---------------------------------------------------

missing=()
[[ -x "$(pg_bin)/initdb" ]] || missing+=(postgresql)
have redis-server || missing+=(redis-server)
[[ -x /usr/sbin/mariadbd ]] || missing+=(mariadb-server)
have rabbitmq-server || missing+=(rabbitmq-server)
have prometheus && have promtool || missing+=(prometheus)
have chromium || missing+=(chromium)
have chromedriver || missing+=(chromium-driver)
if ((${#missing[@]})); then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- PostgreSQL ----------------------------------------------------------------

pg_started=false
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
	version=$(ls /etc/postgresql | sort -V | tail -n 1)
	log "starting PostgreSQL $version"
	pg_ctlcluster --skip-systemctl-redirect "$version" main start
	pg_started=true
fi
wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432

# The tests connect as postgres without a password; only checked here.
psql_pg() { psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d postgres -w "$@"; }
if ! psql_pg -c 'select 1' >/dev/null 2>&1; then
	log "PostgreSQL on 127.0.0.1:5432 does not let postgres in without a password;"
	log "point HEARTBEAT_TEST_POSTGRES_URL at a server and user that may connect"
	[[ -n "${HEARTBEAT_TEST_POSTGRES_URL:-}" ]] || exit 1
elif [[ "$(psql_pg -c "select 1 from pg_database where datname = 'test'")" != 1 ]]; then
	if $pg_started; then
		# A server this script started itself, on a fresh machine.
		log "creating database test"
		psql_pg -c 'create database test'
	elif [[ -z "${HEARTBEAT_TEST_POSTGRES_URL:-}" ]]; then
		log "PostgreSQL on 127.0.0.1:5432 has no database test, and this script"
		log "changes no server it did not start: create it, or set HEARTBEAT_TEST_POSTGRES_URL"
		exit 1
	fi
fi

# --- Redis ---------------------------------------------------------------------

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
	log "starting Redis"
	mkdir -p /var/lib/redis /var/log/redis
	redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
		--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping

# --- MariaDB -------------------------------------------------------------------

mariadb_started=false
if ! tcp_open 127.0.0.1 3306; then
	log "starting MariaDB"
	start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
	mariadb_started=true
fi
wait_for MariaDB tcp_open 127.0.0.1 3306

# The tests connect as root without a password over TCP, to the database
# test (receivers/sql); only checked here, as for PostgreSQL.
mariadb_root() { mariadb --connect-timeout=5 -N -B -h 127.0.0.1 -P 3306 -u root "$@"; }
if ! mariadb_root -e 'select 1' >/dev/null 2>&1; then
	log "MariaDB on 127.0.0.1:3306 does not let root in without a password over TCP;"
	log "point HEARTBEAT_TEST_MYSQL_DSN at a server and user that may connect"
	[[ -n "${HEARTBEAT_TEST_MYSQL_DSN:-}" ]] || exit 1
elif [[ "$(mariadb_root -e "select 1 from information_schema.schemata where schema_name = 'test'")" != 1 ]]; then
	if $mariadb_started; then
		# A server this script started itself, on a fresh machine.
		log "creating MariaDB database test"
		mariadb_root -e 'create database test'
	elif [[ -z "${HEARTBEAT_TEST_MYSQL_DSN:-}" ]]; then
		log "MariaDB on 127.0.0.1:3306 has no database test, and this script"
		log "changes no server it did not start: create it, or set HEARTBEAT_TEST_MYSQL_DSN"
		exit 1
	fi
fi

# --- RabbitMQ ------------------------------------------------------------------

if ! tcp_open 127.0.0.1 5672; then
	log "starting RabbitMQ"
	rabbitmq-server -detached
fi
wait_for RabbitMQ tcp_open 127.0.0.1 5672

# --- more, from another script -------------------------------------------------

if [[ -f .ci/seaweedfs.sh ]]; then
	bash .ci/seaweedfs.sh
fi
