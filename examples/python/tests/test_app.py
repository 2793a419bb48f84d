"""The demo app's routes (Flask's test client) against a real daemon: what is recorded when."""

from __future__ import annotations

import os
import sys
import unittest

from support import PYTHON_DIR, Daemon, unique
from fioguard_client import FioguardError

sys.path.insert(0, os.path.join(PYTHON_DIR, "demo"))
from app import create_app, for_people  # noqa: E402

daemon = Daemon()


def setUpModule() -> None:
    daemon.start()


def tearDownModule() -> None:
    daemon.stop()


class DemoAppTests(unittest.TestCase):
    def setUp(self) -> None:
        self.app = create_app({"FIOGUARD_SOCKET": daemon.socket_path, "SECRET_KEY": "test",
                               "FIO_JS_URL": "/static/fio-standin.js", "DEMO_COUNTRY": "DE",
                               "DEMO_REGION": None, "SITE_DOMAIN": None, "TESTING": True})
        self.web = self.app.test_client()
        self.fg = daemon.client()
        self.web.get("/face-login/notice")  # starts the session: a demo subject and a CSRF token
        with self.web.session_transaction() as s:
            self.subject, self.csrf = s["subject"], s["csrf"]

    def notice_version(self) -> str:
        return "demo-notice-1+" + self.fg.policy_disclosure(country="DE")["policyVersion"]

    def consent(self, **form):
        data = {"csrf": self.csrf, "notice_version": self.notice_version(), "age": "30", "agree": "yes"}
        data.update(form)
        return self.web.post("/face-login/consent", data={k: v for k, v in data.items() if v is not None})

    def assert_no_consent(self) -> None:
        with self.assertRaises(FioguardError) as e:
            self.fg.consent_status(self.subject)
        self.assertEqual(e.exception.reason, "NOT_FOUND")

    def enroll(self) -> str:
        headers = {"X-CSRF-Token": self.csrf}
        decision = self.web.post("/face-login/enroll/authorize", headers=headers).get_json()
        self.assertTrue(decision["allow"], decision)
        self.assertIs(decision["fioOptions"]["userConsent"], True)
        facial_id = unique("fid")
        done = self.web.post("/face-login/enroll/complete", json={"facialId": facial_id}, headers=headers)
        self.assertEqual(done.get_json(), {"ok": True, "redirect": "/face-login"})
        return facial_id

    def test_the_notice_shows_the_disclosure(self) -> None:
        page = self.web.get("/face-login/notice").get_data(as_text=True)
        d = self.fg.policy_disclosure(country="DE")
        for text in [d["howToRevoke"], d["howToDelete"], d["minors"]["description"],
                     *(e["description"] for e in d["retention"]["schedule"])]:
            self.assertIn(for_people(text), page)
        self.assertNotIn("P3Y", page)  # durations in words: "3 years"
        self.assertNotIn("(consent.revoke)", page)  # no API names in the notice
        self.assertIn('<input id="agree" name="agree" type="checkbox" value="yes" required>', page)
        self.assertIn('<label for="agree">', page)
        self.assertNotIn("fio-standin.js", page)  # fio.js is loaded only where enrollment happens

    def test_the_age_of_consent_follows_the_jurisdiction(self) -> None:
        page = self.web.get("/face-login/notice?country=US&region=US-IL").get_data(as_text=True)
        self.assertIn("People under 18 need the consent of a parent or guardian", page)

    def test_no_consent_without_the_tick(self) -> None:
        response = self.consent(agree=None)
        self.assertEqual(response.status_code, 400)
        self.assertIn("Tick the box to agree", response.get_data(as_text=True))
        self.assert_no_consent()

    def test_no_post_without_the_csrf_token(self) -> None:
        self.assertEqual(self.consent(csrf="forged").status_code, 400)
        self.assert_no_consent()

    def test_consent_is_recorded_on_the_click(self) -> None:
        response = self.consent()
        self.assertEqual((response.status_code, response.location), (302, "/face-login/enroll"))
        active = self.fg.consent_status(self.subject)["active"]
        self.assertEqual(len(active), 1)
        self.assertEqual(active[0]["collectionMethod"], "checkbox")
        self.assertEqual(active[0]["noticeVersion"], self.notice_version())
        self.assertEqual(active[0]["domain"], "localhost")

    def test_a_stale_notice_is_shown_again(self) -> None:
        self.assertEqual(self.consent(notice_version="demo-notice-0+old").status_code, 400)
        self.assert_no_consent()

    def test_a_minor_gets_the_guardian_step(self) -> None:
        response = self.consent(age="12")
        self.assertEqual(response.status_code, 200)
        self.assertIn("A parent or guardian must agree", response.get_data(as_text=True))
        self.assert_no_consent()

        guardian = {"csrf": self.csrf, "notice_version": self.notice_version(), "age": "12",
                    "relationship": "parent", "verification": "email_confirmation"}
        self.assertEqual(self.web.post("/face-login/consent/guardian", data=guardian).status_code, 400)
        self.assert_no_consent()

        guardian["guardian_agree"] = "yes"
        response = self.web.post("/face-login/consent/guardian", data=guardian)
        self.assertEqual(response.location, "/face-login/enroll")
        self.assertEqual(len(self.fg.consent_status(self.subject)["active"]), 1)

    def test_enrollment_needs_consent(self) -> None:
        decision = self.web.post("/face-login/enroll/authorize", headers={"X-CSRF-Token": self.csrf}).get_json()
        self.assertFalse(decision["allow"])
        self.assertTrue(decision["reasons"])
        self.assertNotIn("fioOptions", decision)

    def test_enroll_show_delete_erase(self) -> None:
        self.consent()
        page = self.web.get("/face-login/enroll").get_data(as_text=True)
        self.assertIn('<script src="/static/fio-standin.js"></script>', page)
        facial_id = self.enroll()

        page = self.web.get("/face-login").get_data(as_text=True)
        self.assertIn(facial_id, page)
        self.assertIn('data-status="active"', page)
        self.assertIn('<dialog id="delete-dialog"', page)

        self.assertEqual(self.web.post("/face-login/delete", data={"csrf": self.csrf}).status_code, 400)
        self.assertEqual(self.fg.facial_id_show(self.subject)["facialIds"][0]["status"], "active")
        self.web.post("/face-login/delete", data={"csrf": self.csrf, "confirm": "yes"})
        self.assertIn(self.fg.facial_id_show(self.subject)["facialIds"][0]["status"], ("deleting", "deleted"))
        self.assertIn("Being deleted", self.web.get("/face-login").get_data(as_text=True))

        response = self.web.post("/account/delete", data={"csrf": self.csrf, "confirm": "yes"})
        self.assertIn("Your account is deleted", response.get_data(as_text=True))
        with self.assertRaises(FioguardError) as gone:
            self.fg.facial_id_show(self.subject)
        self.assertEqual(gone.exception.reason, "NOT_FOUND")

    def test_withdrawing_consent_deletes_the_facial_id(self) -> None:
        self.consent()
        self.enroll()
        self.web.post("/face-login/withdraw", data={"csrf": self.csrf})
        self.assertEqual(self.fg.consent_status(self.subject)["active"], [])
        self.assertIn(self.fg.facial_id_show(self.subject)["facialIds"][0]["status"], ("deleting", "deleted"))

    def test_an_unreachable_daemon_is_a_503(self) -> None:
        self.app.config["FIOGUARD_SOCKET"] = "/nonexistent/fioguard.sock"
        response = self.web.get("/face-login")
        self.assertEqual(response.status_code, 503)
        self.assertIn("password login still works", response.get_data(as_text=True))


if __name__ == "__main__":
    unittest.main()
