// node --test examples/node/
// Uses the daemon on $FIOGUARD_SOCKET, or starts one from $FIOGUARD_BIN (default .build/debug) with the
// demo policy on a temporary socket and database, and stops it afterwards.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";

import { FioguardClient, FioguardError, FioguardUnreachable, defaultSocket } from "./fioguard-client.mjs";

const examples = dirname(dirname(fileURLToPath(import.meta.url)));
let daemon = null;
let tmp = null;
let fg;

before(async () => {
  let socketPath = process.env.FIOGUARD_SOCKET;
  if (!socketPath) {
    const bin = process.env.FIOGUARD_BIN || join(examples, "..", ".build", "debug");
    tmp = mkdtempSync(join(tmpdir(), "fg-node-"));
    socketPath = join(tmp, "fg.sock");
    daemon = spawn(join(bin, "fioguard"), ["serve", "--socket", socketPath, "--database", join(tmp, "db.sqlite"),
      "--policy", join(examples, "policy", "demo-policy.json"), "--log-level", "warning"], { stdio: "ignore" });
    for (let i = 0; i < 300 && !existsSync(socketPath); i++) await sleep(100);
    assert.ok(existsSync(socketPath), "fioguard did not start");
  }
  fg = new FioguardClient({ socketPath });
});

after(async () => {
  if (daemon && daemon.exitCode === null) {
    const exited = new Promise((resolve) => daemon.once("exit", resolve));
    daemon.kill("SIGTERM");
    await Promise.race([exited, sleep(15_000, null, { ref: false })]);
    if (daemon.exitCode === null) daemon.kill("SIGKILL");
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const unique = (prefix) => `${prefix}-${randomUUID().slice(0, 12)}`;
const consent = (subject, extra = {}) => fg.consentRecord({
  subject, purposes: ["authentication"], noticeVersion: "node-test-1", collectionMethod: "checkbox",
  domain: "shop.example", country: "DE", age: 30, ...extra,
});
/** Resolves with the FioguardError a call rejects with (fails if it resolves). */
async function rpcError(promise) {
  await assert.rejects(promise, FioguardError);
  return promise.catch((e) => e);
}

test("health and disclosure", async () => {
  assert.match((await fg.systemHealth()).status, /^(ok|degraded)$/);
  const d = await fg.policyDisclosure({ country: "DE", locale: "de-DE" });
  assert.deepEqual(d.purposes, ["authentication"]);
  assert.equal(d.minors.ageOfConsent, 16);
  assert.ok(d.howToRevoke && d.howToDelete);
});

test("consent to deletion", async () => {
  const subject = unique("node-flow");
  const facialId = unique("fid");
  assert.ok((await consent(subject)).consentId);

  const automatic = await fg.enrollAuthorize({ subject, domain: "shop.example", country: "DE", trigger: "automatic" });
  assert.equal(automatic.allow, false);

  const decision = await fg.enrollAuthorize({ subject, domain: "shop.example", country: "DE" });
  assert.equal(decision.allow, true, JSON.stringify(decision.reasons));
  assert.equal(decision.fioOptions.payload.ticket, decision.ticket);
  const done = await fg.enrollComplete({ ticket: decision.ticket, facialId });
  assert.equal(done.subject, subject);
  assert.ok(done.retainUntil);

  assert.equal((await rpcError(fg.enrollComplete({ ticket: decision.ticket, facialId: facialId + "x" }))).reason,
    "TICKET_INVALID");

  const shown = await fg.facialIdShow({ subject });
  assert.deepEqual(shown.facialIds.map((f) => [f.facialId, f.status]), [[facialId, "active"]]);
  assert.ok((await fg.facialIdTouch({ subject })).lastAuthenticatedAt);

  const unconfirmed = await rpcError(fg.facialIdDelete({ subject }));
  assert.equal(unconfirmed.reason, "CONFIRMATION_REQUIRED");
  assert.equal(unconfirmed.code, -32005);

  const { deletions } = await fg.facialIdDelete({ subject, confirm: true, reason: "user_request" });
  assert.deepEqual(deletions.map((d) => d.facialId), [facialId]);
  assert.match((await fg.facialIdShow({ subject })).facialIds[0].status, /^(deleting|deleted)$/);

  assert.ok((await fg.subjectErase({ subject, confirm: true })).erasedAt);
  assert.equal((await rpcError(fg.facialIdShow({ subject }))).reason, "NOT_FOUND");
});

test("a minor needs a guardian; the error carries the decision", async () => {
  const subject = unique("node-minor");
  const denied = await rpcError(consent(subject, { age: 12 }));
  assert.equal(denied.reason, "POLICY_DENIED");
  assert.equal(denied.code, -32001);
  assert.deepEqual(denied.decision.reasons.filter((r) => !r.passed).map((r) => r.code), ["GUARDIAN_CONSENT_REQUIRED"]);
  const ok = await consent(subject, { age: 12, guardian: { relationship: "parent", verificationMethod: "signed_form" } });
  assert.equal(ok.receipt.guardian.relationship, "parent");
});

test("revoking consent deletes the Facial ID", async () => {
  const subject = unique("node-revoke");
  await consent(subject);
  const { ticket } = await fg.enrollAuthorize({ subject, domain: "shop.example", country: "DE" });
  await fg.enrollComplete({ ticket, facialId: unique("fid") });
  const revoked = await fg.consentRevoke({ subject });
  assert.ok(revoked.revoked.includes("authentication"));
  assert.equal(revoked.deletions.length, 1);
});

test("invalid params name the field", async () => {
  const e = await rpcError(fg.retentionSweep({ limit: 0 }));
  assert.equal(e.code, -32602);
  assert.equal(e.reason, "INVALID_PARAMS");
  assert.equal(e.data.field, "params.limit");
});

test("operations", async () => {
  const sweep = await fg.retentionSweep({ dryRun: true });
  assert.ok(sweep.sweptAt);
  assert.equal((await fg.auditVerify()).ok, true);
  assert.ok(Array.isArray((await fg.auditQuery({ limit: 3 })).entries));
});

test("concurrent calls each get their own answer", async () => {
  const subjects = Array.from({ length: 20 }, (_, i) => unique(`node-par${i}`));
  const results = await Promise.all(subjects.map((s) => consent(s)));
  assert.deepEqual(results.map((r) => r.subject), subjects);
});

test("an unreachable daemon", async () => {
  const client = new FioguardClient({ socketPath: join(tmpdir(), unique("no-daemon") + ".sock"), timeoutMs: 2000 });
  const e = await client.systemHealth().catch((err) => err);
  assert.ok(e instanceof FioguardUnreachable);
  assert.ok(e instanceof FioguardError);
  assert.equal(e.reason, "UNREACHABLE");
});

// Without a socket path the client finds the daemon where `fioguard serve` puts it by default, as
// fioguard-client does (it prints that default in its usage). As root, also for another user.
test("the default socket is the daemon's", () => {
  let client = join(process.env.FIOGUARD_BIN || join(examples, "..", ".build", "debug"), "fioguard-client");
  const users = [process.getuid()];
  const dir = mkdtempSync(join(tmpdir(), "fg-node-client-"));
  try {
    if (process.getuid() === 0 && spawnSync("setpriv", ["--version"]).status === 0) {
      chmodSync(dir, 0o755);  // a copy another user can reach
      copyFileSync(client, join(dir, "fioguard-client"));
      chmodSync(join(dir, "fioguard-client"), 0o755);
      client = join(dir, "fioguard-client");
      users.push(65534);
    }
    const base = { ...process.env };
    delete base.FIOGUARD_SOCKET;
    delete base.XDG_RUNTIME_DIR;
    const realUID = process.getuid;
    for (const uid of users) {
      const asUser = uid === realUID() ? [] : ["setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups"];
      for (const extra of [{}, { XDG_RUNTIME_DIR: "/run/user/4242" }, { FIOGUARD_SOCKET: "/srv/fg.sock" }]) {
        const env = { ...base, ...extra };
        const argv = [...asUser, client, "--help"];
        const r = spawnSync(argv[0], argv.slice(1), { env, encoding: "utf8", timeout: 30_000 });
        const daemons = /--socket PATH .*\(default: ([^)]+)\)/.exec(r.stdout + r.stderr);
        assert.ok(daemons, r.stdout + r.stderr);
        process.getuid = () => uid;
        try {
          assert.equal(defaultSocket(env), daemons[1], JSON.stringify({ uid, extra }));
        } finally {
          process.getuid = realUID;
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
