#!/usr/bin/env bash
# Runs every example client against a real fioguard daemon on a temporary socket and database.
# Used by `make test`. FIOGUARD_BIN: the folder holding the built fioguard and fioguard-client.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${FIOGUARD_BIN:-$here/../.build/debug}
tmp=$(mktemp -d /tmp/fg-examples-XXXXXX)
sock="$tmp/fg.sock"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

"$bin/fioguard" serve --socket "$sock" --database "$tmp/fioguard.sqlite" \
  --policy "$here/policy/demo-policy.json" --log-level warning 2>"$tmp/server.log" &
pid=$!
for _ in $(seq 1 300); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { echo "daemon did not start:"; cat "$tmp/server.log"; exit 1; }

passed=0
failed=0
run() {
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok: $name"; else failed=$((failed + 1)); echo "FAILED: $name"; fi
}
run "shell walkthrough" env FIOGUARD_CLIENT="$bin/fioguard-client" "$here/shell/walkthrough.sh" --socket "$sock"

kill -TERM "$pid"; wait "$pid"; status=$?; pid=""
[ $status -eq 0 ] || { echo "daemon exited with $status on SIGTERM"; failed=$((failed + 1)); }
[ ! -e "$sock" ] || { echo "socket left behind"; failed=$((failed + 1)); }
echo "examples: $passed passed, $failed failed"
[ $failed -eq 0 ]
