#!/usr/bin/env bash
# Instructions per call of `fioguard serve`, counted by callgrind. Unlike throughput, which swings
# by half on a shared VM, the count repeats within 1–2% from run to run (4% for ping), so it shows
# whether a change made a call cheaper.
#
#   Benchmarks/callgrind.sh [ping|show|record ...] [--calls N]     (default: all three, 2000 calls)
#
# Each workload gets a fresh daemon under callgrind on a temporary socket and database. `show`
# first enrolls 50 subjects (consent.record, enroll.authorize, enroll.complete). After 200 warm-up
# calls the counters are zeroed; N calls follow (one connection, 8 in flight), then a dump. The
# count covers every thread of the daemon, user space only (the kernel's share is not counted).
# The profiles stay in the printed folder for `callgrind_annotate`.
set -euo pipefail

calls=2000
workloads=()
while [ $# -gt 0 ]; do
    case "$1" in
        --calls) calls="${2:-}"; shift $(( $# > 1 ? 2 : 1 )) ;;
        ping|show|record) workloads+=("$1"); shift ;;
        *) echo "usage: $0 [ping|show|record ...] [--calls N]" >&2; exit 64 ;;
    esac
done
[[ "$calls" =~ ^[1-9][0-9]*$ ]] || { echo "$0: --calls needs a positive number" >&2; exit 64; }
[ ${#workloads[@]} -gt 0 ] || workloads=(ping show record)
swift="${SWIFT:-swift}"
scratch="${BUILD_DIR:-.build}"
for tool in valgrind callgrind_control objcopy python3 "$swift"; do
    command -v "$tool" >/dev/null || { echo "$0: needs $tool (apt-get install valgrind binutils python3)" >&2; exit 69; }
done

cd "$(dirname "$0")/.."
"$swift" build -c release --scratch-path "$scratch" --product fioguard >&2
bin="$("$swift" build -c release --scratch-path "$scratch" --show-bin-path)/fioguard"
work="$(mktemp -d /tmp/fg-callgrind-XXXXXX)"
# Valgrind 3.19 cannot read the DWARF 5 debug information of Swift 6 binaries: profile a copy
# without it (the symbol table stays, so functions keep their names).
objcopy --strip-debug "$bin" "$work/fioguard"
cat >"$work/policy.json" <<'JSON'
{"version":1,"purposes":["authentication"],"domains":["shop.example"],
 "consent":{"maxAgeBeforeEnrollment":"P1D"},"enrollment":{"ticketTTL":"PT10M"},
 "retention":{"maxSinceEnrollment":"P3Y","maxSinceLastInteraction":"P3Y"},"sweep":{"interval":"P1D"}}
JSON

# drive SOCKET PHASE WORKLOAD N: seed (show only), warm up, or measure; exits 1 on any error answer.
drive() {
    python3 - "$@" <<'PY'
import json, socket, sys, uuid
path, phase, workload, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = socket.socket(socket.AF_UNIX)
s.connect(path)
f = s.makefile("rb")

def call(method, params):
    s.sendall((json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}) + "\n").encode())
    answer = json.loads(f.readline())
    if "error" in answer:
        sys.exit(f"{method}: {answer['error']}")
    return answer["result"]

def consent(subject):
    return {"subject": subject, "purposes": ["authentication"], "noticeVersion": "2026-11",
            "collectionMethod": "checkbox", "domain": "shop.example", "country": "DE", "age": 30}

if phase == "seed":
    for i in range(50):
        subject = f"cg-{i}"
        call("consent.record", consent(subject))
        ticket = call("enroll.authorize", {"subject": subject, "domain": "shop.example", "country": "DE",
                                           "trigger": "user_action"})["ticket"]
        call("enroll.complete", {"ticket": ticket, "facialId": f"fid-{subject}"})
    sys.exit(0)

def line(i):
    if workload == "ping":
        method, params = "system.ping", {}
    elif workload == "show":
        method, params = "facialId.show", {"subject": f"cg-{i % 50}"}
    else:
        method, params = "consent.record", consent(f"cg-{phase}-{uuid.uuid4().hex}")
    return (json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}) + "\n").encode()

sent = received = errors = 0
while received < n:
    while sent < n and sent - received < 8:
        s.sendall(line(sent))
        sent += 1
    if b'"error"' in f.readline():
        errors += 1
    received += 1
if errors:
    sys.exit(f"{workload}: {errors} of {n} calls answered with an error")
PY
}

for workload in "${workloads[@]}"; do
    dir="$work/$workload"
    mkdir "$dir"
    FIOGUARD_EXIT_WITH_PARENT=1 valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" \
        "$work/fioguard" serve --socket "$dir/s.sock" --database "$dir/db.sqlite" \
        --policy "$work/policy.json" --log-level warning >"$dir/valgrind.log" 2>&1 &
    daemon=$!
    for _ in $(seq 1 600); do [ -S "$dir/s.sock" ] && break; sleep 0.1; done
    [ -S "$dir/s.sock" ] || { echo "$workload: the daemon did not start (see $dir/valgrind.log)" >&2; exit 1; }
    [ "$workload" = show ] && drive "$dir/s.sock" seed show 0
    drive "$dir/s.sock" warm "$workload" 200
    out=$(callgrind_control --zero "$daemon" 2>&1) || { echo "$workload: $out" >&2; exit 1; }
    drive "$dir/s.sock" measure "$workload" "$calls"
    out=$(callgrind_control --dump "$daemon" 2>&1) || { echo "$workload: $out" >&2; exit 1; }
    kill -TERM "$daemon"
    wait "$daemon" || true
    # The dump after zeroing is callgrind.out.1; callgrind.out is what followed it (shutdown).
    total=$(awk '/^(summary|totals):/ { print $2; exit }' "$dir/callgrind.out.1" 2>/dev/null || true)
    [ -n "$total" ] || { echo "$workload: callgrind wrote no profile after zeroing (see $dir)" >&2; exit 1; }
    printf '%-7s %9d instructions/call   (%d calls; profile %s)\n' \
        "$workload" $((total / calls)) "$calls" "$dir/callgrind.out.1"
done
