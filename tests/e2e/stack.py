"""The whole app as `make run` starts it, on free ports, for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from mail_catcher.__main__ import start as start_mail_catcher
from rxapp import migrate
from rxapp.services.notify.mailbox import CaughtMail, list_caught_mail
from tests.conftest import free_port
from zoom_sandbox.config import SandboxConfig
from zoom_sandbox.testing import run_sandbox

WEBHOOK_SECRET = "e2e-webhook-secret"

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    url: str
    database_url: str
    mail_dir: Path
    env: dict[str, str]
    sandbox_url: str = ""
    log: Path | None = None
    pid: int = 0  # the `reflex run` process (leader of its own process group)
    extras: dict[str, object] = field(default_factory=dict)

    def zoom(self, method: str, path: str, **kwargs: object) -> dict:
        """Call the sandbox's control API (`/_sandbox/...`)."""
        response = httpx.request(method, f"{self.sandbox_url}/_sandbox{path}", timeout=30, **kwargs)  # type: ignore[arg-type]
        response.raise_for_status()
        return response.json() if response.content else {}

    def mail_to(self, address: str, subject_contains: str = "", timeout: float = 15.0) -> list[CaughtMail]:
        """Caught mail for `address` (waiting up to `timeout` for at least one)."""
        deadline = time.time() + timeout
        while True:
            found = [m for m in list_caught_mail(self.mail_dir) if address in m.to and subject_contains in m.subject]
            if found or time.time() > deadline:
                return found
            time.sleep(0.2)


def _wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited early:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the app did not start:\n{log.read_text()[-4000:]}")


@contextmanager
def run_stack(workdir: Path, extra_env: dict[str, str] | None = None, demo: bool = True) -> Iterator[Stack]:
    """The app (with the Zoom sandbox and a mail catcher) on fresh ports and a fresh SQLite database:
    the demo practice loaded, or (`demo=False`) empty, as a new installation starts."""
    port, smtp_port = free_port(), free_port()
    db_url = f"sqlite:///{workdir / 'e2e.db'}"
    mail_dir = workdir / "mail"
    app_url = f"http://localhost:{port}"
    sandbox_config = SandboxConfig(enable_control=True, redirect_uri=f"{app_url}/auth/zoom/callback",
                                   webhook_url=f"http://127.0.0.1:{port}/api/zoom/webhook",
                                   webhook_secret=WEBHOOK_SECRET, webhook_retry_delays=(0.5, 1.0))
    with ExitStack() as stack:
        sandbox = stack.enter_context(run_sandbox(sandbox_config))
        yield from _run_app(stack, workdir, port, smtp_port, db_url, mail_dir, sandbox.base_url, extra_env, demo)


def _run_app(stack: ExitStack, workdir: Path, port: int, smtp_port: int, db_url: str, mail_dir: Path,
             sandbox_url: str, extra_env: dict[str, str] | None, demo: bool = True) -> Iterator[Stack]:
    env = {
        **os.environ,
        "APP_ENV": "development",
        "APP_PORT": str(port),
        "APP_URL": f"http://localhost:{port}",
        "DATABASE_URL": db_url,
        "SMTP_PORT": str(smtp_port),
        "MAIL_CATCHER_DIR": str(mail_dir),
        "SMS_CATCHER_DIR": str(workdir / "sms"),
        "OUTBOX_POLL_SECONDS": "0.5",
        "ZOOM_OAUTH_BASE_URL": sandbox_url,
        "ZOOM_API_BASE_URL": f"{sandbox_url}/v2",
        "ZOOM_WEBHOOK_SECRET_TOKEN": WEBHOOK_SECRET,
        "REFLEX_STATES_WORKDIR": str(workdir / "states"),
        # Parallel runs (several developers on one machine) each need their own build folder.
        "REFLEX_WEB_WORKDIR": os.environ.get("E2E_WEB_WORKDIR", ".web"),
        **(extra_env or {}),
    }
    # This process talks to the same database and sandbox as the app (the services used by tests);
    # restored when the stack stops, so a second stack does not leave the first one's tests stranded.
    shared = ("DATABASE_URL", "SMTP_PORT", "MAIL_CATCHER_DIR", "SMS_CATCHER_DIR", "APP_URL", "ZOOM_OAUTH_BASE_URL",
              "ZOOM_API_BASE_URL")
    previous = {k: os.environ.get(k) for k in shared}
    os.environ.update({k: env[k] for k in shared})
    from tests.conftest import reset_app_caches

    def _restore_environment() -> None:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_app_caches()

    stack.callback(_restore_environment)
    reset_app_caches()
    migrate.upgrade(db_url)
    if demo:
        subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "rxapp.manage", "demo-data"], env=env, cwd=ROOT,
                       check=True, capture_output=True)
    catcher = start_mail_catcher("127.0.0.1", smtp_port, mail_dir)
    stack.callback(catcher.stop)
    log = workdir / "app.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/reflex"), "run", "--env", "prod", "--single-port",
             "--frontend-port", str(port), "--backend-port", str(port), "--loglevel", "info"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def _stop() -> None:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)

    stack.callback(_stop)
    _wait_for(f"http://127.0.0.1:{port}/login/", proc, log)
    _wait_for(f"http://127.0.0.1:{port}/api/health", proc, log)
    yield Stack(url=f"http://localhost:{port}", database_url=db_url, mail_dir=mail_dir, env=env,
                sandbox_url=sandbox_url, log=log, pid=proc.pid)
