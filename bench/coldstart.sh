#!/usr/bin/env bash
# Seconds from `go run ./examples/quickstart` to its first 200 on readiness,
# as on a fresh machine: empty module and build caches, downloads included.
# Run from anywhere in the repository; needs 127.0.0.1:8080 and :8081 free.
#
#   bash bench/coldstart.sh
set -euo pipefail
cd "$(dirname "$0")/.."
GOMODCACHE="$(mktemp -d)" GOCACHE="$(mktemp -d)"
export GOMODCACHE GOCACHE
url=http://127.0.0.1:8080/.well-known/heartbeat/readiness
log=$(mktemp)

start=$(date +%s%N)
setsid go run ./examples/quickstart >"$log" 2>&1 & # a process group of its own, to stop it below
pid=$!
until curl -fsS -o /dev/null "$url" 2>/dev/null; do
  kill -0 "$pid" 2>/dev/null || { cat "$log"; exit 1; } # the build or the server failed
  sleep 0.5
done
end=$(date +%s%N)
ms=$(((end - start) / 1000000))
printf 'first 200 after %d.%01d s (%s CPUs, load%s)\n' $((ms / 1000)) $((ms % 1000 / 100)) "$(nproc)" "$(uptime | sed 's/.*load average://')"

kill -INT -- "-$pid"                                  # Ctrl-C: the server drains
sleep 1; kill -INT -- "-$pid" 2>/dev/null || true     # a second Ctrl-C stops it at once
wait "$pid" || true
go clean -modcache # the module cache is read-only; this empties it
rm -rf "$GOMODCACHE" "$GOCACHE" "$log"
