#!/usr/bin/env bash
# Deletes the Facial IDs whose retention period has ended (retention.sweep), for cron or a systemd
# timer. The daemon also sweeps on its own schedule (policy sweep.interval); this script lets a site
# run and monitor sweeps from its existing job scheduler, with an exit status alerting can act on.
#
#   examples/shell/retention-sweep.sh [--socket PATH] [--dry-run] [--limit N] [--json] [--quiet]
#
#   --socket PATH  the daemon's socket (default: $FIOGUARD_SOCKET, else fioguard-client's default)
#   --dry-run      report what is due, delete nothing
#   --limit N      examine at most N Facial IDs in this run (1..1000000)
#   --json         print the sweep result as JSON instead of the one-line summary
#   --quiet        print nothing when the sweep succeeds (cron mails only failures)
#
# Exit status: 0 the sweep ran; 1 the sweep failed (the daemon answered with an error, e.g. FORBIDDEN
# when this user is not an --admin-uid, or a bad --limit); 2 usage error; 3 the daemon is unreachable
# (no socket, connection refused, or no answer in time).
#
# Cron, hourly, as a user the daemon accepts as admin:
#   17 * * * *  /opt/fioguard/examples/shell/retention-sweep.sh --socket /run/fioguard/fioguard.sock --quiet
#
# FIOGUARD_CLIENT: the fioguard-client binary (default: fioguard-client on PATH).
set -uo pipefail

client=${FIOGUARD_CLIENT:-fioguard-client}
socket=${FIOGUARD_SOCKET:-}
dry_run=false
limit=""
json=false
quiet=false

usage() {  # usage [STATUS]: the help text, on stdout for --help, on stderr for a usage error
  if [ "${1:-2}" -eq 0 ]; then sed -n '6,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
  sed -n '6,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2
}
while [ $# -gt 0 ]; do
  case $1 in
    --socket) [ $# -ge 2 ] || usage; socket=$2; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    --limit) [ $# -ge 2 ] || usage; [[ $2 =~ ^[0-9]+$ ]] || { echo "retention-sweep: --limit needs a number" >&2; exit 2; }
             limit=$2; shift 2 ;;
    --json) json=true; shift ;;
    --quiet) quiet=true; shift ;;
    -h|--help) usage 0 ;;
    *) echo "retention-sweep: unknown argument $1" >&2; usage ;;
  esac
done
command -v "$client" >/dev/null 2>&1 || { echo "retention-sweep: $client not found (set FIOGUARD_CLIENT)" >&2; exit 2; }

params="{\"dryRun\":$dry_run${limit:+,\"limit\":$limit}}"
args=()
[ -n "$socket" ] && args=(--socket "$socket")

errfile=$(mktemp "${TMPDIR:-/tmp}/fg-sweep-XXXXXX")
trap 'rm -f "$errfile"' EXIT
result=$("$client" "${args[@]}" --timeout 120 retention.sweep "$params" 2>"$errfile")
rc=$?
case $rc in
  0) ;;
  1) reason=$(sed -n 's/.*"reason":"\([A-Z_]*\)".*/\1/p' "$errfile")
     echo "retention-sweep: the sweep failed (${reason:-error}): $(cat "$errfile")" >&2
     exit 1 ;;
  3|4) echo "retention-sweep: fioguard is unreachable: $(cat "$errfile")" >&2
     exit 3 ;;
  *) echo "retention-sweep: fioguard-client failed (exit $rc): $(cat "$errfile")" >&2
     exit 1 ;;
esac

number() { printf '%s' "$result" | sed -n "s/.*\"$1\":\([0-9][0-9]*\).*/\1/p"; }
swept_at=$(printf '%s' "$result" | sed -n 's/.*"sweptAt":"\([^"]*\)".*/\1/p')
examined=$(number examined)
queued=$(number deletionsQueued)
consents=$(number consentsExpired)
expired=$(printf '%s' "$result" | grep -o '"dueAt"' | wc -l)
if [ -z "$swept_at" ] || [ -z "$examined" ]; then
  echo "retention-sweep: unexpected answer: $result" >&2
  exit 1
fi

$quiet && exit 0
if $json; then
  printf '%s\n' "$result"
elif $dry_run; then
  echo "retention sweep (dry run) at $swept_at: examined $examined, due for deletion $expired"
else
  echo "retention sweep at $swept_at: examined $examined, expired $expired, deletions queued $queued, consents expired $consents"
fi
exit 0
