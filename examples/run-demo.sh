#!/usr/bin/env bash
# `make demo`: a fioguard daemon (demo policy, temporary socket and database) and the Flask demo app
# on http://localhost:${PORT:-5000}/. Ctrl-C stops both and removes the temporary files.
#
# fio.js: with FACEIO_PUBLIC_ID set, the page loads FACEIO's real fio.js (https://cdn.faceio.net/fio.js);
# without it, the local stand-in (no camera, no network). FIO_JS_URL overrides either.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${FIOGUARD_BIN:-$here/../.build/debug}
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$here/python/.venv/bin/python" ]; then PYTHON="$here/python/.venv/bin/python"; else PYTHON=python3; fi
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fg-demo-XXXXXX")
sock="$tmp/fg.sock"
pid=""
app=""
cleanup() {
  if [ -n "$app" ] && kill -0 "$app" 2>/dev/null; then kill -TERM "$app"; wait "$app" || true; fi
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$bin/fioguard" serve --socket "$sock" --database "$tmp/fioguard.sqlite" \
  --policy "$here/policy/demo-policy.json" --log-level warning &
pid=$!
for _ in $(seq 1 300); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { echo "fioguard did not start"; exit 1; }

if [ -z "${FIO_JS_URL:-}" ]; then
  if [ -n "${FACEIO_PUBLIC_ID:-}" ]; then FIO_JS_URL=https://cdn.faceio.net/fio.js; else FIO_JS_URL=/static/fio-standin.js; fi
fi
echo "fioguard on $sock; fio.js from $FIO_JS_URL"
echo "open http://localhost:${PORT:-5000}/  (Ctrl-C stops the demo)"
FIOGUARD_SOCKET="$sock" FIO_JS_URL="$FIO_JS_URL" "$PYTHON" "$here/python/demo/app.py" &
app=$!
wait "$app"
