#!/usr/bin/env bash
# Prints the configuration, roles and client-visible state of the shared
# servers the tests use, one sorted line per fact, so that two snapshots
# taken around the test command can be compared with diff: the tests may
# read from these servers, never change them. Counters (commands served,
# connections accepted) are left out; they change by reading. Secrets are
# printed as hashes only.
#
#   bash .ci/snapshot.sh > before; go test ...; bash .ci/snapshot.sh | diff before -
#
# A server that does not answer is printed as such, so a server that the
# tests stopped shows up as a difference too.
set -uo pipefail

pg_url=${HEARTBEAT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
redis_url=${HEARTBEAT_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}

section() { printf '\n# %s\n' "$*"; }

sha() { sha256sum | cut -c1-16; }

# --- PostgreSQL ----------------------------------------------------------------

# The psql binary itself: Debian's /usr/bin/psql is a Perl wrapper that
# costs a second per call on a busy machine.
psql=$(ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)
psql=${psql:-psql}
# pg runs every query given in one session; each query's rows start with a
# word naming what they are, so the whole output is sorted at once.
pg() {
	local args=()
	for q in "$@"; do args+=(-c "$q"); done
	PGCONNECT_TIMEOUT=5 "$psql" -X -q -At -F ' ' -w -v ON_ERROR_STOP=1 "$pg_url" "${args[@]}" 2>&1 | LC_ALL=C sort
}

section "PostgreSQL $(printf '%s' "$pg_url" | sed 's|://[^@/]*@|://|')"
state=$(pg "select 'hba_file', current_setting('hba_file')" \
	"select 'role', rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,
		rolreplication, rolbypassrls, rolconnlimit, coalesce(rolvaliduntil::text, '-'),
		coalesce(left(md5(rolpassword), 16), 'no-password') from pg_authid" \
	"select 'member', r.rolname, m.rolname from pg_auth_members a
		join pg_roles r on r.oid = a.roleid join pg_roles m on m.oid = a.member" \
	"select 'database', datname, pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datallowconn,
		datconnlimit, coalesce(array_to_string(datacl, ','), '-') from pg_database" \
	"select 'db-role-setting', coalesce(d.datname, '*'), coalesce(r.rolname, '*'), array_to_string(setconfig, ',')
		from pg_db_role_setting s left join pg_database d on d.oid = s.setdatabase
		left join pg_roles r on r.oid = s.setrole" \
	"select 'schema', nspname, pg_get_userbyid(nspowner) from pg_namespace
		where nspname not like 'pg\_%' and nspname <> 'information_schema'" \
	"select 'table', schemaname, tablename, tableowner from pg_tables
		where schemaname not in ('pg_catalog', 'information_schema')" \
	"select 'extension', extname, extversion from pg_extension" \
	"select 'replication-slot', slot_name, slot_type from pg_replication_slots" \
	"select 'prepared-xact', gid from pg_prepared_xacts" \
	"select 'setting', name, setting, source from pg_settings
		where source not in ('default', 'override', 'client', 'session')" \
	"select 'hba-rule', line_number, type, array_to_string(database, ','), array_to_string(user_name, ','),
		coalesce(address, '-'), coalesce(netmask, '-'), auth_method, coalesce(error, '-')
		from pg_hba_file_rules")
hba=$(sed -n 's/^hba_file //p' <<<"$state")
if [[ -z "$hba" ]]; then
	echo "unreachable or refused: $(head -n 3 <<<"$state")"
else
	grep -v '^hba_file ' <<<"$state"
	if [[ -r "$hba" ]]; then
		echo "hba-file $hba sha256 $(sha <"$hba")"
	else
		echo "hba-file $hba not readable here"
	fi
fi

# --- Redis ---------------------------------------------------------------------

rc() { timeout 5 redis-cli -u "$redis_url" "$@" 2>&1; }

section "Redis $(printf '%s' "$redis_url" | sed 's|://[^@/]*@|://|')"
# A paused server (CLIENT PAUSE) does not answer within the timeout.
ping=$(rc ping)
echo "ping ${ping:-no answer}"
if [[ "$ping" == PONG ]]; then
	section "Redis CONFIG GET *"
	# Pairs of lines, key then value; values of password keys are hashed.
	rc config get '*' | paste - - -d ' ' | while read -r key value; do
		case "$key" in
		requirepass | masterauth | *pass*) value="sha256:$(printf '%s' "$value" | sha)" ;;
		esac
		echo "config $key $value"
	done | LC_ALL=C sort
	section "Redis ACL LIST"
	rc acl list | LC_ALL=C sort
	section "Redis state"
	# Fields that are configuration or state, not counters.
	rc info | tr -d '\r' | grep -E '^(redis_version|redis_mode|tcp_port|executable|config_file|role|connected_slaves|master_host|master_port|aof_enabled|loading|blocked_clients|tracking_clients):'
	rc info keyspace | tr -d '\r' | grep -E '^db[0-9]+:' | sed 's/,expires=.*//'
	rc function list | LC_ALL=C sort
	rc module list | LC_ALL=C sort
fi

# --- MariaDB -------------------------------------------------------------------

section "MariaDB 127.0.0.1:3306"
my() { timeout 10 mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -u root -N -B -e "$1" 2>&1 | LC_ALL=C sort; }
if ! my 'select 1' >/dev/null || [[ "$(my 'select 1')" != 1 ]]; then
	echo "unreachable"
else
	# global_priv holds each account's plugin, password hash, lock and
	# global privileges as one JSON value.
	my "select 'user', User, Host, left(sha2(Priv, 256), 16) from mysql.global_priv"
	my "select 'db-grant', Db, User, Host from mysql.db"
	my "select 'database', schema_name from information_schema.schemata"
	my "select 'table', table_schema, table_name from information_schema.tables
		where table_schema not in ('mysql', 'information_schema', 'performance_schema', 'sys')"
fi

# --- RabbitMQ ------------------------------------------------------------------

section "RabbitMQ (rabbitmqctl)"
rq() { timeout 30 rabbitmqctl -q "$@" 2>&1 | LC_ALL=C sort; }
if ! command -v rabbitmqctl >/dev/null 2>&1; then
	echo "no rabbitmqctl here"
elif ! users=$(timeout 30 rabbitmqctl -q list_users 2>&1); then
	echo "unreachable"
else
	# rabbitmqctl starts an Erlang VM per call, seconds each on a busy
	# machine: the calls run side by side.
	tmp=$(mktemp -d)
	rq list_vhosts >"$tmp/vhosts" &
	rq list_permissions -p / >"$tmp/permissions" &
	rq list_queues -p / name durable auto_delete >"$tmp/queues" &
	wait
	printf '%s\n' "$users" | LC_ALL=C sort
	cat "$tmp/vhosts" "$tmp/permissions" "$tmp/queues"
	rm -rf "$tmp"
fi
