"""The whole app as `make run` starts it, on free ports, for end-to-end tests."""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from devtools.ports import free_port
from mail_catcher.__main__ import start as start_mail_catcher
from rxapp import migrate
from rxapp.services.notify.mailbox import CaughtMail, list_caught_mail
from tests.e2e.tls_proxy import run_tls_proxy
from zoom_sandbox.config import SandboxConfig
from zoom_sandbox.testing import http, run_sandbox

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
        response = http().request(method, f"{self.sandbox_url}/_sandbox{path}", **kwargs)  # type: ignore[arg-type]
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


@contextmanager
def frontend_build_lock() -> Iterator[None]:
    """Held from a start of the app until it serves: one frontend build at a time on this machine.

    Every build (in whatever `.web*` folder) writes the repo's `reflex.lock/` back, and a first build
    installs from it: two at once (the browser tests run in two processes, each starting stacks and
    `make run`) leave it truncated and the next install refused. A lock file in the repo, so that
    separate pytest processes (and benchmarks, which start the same stack) take turns."""
    path = ROOT / "var" / "frontend-build.lock"
    path.parent.mkdir(exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
def run_stack(workdir: Path, extra_env: dict[str, str] | None = None, demo: bool = True,
              production: bool = False) -> Iterator[Stack]:
    """The app (with the Zoom sandbox and a mail catcher) on fresh ports and a fresh SQLite database:
    the demo practice loaded, or (`demo=False`) empty, as a new installation starts.

    `production=True` runs it as a practice would (`APP_ENV=production`, so never with demo data): behind
    https (a TLS proxy with a self-signed certificate), with secure cookies, its own encryption key and
    Zoom credentials that are not the sandbox's defaults. `Stack.url` is then the https address; the
    browser context needs `ignore_https_errors=True`."""
    if production and demo:
        raise ValueError("production never loads the demo practice: pass demo=False")
    port, smtp_port = free_port(), free_port()
    db_url = f"sqlite:///{workdir / 'e2e.db'}"
    mail_dir = workdir / "mail"
    with ExitStack() as stack:
        if production:
            # 127.0.0.1, not localhost: under https Reflex's frontend sends the event socket of a
            # "localhost" backend to port 443 (state.js getBackendURL), wherever the page came from.
            app_url = stack.enter_context(run_tls_proxy(port)).url
            mode = {**_production_env(app_url), **(extra_env or {})}
        else:
            app_url, mode = f"http://localhost:{port}", {"APP_ENV": "development", **(extra_env or {})}
        sandbox_config = SandboxConfig(enable_control=True, redirect_uri=f"{app_url}/auth/zoom/callback",
                                       webhook_url=f"http://127.0.0.1:{port}/api/zoom/webhook",
                                       client_id=mode.get("ZOOM_CLIENT_ID", SandboxConfig.client_id),
                                       client_secret=mode.get("ZOOM_CLIENT_SECRET", SandboxConfig.client_secret),
                                       webhook_secret=WEBHOOK_SECRET, webhook_retry_delays=(0.5, 1.0))
        sandbox = stack.enter_context(run_sandbox(sandbox_config))
        yield from _run_app(stack, workdir, port, app_url, smtp_port, db_url, mail_dir, sandbox.base_url, mode,
                            demo)


def _production_env(app_url: str) -> dict[str, str]:
    """What `production_problems` (rxapp/settings.py) asks of a production start, for an app at `app_url`."""
    return {
        "APP_ENV": "production",
        # The frontend's backend address: Reflex's default (localhost) would lose the proxy's port.
        "REFLEX_API_URL": app_url,
        "COOKIE_SECURE": "true",
        "SECRET_KEYS": Fernet.generate_key().decode(),
        "ZOOM_CLIENT_ID": "e2e-client-id",
        "ZOOM_CLIENT_SECRET": "e2e-client-secret",
        "DEV_PLUGINS": "",
    }


def _run_app(stack: ExitStack, workdir: Path, port: int, app_url: str, smtp_port: int, db_url: str,
             mail_dir: Path, sandbox_url: str, extra_env: dict[str, str], demo: bool) -> Iterator[Stack]:
    env = {
        **os.environ,
        "APP_PORT": str(port),
        "APP_URL": app_url,
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
        **extra_env,
    }
    # This process talks to the same database and sandbox as the app (the services used by tests);
    # restored when the stack stops, so a second stack does not leave the first one's tests stranded.
    shared = [k for k in ("DATABASE_URL", "SMTP_PORT", "MAIL_CATCHER_DIR", "SMS_CATCHER_DIR", "APP_URL",
                          "ZOOM_OAUTH_BASE_URL", "ZOOM_API_BASE_URL", "SECRET_KEYS", "ZOOM_CLIENT_ID",
                          "ZOOM_CLIENT_SECRET") if k in env]
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
    with frontend_build_lock():
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
    yield Stack(url=app_url, database_url=db_url, mail_dir=mail_dir, env=env,
                sandbox_url=sandbox_url, log=log, pid=proc.pid)
