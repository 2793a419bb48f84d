"""Shared by the tests: a fioguard daemon to talk to.

If FIOGUARD_SOCKET is set (run-example-tests.sh does), the tests use that daemon. Otherwise they start
their own from FIOGUARD_BIN (default: the repository's .build/debug) with the demo policy on a
temporary socket and database, and stop it (SIGTERM) when done.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
EXAMPLES = os.path.dirname(PYTHON_DIR)
REPO = os.path.dirname(EXAMPLES)
sys.path.insert(0, PYTHON_DIR)

from fioguard_client import FioguardClient  # noqa: E402


def unique(prefix: str) -> str:
    """A subject (or Facial ID) no other test run uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class Daemon:
    """The daemon under test: FIOGUARD_SOCKET's, or one started here."""

    def __init__(self, policy: str | None = None, extra_args: list[str] | None = None):
        self.policy = policy or os.path.join(EXAMPLES, "policy", "demo-policy.json")
        self.extra_args = extra_args or []
        self.process: subprocess.Popen | None = None
        self.tmp: str | None = None
        self.socket_path = ""

    def start(self) -> "Daemon":
        external = os.environ.get("FIOGUARD_SOCKET")
        if external and not self.extra_args and self.policy.endswith("demo-policy.json"):
            self.socket_path = external
            return self
        binary = os.path.join(os.environ.get("FIOGUARD_BIN", os.path.join(REPO, ".build", "debug")), "fioguard")
        self.tmp = tempfile.mkdtemp(prefix="fg-pytest-")
        self.socket_path = os.path.join(self.tmp, "fg.sock")
        self.log = open(os.path.join(self.tmp, "server.log"), "wb")
        self.process = subprocess.Popen(
            [binary, "serve", "--socket", self.socket_path, "--database", os.path.join(self.tmp, "db.sqlite"),
             "--policy", self.policy, "--log-level", "warning", *self.extra_args],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.socket_path):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"fioguard did not start ({binary})")
            time.sleep(0.05)
        return self

    def client(self, timeout: float = 10.0) -> FioguardClient:
        return FioguardClient(self.socket_path, timeout=timeout)

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.process = None
            self.log.close()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
