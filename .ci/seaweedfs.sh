#!/usr/bin/env bash
# Builds SeaweedFS's `weed` binary once, into a cache outside the repository,
# for the S3 receiver's tests (receivers/s3), which start their own server on
# free loopback ports. When the binary is already there it returns at once.
#
# The binary goes to ${HEARTBEAT_WEED:-${HEARTBEAT_CACHE:-$HOME/.cache/heartbeat}/weed};
# the tests look in the same place. The build takes several minutes on a busy
# two-core machine.
set -euo pipefail

log() { echo "seaweedfs: $*" >&2; }

# The version is pinned so every machine tests against the same server.
module=github.com/seaweedfs/seaweedfs
version=v0.0.0-20261109003541-7506e5f91cd6

cache=${HEARTBEAT_CACHE:-$HOME/.cache/heartbeat}
weed=${HEARTBEAT_WEED:-$cache/weed}

if [[ -x "$weed" ]]; then
	exit 0
fi

export PATH="$PATH:/usr/local/go/bin"
export GOWORK=off GOFLAGS=-mod=mod

mkdir -p "$(dirname "$weed")"
log "downloading $module@$version"
dir=$(cd "$(dirname "$weed")" && go mod download -json "$module@$version" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
if [[ -z "$dir" || ! -d "$dir" ]]; then
	log "go mod download gave no source directory"
	exit 1
fi

# The module cache is read-only and the build writes go.sum entries, so it
# builds in a private copy that is removed afterwards.
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -R "$dir/." "$work/src"
chmod -R u+w "$work/src"

log "building weed into $weed (several minutes)"
start=$SECONDS
(cd "$work/src" && go build -trimpath -o "$weed.tmp" ./weed)
mv "$weed.tmp" "$weed"
log "built in $((SECONDS - start)) s"
