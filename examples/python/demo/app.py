"""fioguard demo: face login with consent, a dashboard and deletion, in one small Flask app.

Read it top to bottom; each route is one step a site owner has to get right:

  /face-login/notice      the notice (texts from policy.disclosure) with an unticked box and a button
  /face-login/consent     consent is recorded on that click (collectionMethod "checkbox");
                          a stated age below the age of consent leads to the guardian step first
  /face-login/enroll      enroll.authorize on the user's click, then fio.enroll(fioOptions) in the page,
                          then enroll.complete with the Facial ID FACEIO returned
  /face-login             "my face login": Facial ID, dates, deletion status; delete, withdraw, erase

Configuration (environment):
  FIOGUARD_SOCKET         the daemon's socket (default /run/fioguard/fioguard.sock)
  FIO_JS_URL              where the page loads fio.js from (default https://cdn.faceio.net/fio.js;
                          the tests use /static/fio-standin.js, a local stand-in)
  FACEIO_PUBLIC_ID        your FACEIO application's public id
  FIOGUARD_DEMO_COUNTRY   the user's country, ISO 3166-1 (default DE; a real site uses its own
  FIOGUARD_DEMO_REGION    knowledge of the user); ?country=US&region=US-IL on the notice page overrides
  FIOGUARD_SITE_DOMAIN    the domain sent to fioguard (default: the host name the browser used)
  FLASK_SECRET_KEY        signs the session cookie (default: a random key per start)

Run:  FIOGUARD_SOCKET=/tmp/x/fg.sock python3 examples/python/demo/app.py   (or: make demo)
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from datetime import datetime
from typing import Any, Optional

from flask import (Flask, abort, flash, jsonify, redirect, render_template, request, session, url_for)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from fioguard_client import FioguardClient, FioguardError, FioguardUnreachable  # noqa: E402

PURPOSES = ["authentication"]
#: Bump when the wording of templates/notice.html changes; the policy version is appended, so a
#: policy change is a new notice too. The version the user saw is what consent.record stores.
NOTICE_TEMPLATE_VERSION = "demo-notice-1"

_ISO_DURATION = re.compile(r"\bP(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
                           r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?\b")
_UNITS = ("year", "month", "week", "day", "hour", "minute", "second")


_API_ASIDE = re.compile(r"\s*\((?:consent|facialId|subject|enroll)\.[A-Za-z]+[^)]*\)")


def for_people(text: str) -> str:
    """policy.disclosure's texts are written for the site: durations in ISO 8601 ("P3Y") and the API
    method in brackets ("(consent.revoke)"). People read "3 years" and need no method names."""
    def words(m: re.Match) -> str:
        parts = [f"{int(n)} {unit}{'' if int(n) == 1 else 's'}" for n, unit in zip(m.groups(), _UNITS) if n]
        return " ".join(parts) if parts else "no time"
    return _ISO_DURATION.sub(words, _API_ASIDE.sub("", text or ""))


def create_app(config: Optional[dict[str, Any]] = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ.get("FLASK_SECRET_KEY") or secrets.token_hex(32),
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        FIOGUARD_SOCKET=os.environ.get("FIOGUARD_SOCKET"),
        FIO_JS_URL=os.environ.get("FIO_JS_URL", "https://cdn.faceio.net/fio.js"),
        FACEIO_PUBLIC_ID=os.environ.get("FACEIO_PUBLIC_ID", "your-faceio-public-id"),
        DEMO_COUNTRY=os.environ.get("FIOGUARD_DEMO_COUNTRY", "DE"),
        DEMO_REGION=os.environ.get("FIOGUARD_DEMO_REGION") or None,
        SITE_DOMAIN=os.environ.get("FIOGUARD_SITE_DOMAIN") or None,
    )
    if config:
        app.config.update(config)

    def fioguard() -> FioguardClient:
        return FioguardClient(app.config["FIOGUARD_SOCKET"], timeout=10)

    # -- who is this, where, on which site ------------------------------------------------------
    # A real site has accounts; the demo gives each browser session its own demo account id.

    def subject() -> str:
        if "subject" not in session:
            session["subject"] = "demo-" + secrets.token_hex(6)
        return session["subject"]

    def jurisdiction() -> dict[str, Optional[str]]:
        return {"country": session.get("country") or app.config["DEMO_COUNTRY"],
                "region": session.get("region") or app.config["DEMO_REGION"]}

    def site_domain() -> str:
        return app.config["SITE_DOMAIN"] or (request.host.rsplit(":", 1)[0] if request.host else "localhost")

    def locale() -> str:
        return request.accept_languages.best or "en"

    # -- CSRF: every form and fetch carries the session's token ----------------------------------

    def csrf_token() -> str:
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        return session["csrf"]

    @app.before_request
    def check_csrf() -> None:
        if request.method == "POST":
            sent = request.form.get("csrf") or request.headers.get("X-CSRF-Token", "")
            if not secrets.compare_digest(sent.encode(), session.get("csrf", "\0").encode()):
                abort(400, "The form expired; reload the page and try again.")

    @app.context_processor
    def template_globals() -> dict[str, Any]:
        return {"csrf_token": csrf_token, "subject": subject(), "fio_js_url": app.config["FIO_JS_URL"]}

    app.add_template_filter(for_people, "human")

    @app.template_filter("date")
    def format_date(value: Optional[str]) -> str:
        if not value:
            return "—"
        return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime("%-d %B %Y, %H:%M UTC")

    @app.errorhandler(FioguardUnreachable)
    def unreachable(_e: FioguardUnreachable):
        return render_template("message.html", title="Face login is unavailable",
                               text="Please try again in a few minutes. Your password login still works."), 503

    # -- the notice and consent --------------------------------------------------------------------

    def disclosure() -> dict[str, Any]:
        j = jurisdiction()
        return fioguard().policy_disclosure(country=j["country"], region=j["region"], locale=locale())

    def notice_version(d: dict[str, Any]) -> str:
        return f"{NOTICE_TEMPLATE_VERSION}+{d['policyVersion']}"

    def render_notice(d: dict[str, Any], errors: list[str] = (), status: int = 200, age: str = ""):
        return render_template("notice.html", d=d, notice_version=notice_version(d), errors=list(errors),
                               age=age), status

    @app.get("/")
    def index():
        return redirect(url_for("dashboard"))

    @app.get("/face-login/notice")
    def notice():
        if request.args.get("country"):
            session["country"] = request.args["country"].upper()[:2]
            session["region"] = request.args.get("region") or None
        return render_notice(disclosure())

    @app.post("/face-login/consent")
    def record_consent():
        d = disclosure()
        age_text = request.form.get("age", "").strip()
        errors = []
        if request.form.get("notice_version") != notice_version(d):
            errors.append("The notice changed while you were reading it. Please read it again.")
        if request.form.get("agree") != "yes":
            errors.append("Tick the box to agree, or leave this page: face login is optional.")
        if not age_text.isdigit() or not 0 < int(age_text) < 150:
            errors.append("Enter your age in years.")
        if errors:
            return render_notice(d, errors, 400, age_text)

        age, minors = int(age_text), d["minors"]
        if age < minors["ageOfConsent"]:
            if minors["guardianConsent"] == "forbidden":
                return render_template("message.html", title="Face login is not available",
                                       text=minors["description"]), 403
            if minors["guardianConsent"] == "required":
                return render_template("guardian.html", d=d, age=age, notice_version=notice_version(d),
                                       errors=[])
        return record(d, age, guardian=None)

    @app.post("/face-login/consent/guardian")
    def record_guardian_consent():
        d = disclosure()
        age_text = request.form.get("age", "")
        age = int(age_text) if age_text.isdigit() else 0
        relationship = request.form.get("relationship", "")
        verification = request.form.get("verification", "")
        errors = []
        if relationship not in ("parent", "legal_guardian"):
            errors.append("Choose how you are related to the child.")
        if verification not in ("email_confirmation", "signed_form", "id_document"):
            errors.append("Choose how we verified you.")
        if request.form.get("guardian_agree") != "yes":
            errors.append("As the parent or guardian, tick the box to agree.")
        if errors:
            return render_template("guardian.html", d=d, age=age, notice_version=notice_version(d),
                                   errors=errors), 400
        guardian = {"relationship": relationship, "verificationMethod": verification}
        if request.form.get("reference", "").strip():
            guardian["reference"] = request.form["reference"].strip()[:200]
        return record(d, age, guardian)

    def record(d: dict[str, Any], age: int, guardian: Optional[dict[str, str]]):
        j = jurisdiction()
        try:
            fioguard().consent_record(
                subject(), PURPOSES, notice_version=notice_version(d), collection_method="checkbox",
                domain=site_domain(), country=j["country"], region=j["region"], locale=locale(),
                age=age, guardian=guardian)
        except FioguardError as e:
            if e.reason != "POLICY_DENIED":
                raise
            refused = [r["message"] for r in (e.decision or {}).get("reasons", []) if not r.get("passed")]
            return render_notice(d, ["Consent could not be recorded: " + "; ".join(refused)], 403, str(age))
        flash("Thank you: your consent is recorded. You can withdraw it at any time on your face login page.")
        return redirect(url_for("enroll"))

    # -- enrollment ----------------------------------------------------------------------------------

    @app.get("/face-login/enroll")
    def enroll():
        return render_template("enroll.html", public_id=app.config["FACEIO_PUBLIC_ID"])

    @app.post("/face-login/enroll/authorize")
    def enroll_authorize():
        """Called by the page when the user clicks "Start face enrollment" (never on page load)."""
        j = jurisdiction()
        decision = fioguard().enroll_authorize(subject(), domain=site_domain(), country=j["country"],
                                               region=j["region"], trigger="user_action")
        if not decision["allow"]:
            session.pop("ticket", None)
            refused = [r["message"] for r in decision["reasons"] if not r.get("passed", False)]
            return jsonify(allow=False, reasons=refused)
        session["ticket"] = decision["ticket"]
        return jsonify(allow=True, fioOptions=decision["fioOptions"])

    @app.post("/face-login/enroll/complete")
    def enroll_complete():
        """Called by the page with the Facial ID that fio.enroll() resolved with."""
        ticket = session.pop("ticket", None)
        facial_id = (request.get_json(silent=True) or {}).get("facialId")
        if not ticket or not isinstance(facial_id, str):
            return jsonify(ok=False, message="Start the enrollment again."), 400
        try:
            fioguard().enroll_complete(ticket, facial_id)
        except FioguardError as e:
            if isinstance(e, FioguardUnreachable):
                raise
            return jsonify(ok=False, message=f"Enrollment could not be completed ({e.reason})."), 409
        flash("Face login is set up.")
        return jsonify(ok=True, redirect=url_for("dashboard"))

    # -- the dashboard and the user's rights ---------------------------------------------------------

    @app.get("/face-login")
    def dashboard():
        try:
            shown = fioguard().facial_id_show(subject())
        except FioguardError as e:
            if e.reason != "NOT_FOUND":
                raise
            shown = {"facialIds": [], "consent": None}
        d = disclosure()
        return render_template("dashboard.html", shown=shown, d=d)

    @app.post("/face-login/delete")
    def delete_face_data():
        if request.form.get("confirm") != "yes":
            abort(400, "Deleting needs a confirmation.")
        try:
            fioguard().facial_id_delete(subject(), confirm=True, reason="user_request")
            flash("Your face data is being deleted, here and at FACEIO.")
        except FioguardError as e:
            if e.reason != "NOT_FOUND":
                raise
            flash("There was no face data to delete.")
        return redirect(url_for("dashboard"))

    @app.post("/face-login/withdraw")
    def withdraw_consent():
        try:
            fioguard().consent_revoke(subject(), reason="user_request")
            flash("Your consent is withdrawn and your face data is being deleted.")
        except FioguardError as e:
            if e.reason != "NOT_FOUND":
                raise
            flash("There was no consent to withdraw.")
        return redirect(url_for("dashboard"))

    @app.post("/account/delete")
    def delete_account():
        if request.form.get("confirm") != "yes":
            abort(400, "Deleting needs a confirmation.")
        try:
            fioguard().subject_erase(subject(), confirm=True)
        except FioguardError as e:
            if e.reason != "NOT_FOUND":
                raise
        session.clear()
        return render_template("message.html", title="Your account is deleted",
                               text="Your account, your consent and every Facial ID are deleted, "
                                    "here and at FACEIO.")

    @app.post("/demo/new-user")
    def new_user():
        session.clear()
        return redirect(url_for("notice"))

    return app


if __name__ == "__main__":
    create_app().run(host="localhost", port=int(os.environ.get("PORT", "5000")), debug=False)
