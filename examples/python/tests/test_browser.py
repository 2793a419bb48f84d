"""The demo page in headless Chromium (Selenium + Debian's chromium-driver), against a real daemon.

Clicks through consent, enrollment (fio.js stand-in), the dashboard and deletion through the dialog,
and checks each step in fioguard itself. Saves artifacts/dashboard.png (FIOGUARD_ARTIFACTS overrides
the folder). Skips when Selenium or Chromium is missing, unless FIOGUARD_REQUIRE_BROWSER=1 (make test).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import logging
import threading
import unittest

from support import PYTHON_DIR, REPO, Daemon
from fioguard_client import FioguardError

sys.path.insert(0, os.path.join(PYTHON_DIR, "demo"))
from app import create_app  # noqa: E402

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait
    from werkzeug.serving import make_server
    MISSING = None
except ImportError as e:  # pragma: no cover
    MISSING = f"selenium is not installed ({e}); pip install -r examples/python/requirements-test.txt"

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/lib/chromium/chromedriver"
if MISSING is None and not (CHROMIUM and os.path.exists(CHROMEDRIVER)):
    MISSING = "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"
if MISSING and os.environ.get("FIOGUARD_REQUIRE_BROWSER") == "1":
    raise RuntimeError(MISSING)

WAIT = 20  # seconds, the longest any single step may take
daemon = Daemon()
server = None
driver = None
base_url = ""
profile_dir = ""


def setUpModule() -> None:
    global server, driver, base_url, profile_dir
    if MISSING:
        raise unittest.SkipTest(MISSING)
    daemon.start()
    app = create_app({"FIOGUARD_SOCKET": daemon.socket_path, "SECRET_KEY": "browser-test",
                      "FIO_JS_URL": "/static/fio-standin.js", "DEMO_COUNTRY": "DE", "DEMO_REGION": None,
                      "SITE_DOMAIN": None})
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log lines in the test output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://localhost:{server.server_port}"

    profile_dir = tempfile.mkdtemp(prefix="fg-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1000,1300", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile_dir}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(10)


def tearDownModule() -> None:
    if driver is not None:
        driver.quit()
    if server is not None:
        server.shutdown()
    daemon.stop()
    if profile_dir:
        shutil.rmtree(profile_dir, ignore_errors=True)


def wait():
    return WebDriverWait(driver, WAIT, poll_frequency=0.1)


class BrowserTests(unittest.TestCase):
    def setUp(self) -> None:
        self.fg = daemon.client()
        driver.delete_all_cookies()  # a new demo user for each test
        self.open("/face-login/notice")
        self.subject = driver.find_element(By.ID, "demo-subject").text
        self.assertTrue(self.subject.startswith("demo-"))

    def open(self, path: str) -> None:
        driver.get(base_url + path)
        wait().until(lambda d: d.execute_script("return document.readyState") == "complete")

    def path(self) -> str:
        return driver.execute_script("return location.pathname")

    def active_id(self) -> str:
        return driver.execute_script("return document.activeElement && document.activeElement.id")

    def consent_events(self) -> list:
        try:
            return self.fg.consent_status(self.subject)["history"]
        except FioguardError as e:
            self.assertEqual(e.reason, "NOT_FOUND")
            return []

    def test_the_consent_button_does_nothing_until_the_box_is_ticked(self) -> None:
        box = driver.find_element(By.ID, "agree")
        self.assertFalse(box.is_selected(), "the consent box must start unticked")
        driver.find_element(By.ID, "age").send_keys("30")
        driver.execute_script("window.__samePage = true")
        driver.find_element(By.ID, "consent-button").click()
        # The browser refuses to submit a required, unticked box: same page, same document.
        with self.assertRaises(TimeoutException):
            WebDriverWait(driver, 1.5).until(lambda d: d.execute_script("return window.__samePage !== true"))
        self.assertEqual(self.path(), "/face-login/notice")
        self.assertTrue(driver.execute_script("return document.getElementById('agree').matches(':invalid')"))
        self.assertEqual(self.consent_events(), [])

        box.click()
        driver.find_element(By.ID, "consent-button").click()
        wait().until(lambda d: self.path() == "/face-login/enroll")
        self.assertEqual(len(self.consent_events()), 1)

    def test_consent_enroll_see_and_delete(self) -> None:
        # Consent, keyboard only: type the age, Space ticks the box, Enter presses the button.
        driver.find_element(By.ID, "age").send_keys("30")
        driver.find_element(By.ID, "agree").send_keys(Keys.SPACE)
        self.assertTrue(driver.find_element(By.ID, "agree").is_selected())
        driver.find_element(By.ID, "consent-button").send_keys(Keys.ENTER)
        wait().until(lambda d: self.path() == "/face-login/enroll")
        active = self.fg.consent_status(self.subject)["active"]
        self.assertEqual([c["collectionMethod"] for c in active], ["checkbox"])

        # No enrollment before the user's click.
        self.assertEqual(driver.execute_script("return window.__fioStandin.enrollCalls.length"), 0)
        driver.find_element(By.ID, "enroll-button").click()
        wait().until(lambda d: self.path() == "/face-login")
        facial_id = wait().until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".facial-id"))).text
        shown = self.fg.facial_id_show(self.subject)["facialIds"]
        self.assertEqual([(f["facialId"], f["status"]) for f in shown], [(facial_id, "active")])
        self.assertEqual(driver.find_element(By.CSS_SELECTOR, ".status").get_attribute("data-status"), "active")
        self.assertIn("Face login is set up.", driver.find_element(By.ID, "flash").text)

        artifacts = os.environ.get("FIOGUARD_ARTIFACTS", os.path.join(REPO, "artifacts"))
        os.makedirs(artifacts, exist_ok=True)
        self.assertTrue(driver.save_screenshot(os.path.join(artifacts, "dashboard.png")))

        # The dialog: focus moves in (to Cancel), Escape closes it, focus returns to the opener.
        opener = driver.find_element(By.ID, "delete-open")
        opener.click()
        dialog = wait().until(EC.visibility_of_element_located((By.ID, "delete-dialog")))
        self.assertTrue(dialog.get_attribute("open") is not None)
        self.assertTrue(driver.execute_script(
            "return document.getElementById('delete-dialog').contains(document.activeElement)"))
        driver.switch_to.active_element.send_keys(Keys.ESCAPE)
        wait().until(EC.invisibility_of_element_located((By.ID, "delete-dialog")))
        self.assertEqual(self.active_id(), "delete-open")
        self.assertEqual(self.fg.facial_id_show(self.subject)["facialIds"][0]["status"], "active")

        # Open it again and confirm.
        opener.click()
        wait().until(EC.element_to_be_clickable((By.ID, "delete-dialog-confirm"))).click()
        # The new page (not the old one, whose status is "active") shows the deletion.
        wait().until(EC.presence_of_element_located(
            (By.CSS_SELECTOR, '.status[data-status="deleting"], .status[data-status="deleted"]')))
        self.assertIn("Your face data is being deleted", driver.find_element(By.ID, "flash").text)
        self.assertIn(self.fg.facial_id_show(self.subject)["facialIds"][0]["status"], ("deleting", "deleted"))
        # And the button to delete again is gone.
        self.assertEqual(driver.find_elements(By.ID, "delete-open"), [])

    def test_a_minor_with_a_guardian_then_account_deletion(self) -> None:
        driver.find_element(By.ID, "age").send_keys("12")
        driver.find_element(By.ID, "agree").send_keys(Keys.SPACE)
        driver.find_element(By.ID, "consent-button").send_keys(Keys.ENTER)
        wait().until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "A parent or guardian must agree"))
        self.assertEqual(self.consent_events(), [])  # nothing is recorded before the guardian agrees

        Select(driver.find_element(By.ID, "relationship")).select_by_value("parent")
        Select(driver.find_element(By.ID, "verification")).select_by_value("email_confirmation")
        driver.find_element(By.ID, "guardian-agree").send_keys(Keys.SPACE)
        driver.find_element(By.ID, "guardian-button").send_keys(Keys.ENTER)
        wait().until(lambda d: self.path() == "/face-login/enroll")
        events = self.consent_events()
        self.assertEqual(len(events), 1)
        self.assertIs(events[0]["details"]["guardian"], True)

        # Delete the account, keyboard only: Enter opens the dialog, Tab to the confirm button, Enter.
        self.open("/face-login")
        driver.find_element(By.ID, "erase-open").send_keys(Keys.ENTER)
        wait().until(EC.visibility_of_element_located((By.ID, "erase-dialog")))
        driver.switch_to.active_element.send_keys(Keys.TAB)
        self.assertEqual(self.active_id(), "erase-dialog-confirm")
        driver.switch_to.active_element.send_keys(Keys.ENTER)
        wait().until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Your account is deleted"))
        with self.assertRaises(FioguardError) as gone:
            self.fg.consent_status(self.subject)
        self.assertEqual(gone.exception.reason, "NOT_FOUND")


if __name__ == "__main__":
    unittest.main()
