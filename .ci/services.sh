#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis are installed, configured the way the tests
# expect, and answering on 127.0.0.1. Safe to run any number of times; when
# everything is already up it only checks and returns within a second.
#
# What the tests expect (see internal/testenv and receivers/*):
#   - PostgreSQL on 127.0.0.1:5432, user postgres without a password (trust),
#     a database named "test", and password auth (scram-sha-256) enforced for
#     the role heartbeat_pw, which the wrong-password test creates;
#   - Redis on 127.0.0.1:6379 without a password.
set -euo pipefail

log() { echo "services: $*" >&2; }

wait_for() { # name, command...
	local name=$1
	shift
	for _ in $(seq 1 60); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.5
	done
	log "$name did not answer within 30 s"
	return 1
}

# Install only what is missing, so a machine that has both pays nothing.
missing=()
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if ((${#missing[@]})); then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- PostgreSQL --------------------------------------------------------------

pg_version=$(ls /etc/postgresql | sort -V | tail -n 1)
hba=/etc/postgresql/$pg_version/main/pg_hba.conf

# pg_hba.conf is read top down and the first matching line wins, so our lines
# go in a marked block at the very top: the password line for heartbeat_pw
# must come before any trust line that would match it too. Debian's stock
# file (peer and scram-sha-256 for everyone) then only applies to what our
# block does not match.
begin='# heartbeat-ci begin'
end='# heartbeat-ci end'
block="$begin
host  all heartbeat_pw 127.0.0.1/32 scram-sha-256
local all all                       trust
host  all all          127.0.0.1/32 trust
host  all all          ::1/128      trust
$end"

hba_changed=false
current=$(sed -n "/^$begin\$/,/^$end\$/p" "$hba")
if [[ "$current" != "$block" ]]; then
	log "writing the heartbeat block at the top of $hba"
	rest=$(sed "/^$begin\$/,/^$end\$/d" "$hba")
	# Write through the existing file so its owner and mode stay postgres's.
	printf '%s\n%s\n' "$block" "$rest" >"$hba"
	hba_changed=true
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
	log "starting PostgreSQL $pg_version"
	pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start
	hba_changed=false # a fresh start reads the file anyway
fi

if $hba_changed; then
	# A signal, not SQL: the running server may still demand a password
	# that the postgres user of a fresh install does not have.
	pg_ctlcluster --skip-systemctl-redirect "$pg_version" main reload
fi

wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d postgres "$@"; }

if [[ "$(psql_admin -Atc "select 1 from pg_database where datname = 'test'")" != 1 ]]; then
	log "creating database test"
	psql_admin -c 'create database test'
fi

# --- Redis -------------------------------------------------------------------

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
	log "starting Redis"
	mkdir -p /var/lib/redis /var/log/redis
	redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
		--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping
