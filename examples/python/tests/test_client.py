"""fioguard_client against a real daemon: every helper, and errors carrying their reason."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import unittest
from unittest import mock

from support import Daemon, unique
from fioguard_client import FioguardClient, FioguardError, FioguardUnreachable, default_socket

daemon = Daemon()


def setUpModule() -> None:
    daemon.start()


def tearDownModule() -> None:
    daemon.stop()


def consent(fg: FioguardClient, subject: str, **extra):
    args = dict(notice_version="py-test-1", collection_method="checkbox", domain="shop.example",
                country="DE", age=30, locale="de-DE")
    args.update(extra)
    return fg.consent_record(subject, ["authentication"], **args)


class DefaultSocketTests(unittest.TestCase):
    """Without a socket path the client finds the daemon where `fioguard serve` puts it by default,
    as the daemon's own tools do (fioguard-client prints that default in its usage). Run as root,
    the test also asks for the default of another user (nobody, through setpriv), so both the
    root and the per-user rule are compared wherever it runs."""

    def test_the_default_socket_is_the_daemons(self) -> None:
        client = os.path.join(os.environ.get("FIOGUARD_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "..",
                                                                          ".build", "debug")), "fioguard-client")
        users = [os.getuid()]
        with tempfile.TemporaryDirectory() as tmp:
            if os.getuid() == 0 and shutil.which("setpriv"):
                # A copy another user can reach (the checkout may sit in a private folder).
                os.chmod(tmp, 0o755)
                client = shutil.copy(client, tmp)
                users.append(65534)
            base = {k: v for k, v in os.environ.items() if k not in ("FIOGUARD_SOCKET", "XDG_RUNTIME_DIR")}
            for uid in users:
                as_user = [] if uid == os.getuid() else ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
                for extra in ({}, {"XDG_RUNTIME_DIR": "/run/user/4242"}, {"FIOGUARD_SOCKET": "/srv/fg.sock"}):
                    env = {**base, **extra}
                    usage = subprocess.run(as_user + [client, "--help"], env=env, capture_output=True, text=True, timeout=30)
                    daemons = re.search(r"--socket PATH .*\(default: ([^)]+)\)", usage.stdout + usage.stderr)
                    self.assertIsNotNone(daemons, usage.stdout + usage.stderr)
                    with mock.patch.dict(os.environ, env, clear=True), mock.patch("os.getuid", return_value=uid):
                        self.assertEqual(default_socket(), daemons.group(1), (uid, extra))
                        self.assertEqual(FioguardClient().socket_path, daemons.group(1), (uid, extra))


class ClientTests(unittest.TestCase):
    def setUp(self) -> None:
        self.fg = daemon.client()

    def test_health_and_discover(self) -> None:
        self.assertIn(self.fg.system_health()["status"], ("ok", "degraded"))
        self.assertIn("methods", self.fg.rpc_discover())

    def test_disclosure_gives_the_notice_texts(self) -> None:
        d = self.fg.policy_disclosure(country="DE", locale="de-DE")
        self.assertEqual(d["purposes"], ["authentication"])
        self.assertEqual(d["minors"]["ageOfConsent"], 16)
        self.assertTrue(d["howToRevoke"] and d["howToDelete"])
        self.assertTrue(all(e["description"] for e in d["retention"]["schedule"]))
        self.assertEqual(self.fg.policy_disclosure(country="US", region="US-IL")["minors"]["ageOfConsent"], 18)

    def test_consent_to_deletion(self) -> None:
        subject, fid = unique("py-flow"), unique("fid")
        receipt = consent(self.fg, subject)
        self.assertEqual(receipt["subject"], subject)
        self.assertTrue(receipt["consentId"])
        self.assertEqual(self.fg.consent_status(subject)["active"][0]["collectionMethod"], "checkbox")

        denied = self.fg.enroll_authorize(subject, domain="shop.example", country="DE", trigger="automatic")
        self.assertFalse(denied["allow"])
        self.assertNotIn("ticket", denied)

        decision = self.fg.enroll_authorize(subject, domain="shop.example", country="DE")
        self.assertTrue(decision["allow"], decision)
        self.assertEqual(decision["fioOptions"]["payload"]["ticket"], decision["ticket"])
        done = self.fg.enroll_complete(decision["ticket"], fid)
        self.assertEqual((done["subject"], done["facialId"]), (subject, fid))

        with self.assertRaises(FioguardError) as reused:
            self.fg.enroll_complete(decision["ticket"], fid + "x")
        self.assertEqual(reused.exception.reason, "TICKET_INVALID")

        shown = self.fg.facial_id_show(subject)
        self.assertEqual([(f["facialId"], f["status"]) for f in shown["facialIds"]], [(fid, "active")])
        self.assertTrue(shown["facialIds"][0]["retainUntil"])
        self.assertIn("lastAuthenticatedAt", self.fg.facial_id_touch(subject))

        with self.assertRaises(FioguardError) as unconfirmed:
            self.fg.facial_id_delete(subject)
        self.assertEqual(unconfirmed.exception.reason, "CONFIRMATION_REQUIRED")
        self.assertEqual(unconfirmed.exception.code, -32005)

        deletions = self.fg.facial_id_delete(subject, confirm=True, reason="user_request")["deletions"]
        self.assertEqual([d["facialId"] for d in deletions], [fid])
        status = self.fg.facial_id_show(subject)["facialIds"][0]["status"]
        self.assertIn(status, ("deleting", "deleted"))
        # Idempotent.
        self.fg.facial_id_delete(subject, fid, confirm=True)

        self.assertIn("erasedAt", self.fg.subject_erase(subject, confirm=True))
        with self.assertRaises(FioguardError) as gone:
            self.fg.facial_id_show(subject)
        self.assertEqual(gone.exception.reason, "NOT_FOUND")

    def test_revoking_consent_deletes_the_facial_id(self) -> None:
        subject, fid = unique("py-revoke"), unique("fid")
        consent(self.fg, subject)
        decision = self.fg.enroll_authorize(subject, domain="shop.example", country="DE")
        self.fg.enroll_complete(decision["ticket"], fid)
        revoked = self.fg.consent_revoke(subject, reason="changed my mind")
        self.assertIn("authentication", revoked["revoked"])
        self.assertEqual([d["facialId"] for d in revoked["deletions"]], [fid])
        self.assertEqual(self.fg.consent_status(subject)["active"], [])

    def test_a_minor_needs_a_guardian(self) -> None:
        subject = unique("py-minor")
        with self.assertRaises(FioguardError) as denied:
            consent(self.fg, subject, age=12)
        e = denied.exception
        self.assertEqual((e.reason, e.code), ("POLICY_DENIED", -32001))
        failed = [r["code"] for r in e.decision["reasons"] if not r["passed"]]
        self.assertEqual(failed, ["GUARDIAN_CONSENT_REQUIRED"])

        receipt = consent(self.fg, subject, age=12,
                          guardian={"relationship": "parent", "verificationMethod": "email_confirmation"})
        self.assertEqual(receipt["receipt"]["guardian"]["relationship"], "parent")

    def test_a_non_affirmative_method_is_denied(self) -> None:
        with self.assertRaises(FioguardError) as denied:
            consent(self.fg, unique("py-pageview"), collection_method="pageview")
        self.assertEqual(denied.exception.reason, "POLICY_DENIED")

    def test_invalid_params_name_the_field(self) -> None:
        with self.assertRaises(FioguardError) as bad:
            self.fg.retention_sweep(limit=0)
        self.assertEqual((bad.exception.code, bad.exception.reason), (-32602, "INVALID_PARAMS"))
        self.assertEqual(bad.exception.data.get("field"), "params.limit")

    def test_unknown_subject_and_method(self) -> None:
        with self.assertRaises(FioguardError) as unknown:
            self.fg.consent_status(unique("py-nobody"))
        self.assertEqual(unknown.exception.reason, "NOT_FOUND")
        with self.assertRaises(FioguardError) as no_method:
            self.fg.call("no.such.method", {})
        self.assertEqual(no_method.exception.code, -32601)

    def test_operations(self) -> None:
        sweep = self.fg.retention_sweep(dry_run=True, limit=10)
        self.assertTrue(sweep["sweptAt"])
        self.assertIsInstance(sweep["expired"], list)
        self.assertIs(self.fg.audit_verify()["ok"], True)
        self.assertIsInstance(self.fg.audit_query(limit=5)["entries"], list)

    def test_unreachable_daemon(self) -> None:
        missing = os.path.join(tempfile.gettempdir(), unique("no-daemon") + ".sock")
        with self.assertRaises(FioguardUnreachable) as unreachable:
            FioguardClient(missing, timeout=2).system_health()
        self.assertEqual(unreachable.exception.reason, "UNREACHABLE")
        self.assertIsInstance(unreachable.exception, FioguardError)


if __name__ == "__main__":
    unittest.main()
