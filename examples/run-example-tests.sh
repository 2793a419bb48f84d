#!/usr/bin/env bash
# Runs every example client against a real fioguard daemon on a temporary socket and database.
# Used by `make test`. FIOGUARD_BIN: the folder holding the built fioguard and fioguard-client.
# PYTHON: the interpreter with examples/python/requirements-test.txt installed (default: the venv
# `make deps` creates in examples/python/.venv, else python3). Screenshots go to artifacts/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
bin=${FIOGUARD_BIN:-$here/../.build/debug}
bin=$(cd "$bin" && pwd)
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$here/python/.venv/bin/python" ]; then PYTHON="$here/python/.venv/bin/python"; else PYTHON=python3; fi
fi
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
# Each suite is bounded in time; all but the sweep test share this daemon through FIOGUARD_SOCKET.
bounded() { timeout --kill-after=10 "${FIOGUARD_EXAMPLE_TIMEOUT:-300}" "$@"; }
with_env=(env FIOGUARD_SOCKET="$sock" FIOGUARD_BIN="$bin" FIOGUARD_CLIENT="$bin/fioguard-client")
pyunit() {  # pyunit FILE-PATTERN [VAR=VALUE...]
  bounded "${with_env[@]}" "${@:2}" "$PYTHON" -m unittest discover -s "$here/python/tests" -p "$1"
}

run "shell walkthrough" env FIOGUARD_CLIENT="$bin/fioguard-client" "$here/shell/walkthrough.sh" --socket "$sock"
run "python client" pyunit test_client.py
run "python demo app" pyunit test_app.py
run "python demo in headless chromium" pyunit test_browser.py FIOGUARD_REQUIRE_BROWSER=1 FIOGUARD_ARTIFACTS="$root/artifacts"
run "node client" bounded "${with_env[@]}" node --test "$here/node/"
run "php client" bounded "${with_env[@]}" php "$here/php/test.php"
run "retention sweep script" bounded env FIOGUARD_BIN="$bin" "$here/shell/test-retention-sweep.sh"

kill -TERM "$pid"; wait "$pid"; status=$?; pid=""
[ $status -eq 0 ] || { echo "daemon exited with $status on SIGTERM"; failed=$((failed + 1)); }
[ ! -e "$sock" ] || { echo "socket left behind"; failed=$((failed + 1)); }
echo "examples: $passed passed, $failed failed"
[ $failed -eq 0 ]
