// A small fioguard client for Node backends: only Node's `net` module, no dependencies.
//
//   import { FioguardClient, FioguardError } from "./fioguard-client.mjs";
//
//   const fg = new FioguardClient({ socketPath: "/run/fioguard/fioguard.sock" });
//   await fg.consentRecord({ subject: "user-42", purposes: ["authentication"], noticeVersion: "2026-11",
//                            collectionMethod: "checkbox", domain: "shop.example", country: "DE", age: 30 });
//   const decision = await fg.enrollAuthorize({ subject: "user-42", domain: "shop.example", country: "DE" });
//   if (decision.allow) { /* send decision.fioOptions to the page, which passes them to fio.enroll() */ }
//   try { await fg.facialIdDelete({ subject: "user-42" }); }            // confirm defaults to false
//   catch (e) { if (e instanceof FioguardError && e.reason === "CONFIRMATION_REQUIRED") { ... } }
//
// Protocol (API.md): JSON-RPC 2.0 over a Unix domain stream socket, one JSON message per line. Each
// call opens its own connection, sends one line and reads one line, so calls never interfere.
// Every JSON-RPC error rejects with FioguardError {code, message, data, reason}; a daemon that cannot
// be reached (no socket, refused, timeout) rejects with FioguardUnreachable (reason "UNREACHABLE").

import net from "node:net";

/** The daemon's default socket when it runs as root (see defaultSocket). */
export const DEFAULT_SOCKET = "/run/fioguard/fioguard.sock";

/**
 * The socket `fioguard serve` uses without --socket, found the same way: $FIOGUARD_SOCKET, else
 * DEFAULT_SOCKET for root, else $XDG_RUNTIME_DIR/fioguard/fioguard.sock, else
 * /tmp/fioguard-UID/fioguard.sock.
 */
export function defaultSocket(env = process.env) {
  if (env.FIOGUARD_SOCKET) return env.FIOGUARD_SOCKET;
  const uid = process.getuid();
  if (uid === 0) return DEFAULT_SOCKET;
  if (env.XDG_RUNTIME_DIR) return `${env.XDG_RUNTIME_DIR}/fioguard/fioguard.sock`;
  return `/tmp/fioguard-${uid}/fioguard.sock`;
}

export class FioguardError extends Error {
  constructor(code, message, data = null, method = "") {
    super(method ? `${method}: ${message}` : message);
    this.name = "FioguardError";
    this.code = code;
    this.rpcMessage = message;
    this.data = data;
    this.method = method;
  }

  /** The stable reason: POLICY_DENIED, NOT_FOUND, CONFIRMATION_REQUIRED, INVALID_PARAMS, ... */
  get reason() {
    return this.data && typeof this.data.reason === "string" ? this.data.reason : "UNKNOWN";
  }

  /** For POLICY_DENIED: the decision with its reasons (which rule refused, and why). */
  get decision() {
    return this.data && this.data.decision ? this.data.decision : null;
  }
}

export class FioguardUnreachable extends FioguardError {
  constructor(message, method = "") {
    super(null, message, { reason: "UNREACHABLE" }, method);
    this.name = "FioguardUnreachable";
  }
}

/** Drops the params the caller left out (undefined or null), as the daemon wants named params only. */
function compact(params) {
  const out = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

export class FioguardClient {
  /** socketPath defaults to the daemon's own default (defaultSocket()); timeoutMs per call. */
  constructor({ socketPath, timeoutMs = 10_000, maxLineBytes = 16 * 1024 * 1024 } = {}) {
    this.socketPath = socketPath || defaultSocket();
    this.timeoutMs = timeoutMs;
    this.maxLineBytes = maxLineBytes;
    this.nextId = 1;
  }

  /** Sends one request; resolves with its result or rejects with FioguardError. */
  call(method, params) {
    const id = this.nextId++;
    const request = { jsonrpc: "2.0", method, id };
    if (params !== undefined) request.params = compact(params);
    const line = JSON.stringify(request) + "\n";

    return new Promise((resolve, reject) => {
      const chunks = [];
      let size = 0;
      let settled = false;
      const socket = net.createConnection({ path: this.socketPath });
      const finish = (fn, value) => {
        if (settled) return;
        settled = true;
        socket.destroy();
        fn(value);
      };
      socket.setTimeout(this.timeoutMs, () =>
        finish(reject, new FioguardUnreachable(`no answer from ${this.socketPath} within ${this.timeoutMs} ms`, method)));
      socket.on("connect", () => socket.write(line));
      socket.on("error", (e) =>
        finish(reject, new FioguardUnreachable(`cannot talk to fioguard at ${this.socketPath}: ${e.message}`, method)));
      socket.on("end", () =>
        finish(reject, new FioguardUnreachable(`connection to ${this.socketPath} closed without an answer`, method)));
      socket.on("data", (chunk) => {
        const newline = chunk.indexOf(0x0a);
        chunks.push(newline >= 0 ? chunk.subarray(0, newline) : chunk);
        size += chunk.length;
        if (newline < 0) {
          if (size > this.maxLineBytes) finish(reject, new FioguardUnreachable("answer line too long", method));
          return;
        }
        let response;
        try {
          response = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch (e) {
          return finish(reject, new FioguardError(-32700, `the daemon's answer is not JSON: ${e.message}`, null, method));
        }
        if (response === null || typeof response !== "object" || response.id !== id) {
          return finish(reject, new FioguardError(-32603, "the daemon's answer does not match the request", null, method));
        }
        if (response.error) {
          const { code, message, data } = response.error;
          return finish(reject, new FioguardError(code, message ?? "", data ?? null, method));
        }
        finish(resolve, response.result);
      });
    });
  }

  // -- consent -----------------------------------------------------------------------------------

  /** {subject, purposes, noticeVersion, collectionMethod ("click"|"checkbox"|"signature"), domain, country,
   *  region?, locale?, age? | birthDate?, guardian? {relationship, verificationMethod, reference?},
   *  idempotencyKey?} → {consentId, subject, purposes, recordedAt, expiresAt, receipt}. POLICY_DENIED. */
  consentRecord(params) { return this.call("consent.record", params); }

  /** {subject, purposes?, reason?} → {revokedAt, revoked, deletions}: revoking authentication deletes. */
  consentRevoke(params) { return this.call("consent.revoke", params); }

  /** {subject} → {active, history}. NOT_FOUND for an unknown subject. */
  consentStatus({ subject }) { return this.call("consent.status", { subject }); }

  // -- enrollment --------------------------------------------------------------------------------

  /** {subject, domain, country, region?, trigger = "user_action"} → {allow, decisionId, reasons, and when
   *  allowed ticket, ticketExpiresAt, fioOptions}. A denial resolves with allow: false. */
  enrollAuthorize({ trigger = "user_action", ...rest }) {
    return this.call("enroll.authorize", { ...rest, trigger });
  }

  /** {ticket, facialId} → {subject, facialId, enrolledAt, retainUntil}. TICKET_INVALID, CONFLICT. */
  enrollComplete({ ticket, facialId }) { return this.call("enroll.complete", { ticket, facialId }); }

  // -- Facial IDs --------------------------------------------------------------------------------

  /** {subject} → {subject, facialIds [{facialId, status, enrolledAt, retainUntil, deletion, ...}], consent, rights}. */
  facialIdShow({ subject }) { return this.call("facialId.show", { subject }); }

  /** {subject, facialId?, confirm = false, reason?} → {deletions}. Needs confirm: true. Idempotent. */
  facialIdDelete({ confirm = false, ...rest }) { return this.call("facialId.delete", { ...rest, confirm }); }

  /** {subject} or {facialId} → {lastAuthenticatedAt, retainUntil}: records a successful face login. */
  facialIdTouch(params) { return this.call("facialId.touch", params); }

  /** {subject, confirm = false} → {erasedAt, deletions}: account deletion. Needs confirm: true. */
  subjectErase({ subject, confirm = false }) { return this.call("subject.erase", { subject, confirm }); }

  // -- operations --------------------------------------------------------------------------------

  /** {dryRun?, limit?} → {sweptAt, examined, expired, deletionsQueued, consentsExpired}. */
  retentionSweep(params = {}) { return this.call("retention.sweep", params); }
  auditVerify() { return this.call("audit.verify"); }
  /** {subject?, since?, limit?} → {entries}. */
  auditQuery(params = {}) { return this.call("audit.query", params); }
  /** {country?, region?, locale?} → what the site must tell users (purposes, retention, minors, rights). */
  policyDisclosure(params = {}) { return this.call("policy.disclosure", params); }
  policyReload() { return this.call("policy.reload"); }
  /** {headers, body}: a FACEIO webhook as received (body: the raw string). */
  webhookIngest({ headers, body }) { return this.call("webhook.ingest", { headers, body }); }
  systemHealth() { return this.call("system.health"); }
  rpcDiscover() { return this.call("rpc.discover"); }
}
