#!/usr/bin/env bash
# A whole consent-to-deletion flow through fioguard-client, as a site's backend would drive it:
# consent on a click → authorize enrollment → complete with FACEIO's Facial ID → show → touch
# (face login) → delete after confirmation → erase the account → verify the audit chain.
#
#   examples/shell/walkthrough.sh [--socket PATH]      # against a running daemon
#   FIOGUARD_CLIENT=path/to/fioguard-client examples/shell/walkthrough.sh
#
# The daemon must run with a policy that allows the domain used here (examples/policy/demo-policy.json).
# Exits non-zero, naming the step, at the first step that does not behave as documented.
set -euo pipefail

client=${FIOGUARD_CLIENT:-fioguard-client}
sock_args=()
if [ "${1:-}" = "--socket" ]; then sock_args=(--socket "$2"); fi
subject="shell-user-$$-$RANDOM"
facial_id="fid$(date +%s)$RANDOM"

step() { printf '== %s\n' "$*"; }
die() { printf 'walkthrough FAILED at: %s\n' "$*" >&2; exit 1; }
call() { "$client" "${sock_args[@]}" "$@"; }
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }

step "health"
call system.health >/dev/null || die "system.health (is the daemon running?)"

step "record consent after the user ticked the box"
call consent.record "{\"subject\":\"$subject\",\"purposes\":[\"authentication\"],\"noticeVersion\":\"2026-11\",\"collectionMethod\":\"checkbox\",\"domain\":\"shop.example\",\"country\":\"DE\",\"age\":30,\"locale\":\"de-DE\"}" \
  | grep -q '"consentId"' || die "consent.record"

step "an automatic enrollment is refused"
call enroll.authorize "{\"subject\":\"$subject\",\"domain\":\"shop.example\",\"country\":\"DE\",\"trigger\":\"automatic\"}" \
  | grep -q '"allow":false' || die "enroll.authorize must deny trigger=automatic"

step "authorize enrollment on the user's click"
auth=$(call enroll.authorize "{\"subject\":\"$subject\",\"domain\":\"shop.example\",\"country\":\"DE\",\"trigger\":\"user_action\"}") || die "enroll.authorize"
echo "$auth" | grep -q '"allow":true' || die "enroll.authorize did not allow: $auth"
ticket=$(echo "$auth" | field ticket)
[ -n "$ticket" ] || die "no ticket in $auth"

step "complete with the Facial ID fio.enroll() returned"
call enroll.complete "{\"ticket\":\"$ticket\",\"facialId\":\"$facial_id\"}" | grep -q "\"retainUntil\"" || die "enroll.complete"

step "the ticket cannot be used twice"
set +e
call enroll.complete "{\"ticket\":\"$ticket\",\"facialId\":\"${facial_id}x\"}" 2>/tmp/fg-walk-$$.err >/dev/null
rc=$?
set -e
[ $rc -eq 1 ] && grep -q TICKET_INVALID /tmp/fg-walk-$$.err || die "reused ticket was not refused (exit $rc)"

step "the user sees their Facial ID"
call facialId.show "{\"subject\":\"$subject\"}" | grep -q "\"$facial_id\"" || die "facialId.show"

step "a face login counts as the last interaction"
call facialId.touch "{\"subject\":\"$subject\"}" | grep -q '"lastAuthenticatedAt"' || die "facialId.touch"

step "deleting without confirmation is refused"
set +e
call facialId.delete "{\"subject\":\"$subject\"}" 2>/tmp/fg-walk-$$.err >/dev/null
rc=$?
set -e
[ $rc -eq 1 ] && grep -q CONFIRMATION_REQUIRED /tmp/fg-walk-$$.err || die "delete without confirm (exit $rc)"

step "delete the face data after confirmation"
call facialId.delete "{\"subject\":\"$subject\",\"confirm\":true}" | grep -q '"deletions"' || die "facialId.delete"
call facialId.show "{\"subject\":\"$subject\"}" | grep -q '"status":"deleting"\|"status":"deleted"' || die "Facial ID not marked for deletion"

step "delete the account"
call subject.erase "{\"subject\":\"$subject\",\"confirm\":true}" | grep -q '"erasedAt"' || die "subject.erase"
set +e
call facialId.show "{\"subject\":\"$subject\"}" 2>/tmp/fg-walk-$$.err >/dev/null
rc=$?
set -e
[ $rc -eq 1 ] && grep -q NOT_FOUND /tmp/fg-walk-$$.err || die "erased subject still visible (exit $rc)"

step "the audit chain verifies"
call audit.verify | grep -q '"ok":true' || die "audit.verify"

rm -f /tmp/fg-walk-$$.err
echo "walkthrough passed"
