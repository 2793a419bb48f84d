#!/usr/bin/env bash
# Tests retention-sweep.sh against daemons of its own (a 2-second retention policy): success, dry run,
# the exit status for a sweep error (1), a usage error (2) and an unreachable daemon (3).
#
#   examples/shell/test-retention-sweep.sh        # FIOGUARD_BIN: folder with fioguard and fioguard-client
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${FIOGUARD_BIN:-$here/../../.build/debug}
export FIOGUARD_CLIENT="$bin/fioguard-client"
unset FIOGUARD_SOCKET
sweep="$here/retention-sweep.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fg-sweeptest-XXXXXX")
sock="$tmp/fg.sock"
pid=""
stop_daemon() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" 2>/dev/null; fi
  pid=""
}
trap 'stop_daemon; rm -rf "$tmp"' EXIT

start_daemon() {  # extra serve arguments
  "$bin/fioguard" serve --socket "$sock" --database "$tmp/db.sqlite" \
    --policy "$here/../policy/short-retention-policy.json" --log-level warning "$@" 2>>"$tmp/server.log" &
  pid=$!
  for _ in $(seq 1 300); do [ -S "$sock" ] && return 0; sleep 0.1; done
  echo "daemon did not start:"; cat "$tmp/server.log"; exit 1
}

passed=0
failed=0
expect() {  # NAME EXPECTED-STATUS COMMAND... ; the command's stdout+stderr land in $out
  local name=$1 want=$2; shift 2
  out=$("$@" 2>&1)
  local got=$?
  if [ "$got" -eq "$want" ]; then passed=$((passed + 1)); echo "ok - $name"
  else failed=$((failed + 1)); echo "not ok - $name: exit $got, wanted $want: $out"; fi
}
contains() {  # NAME TEXT: $out contains TEXT
  if printf '%s' "$out" | grep -qF -- "$2"; then passed=$((passed + 1)); echo "ok - $1"
  else failed=$((failed + 1)); echo "not ok - $1: no '$2' in: $out"; fi
}
call() { "$FIOGUARD_CLIENT" --socket "$sock" "$@"; }

expect "unreachable daemon exits 3" 3 "$sweep" --socket "$tmp/nothing-here.sock"
contains "unreachable daemon is named" "fioguard is unreachable"
expect "unknown argument exits 2" 2 "$sweep" --frobnicate
expect "a non-numeric limit exits 2" 2 "$sweep" --limit many

start_daemon
expect "nothing due: exit 0" 0 "$sweep" --socket "$sock"
contains "summary line" "examined 0, expired 0, deletions queued 0"

subject="sweep-$$-$RANDOM"
call consent.record "{\"subject\":\"$subject\",\"purposes\":[\"authentication\"],\"noticeVersion\":\"t\",\"collectionMethod\":\"checkbox\",\"domain\":\"shop.example\",\"country\":\"DE\",\"age\":40}" >/dev/null
ticket=$(call enroll.authorize "{\"subject\":\"$subject\",\"domain\":\"shop.example\",\"country\":\"DE\",\"trigger\":\"user_action\"}" \
  | sed -n 's/.*"ticket":"\([^"]*\)".*/\1/p')
call enroll.complete "{\"ticket\":\"$ticket\",\"facialId\":\"fid-$subject\"}" >/dev/null
sleep 3  # past the 2-second retention

expect "dry run: exit 0" 0 "$sweep" --socket "$sock" --dry-run
contains "dry run reports the due Facial ID" "due for deletion 1"
out=$(call facialId.show "{\"subject\":\"$subject\"}")
contains "dry run deletes nothing" '"status":"active"'

expect "a sweep error (limit 0) exits 1" 1 "$sweep" --socket "$sock" --limit 0
contains "the error reason is shown" "INVALID_PARAMS"

FIOGUARD_SOCKET="$sock" expect "sweep via FIOGUARD_SOCKET: exit 0" 0 "$sweep" --json
contains "--json prints the result" '"deletionsQueued":1'
out=$(call facialId.show "{\"subject\":\"$subject\"}")
contains "the expired Facial ID is being deleted" '"status":"deleting"'

expect "--quiet prints nothing on success" 0 "$sweep" --socket "$sock" --quiet
[ -z "$out" ] && { passed=$((passed + 1)); echo "ok - quiet output is empty"; } \
  || { failed=$((failed + 1)); echo "not ok - quiet printed: $out"; }

stop_daemon
start_daemon --admin-uid 4242  # sweeps are an admin method; this user is not uid 4242
expect "a refused sweep (FORBIDDEN) exits 1" 1 "$sweep" --socket "$sock"
contains "FORBIDDEN is named" "FORBIDDEN"
stop_daemon

echo "retention-sweep: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
