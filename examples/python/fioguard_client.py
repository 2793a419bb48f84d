"""A small fioguard client for Python backends: standard library only (socket + json).

    from fioguard_client import FioguardClient, FioguardError

    fg = FioguardClient("/run/fioguard/fioguard.sock")
    fg.consent_record("user-42", ["authentication"], notice_version="2026-11",
                      collection_method="checkbox", domain="shop.example", country="DE", age=30)
    decision = fg.enroll_authorize("user-42", domain="shop.example", country="DE")
    if decision["allow"]:
        ...  # hand decision["fioOptions"] to fio.enroll() in the page
    try:
        fg.facial_id_delete("user-42")          # confirm defaults to False
    except FioguardError as e:
        assert e.reason == "CONFIRMATION_REQUIRED"

The protocol (see the project's API.md): JSON-RPC 2.0 over a Unix domain stream socket, one JSON
message per line. Each call opens its own connection, sends one request line and reads one answer
line: nothing is shared between threads or requests, so the client is safe to use from any web
worker. Connecting to a local socket costs microseconds.

Errors: every JSON-RPC error raises FioguardError with .code, .message, .data and .reason (the stable
UPPER_SNAKE string in error.data.reason, e.g. "POLICY_DENIED", "NOT_FOUND"). When the daemon cannot
be reached (no socket, refused, timed out) FioguardUnreachable is raised; its reason is "UNREACHABLE".
"""

from __future__ import annotations

import itertools
import json
import os
import socket
from typing import Any, Dict, Literal, Mapping, Optional, Sequence, TypedDict

__all__ = [
    "FioguardClient",
    "FioguardError",
    "FioguardUnreachable",
    "Guardian",
    "DEFAULT_SOCKET",
    "default_socket",
]

#: The daemon's default socket when it runs as root (see `default_socket`).
DEFAULT_SOCKET = "/run/fioguard/fioguard.sock"


def default_socket() -> str:
    """The socket `fioguard serve` uses without --socket, found the same way: $FIOGUARD_SOCKET,
    else DEFAULT_SOCKET for root, else $XDG_RUNTIME_DIR/fioguard/fioguard.sock, else
    /tmp/fioguard-UID/fioguard.sock."""
    env = os.environ.get("FIOGUARD_SOCKET")
    if env:
        return env
    if os.getuid() == 0:
        return DEFAULT_SOCKET
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return f"{xdg}/fioguard/fioguard.sock"
    return f"/tmp/fioguard-{os.getuid()}/fioguard.sock"

JSONObject = Dict[str, Any]


class Guardian(TypedDict, total=False):
    """The parent or guardian who consents for a minor (consent.record's `guardian`)."""

    relationship: str  # required, e.g. "parent", "legal_guardian"
    verificationMethod: str  # required, how the site verified them, e.g. "email_confirmation"
    reference: str  # optional: the site's own reference for that verification


class FioguardError(Exception):
    """A JSON-RPC error answered by fioguard (or, as FioguardUnreachable, no answer at all)."""

    def __init__(self, code: Optional[int], message: str, data: Any = None, method: str = ""):
        super().__init__(f"{method}: {message}" if method else message)
        self.code = code
        self.message = message
        self.data = data
        self.method = method

    @property
    def reason(self) -> str:
        """The stable reason, e.g. POLICY_DENIED, NOT_FOUND, CONFIRMATION_REQUIRED, INVALID_PARAMS."""
        if isinstance(self.data, dict) and isinstance(self.data.get("reason"), str):
            return self.data["reason"]
        return "UNKNOWN"

    @property
    def decision(self) -> Optional[JSONObject]:
        """For POLICY_DENIED: the decision with its reasons (which rule refused, and why)."""
        return self.data.get("decision") if isinstance(self.data, dict) else None

    def __repr__(self) -> str:
        return f"FioguardError(code={self.code!r}, reason={self.reason!r}, message={self.message!r})"


class FioguardUnreachable(FioguardError):
    """No answer from the daemon: socket missing, connection refused or lost, or timeout."""

    def __init__(self, message: str, method: str = ""):
        super().__init__(None, message, {"reason": "UNREACHABLE"}, method)


class FioguardClient:
    """Calls fioguard's methods. `socket_path` defaults to the daemon's own default (`default_socket`)."""

    def __init__(self, socket_path: Optional[str] = None, timeout: float = 10.0,
                 max_line_bytes: int = 16 * 1024 * 1024):
        self.socket_path = socket_path or default_socket()
        self.timeout = timeout
        self.max_line_bytes = max_line_bytes
        self._ids = itertools.count(1)

    # -- the generic call ---------------------------------------------------------------------

    def call(self, method: str, params: Optional[Mapping[str, Any]] = None) -> Any:
        """Sends one request and returns its result, or raises FioguardError."""
        request_id = next(self._ids)
        request: JSONObject = {"jsonrpc": "2.0", "method": method, "id": request_id}
        if params is not None:
            # Named params only; leave out the ones the caller did not give (None).
            request["params"] = {k: v for k, v in params.items() if v is not None}
        line = json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"

        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(self.socket_path)
                sock.sendall(line)
                answer = self._read_line(sock)
        except socket.timeout:
            raise FioguardUnreachable(f"no answer from {self.socket_path} within {self.timeout} s", method)
        except OSError as e:
            raise FioguardUnreachable(f"cannot talk to fioguard at {self.socket_path}: {e}", method)
        if answer is None:
            raise FioguardUnreachable(f"connection to {self.socket_path} closed without an answer", method)

        try:
            response = json.loads(answer)
        except ValueError as e:
            raise FioguardError(-32700, f"the daemon's answer is not JSON: {e}", None, method)
        if not isinstance(response, dict) or response.get("id") != request_id:
            raise FioguardError(-32603, "the daemon's answer does not match the request", None, method)
        error = response.get("error")
        if error is not None:
            raise FioguardError(error.get("code"), error.get("message", ""), error.get("data"), method)
        return response.get("result")

    def _read_line(self, sock: socket.socket) -> Optional[bytes]:
        buf = bytearray()
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            newline = chunk.find(b"\n")
            if newline >= 0:
                buf += chunk[:newline]
                return bytes(buf).rstrip(b"\r")
            buf += chunk
            if len(buf) > self.max_line_bytes:
                raise OSError("answer line too long")

    # -- consent --------------------------------------------------------------------------------

    def consent_record(self, subject: str, purposes: Sequence[str], *, notice_version: str,
                       collection_method: Literal["click", "checkbox", "signature"], domain: str,
                       country: str, region: Optional[str] = None, locale: Optional[str] = None,
                       age: Optional[int] = None, birth_date: Optional[str] = None,
                       guardian: Optional[Guardian] = None,
                       idempotency_key: Optional[str] = None) -> JSONObject:
        """Records consent given by an affirmative act. Returns consentId, recordedAt, expiresAt, receipt.
        Raises POLICY_DENIED (e.decision says why: e.g. GUARDIAN_CONSENT_REQUIRED for a minor)."""
        return self.call("consent.record", {
            "subject": subject, "purposes": list(purposes), "noticeVersion": notice_version,
            "collectionMethod": collection_method, "domain": domain, "country": country,
            "region": region, "locale": locale, "age": age, "birthDate": birth_date,
            "guardian": dict(guardian) if guardian else None, "idempotencyKey": idempotency_key,
        })

    def consent_revoke(self, subject: str, purposes: Optional[Sequence[str]] = None,
                       reason: Optional[str] = None) -> JSONObject:
        """Withdraws consent (all purposes by default); revoking authentication deletes the Facial IDs."""
        return self.call("consent.revoke", {
            "subject": subject, "purposes": list(purposes) if purposes is not None else None, "reason": reason})

    def consent_status(self, subject: str) -> JSONObject:
        """The subject's active consents and their history. NOT_FOUND for an unknown subject."""
        return self.call("consent.status", {"subject": subject})

    # -- enrollment -----------------------------------------------------------------------------

    def enroll_authorize(self, subject: str, *, domain: str, country: str, region: Optional[str] = None,
                         trigger: Literal["user_action", "automatic"] = "user_action") -> JSONObject:
        """A decision: allow, decisionId, reasons; when allowed also ticket, ticketExpiresAt and
        fioOptions (pass them to fio.enroll()). A denial is a result with allow == False, not an error."""
        return self.call("enroll.authorize", {
            "subject": subject, "domain": domain, "country": country, "region": region, "trigger": trigger})

    def enroll_complete(self, ticket: str, facial_id: str) -> JSONObject:
        """Binds the Facial ID fio.enroll() returned to the ticket's subject. TICKET_INVALID, CONFLICT."""
        return self.call("enroll.complete", {"ticket": ticket, "facialId": facial_id})

    # -- Facial IDs -----------------------------------------------------------------------------

    def facial_id_show(self, subject: str) -> JSONObject:
        """facialIds [{facialId, status, enrolledAt, lastAuthenticatedAt, retainUntil, deletion}],
        consent, rights. NOT_FOUND for an unknown (or erased) subject."""
        return self.call("facialId.show", {"subject": subject})

    def facial_id_delete(self, subject: str, facial_id: Optional[str] = None, *, confirm: bool = False,
                         reason: Optional[str] = None) -> JSONObject:
        """Deletes one Facial ID, or all of the subject's. Needs confirm=True (after the user confirmed),
        else CONFIRMATION_REQUIRED. Idempotent. Returns deletions [{facialId, status}]."""
        return self.call("facialId.delete", {
            "subject": subject, "facialId": facial_id, "confirm": confirm, "reason": reason})

    def facial_id_touch(self, subject: Optional[str] = None, facial_id: Optional[str] = None) -> JSONObject:
        """Records a successful face login (the last interaction that retention counts from)."""
        return self.call("facialId.touch", {"subject": subject, "facialId": facial_id})

    def subject_erase(self, subject: str, *, confirm: bool = False) -> JSONObject:
        """Account deletion: revokes everything and deletes every Facial ID now. Needs confirm=True."""
        return self.call("subject.erase", {"subject": subject, "confirm": confirm})

    # -- operations -----------------------------------------------------------------------------

    def retention_sweep(self, dry_run: Optional[bool] = None, limit: Optional[int] = None) -> JSONObject:
        """Deletes what retention says is due (dry_run: only report). sweptAt, examined, expired, ..."""
        return self.call("retention.sweep", {"dryRun": dry_run, "limit": limit})

    def audit_verify(self) -> JSONObject:
        return self.call("audit.verify")

    def audit_query(self, subject: Optional[str] = None, since: Optional[str] = None,
                    limit: Optional[int] = None) -> JSONObject:
        return self.call("audit.query", {"subject": subject, "since": since, "limit": limit})

    def policy_disclosure(self, country: Optional[str] = None, region: Optional[str] = None,
                          locale: Optional[str] = None) -> JSONObject:
        """What the site must tell users: purposes, retention schedule, minors, rights, howToRevoke, ..."""
        return self.call("policy.disclosure", {"country": country, "region": region, "locale": locale})

    def policy_reload(self) -> JSONObject:
        return self.call("policy.reload")

    def webhook_ingest(self, headers: Mapping[str, str], body: str) -> JSONObject:
        """Hands a FACEIO webhook (its headers and raw body) to fioguard."""
        return self.call("webhook.ingest", {"headers": dict(headers), "body": body})

    def system_health(self) -> JSONObject:
        return self.call("system.health")

    def rpc_discover(self) -> JSONObject:
        return self.call("rpc.discover")
