"""`make run` as a developer uses it: however it is stopped (Ctrl-C, `kill -TERM` of make, a closed
terminal, a kill of make's process group) it leaves no process behind, and it leaves the work tree
as it found it. Slow (each start builds the frontend), so it lives with the browser tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from devtools.ports import free_port
from tests.e2e.stack import ROOT, frontend_build_lock


def _git_status() -> set[str]:
    result = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip("not a git work tree")
    return set(result.stdout.splitlines())


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for p in processes:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(p)
        except psutil.NoSuchProcess:
            pass
    return alive


def _command_lines(processes: list[psutil.Process]) -> list[str]:
    """The command lines of those still running; one that exits meanwhile is skipped (run.sh's
    `sleep 1` and `ps` come and go every second)."""
    lines = []
    for p in _alive(processes):
        with contextlib.suppress(psutil.NoSuchProcess):
            lines.append(" ".join(p.cmdline()))
    return lines


class MakeRun:
    """`make run` in its own session (as a terminal's foreground job) on free ports and a throwaway database."""

    def __init__(self, workdir: Path, target: str = "run", extra_env: dict[str, str] | None = None) -> None:
        # One frontend build at a time (stack.frontend_build_lock): held from before the work tree is
        # looked at until the caller releases it (`build_turn.close()`), so that what the tree looks like
        # afterwards is this run's doing, not a build of the other test process's.
        self.build_turn = contextlib.ExitStack()
        self.build_turn.enter_context(frontend_build_lock())
        self.git_status_before = _git_status()
        self.workdir = workdir
        self.app_port, self.sandbox_port, self.mail_port = free_port(), free_port(), free_port()
        env = {
            **os.environ,
            "APP_ENV": "development",
            "APP_PORT": str(self.app_port),
            "ZOOM_SANDBOX_PORT": str(self.sandbox_port),
            "MAIL_CATCHER_PORT": str(self.mail_port),
            "DATABASE_URL": f"sqlite:///{workdir / 'run.db'}",
            "MAIL_CATCHER_DIR": str(workdir / "mail"),
            "ZOOM_SANDBOX_STATE_FILE": str(workdir / "zoom-sandbox.json"),
            "REFLEX_STATES_WORKDIR": str(workdir / "states"),
            "RUN_LOG_DIR": str(workdir / "logs"),
            # Its own build folder: the session's stack serves from .web meanwhile.
            "REFLEX_WEB_WORKDIR": f".web-make-{target}",
            **(extra_env or {}),
        }
        self.env = env
        for key in ("APP_URL", "SMTP_PORT", "ZOOM_OAUTH_BASE_URL", "ZOOM_API_BASE_URL", "ZOOM_REDIRECT_URI",
                    "ZOOM_WEBHOOK_URL"):
            env.pop(key, None)
        self.output = workdir / "make.out"
        self.output.touch()
        # Its output goes through a pipe, as into a terminal or `| tee`: a reader that goes away (a closed
        # terminal, a killed tee) must not stop the clean-up half-way.
        self.proc = subprocess.Popen(["make", "--no-print-directory", target], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=_as_from_a_terminal)
        self._reader = threading.Thread(target=self._copy_output, daemon=True)
        self._reader.start()

    def _copy_output(self) -> None:
        with self.output.open("wb") as out:
            try:
                for line in self.proc.stdout:  # type: ignore[union-attr]
                    out.write(line)
                    out.flush()
            except (ValueError, OSError):  # the reader was closed: the terminal went away
                pass

    def close_terminal(self) -> None:
        """The reading end goes away, as a closed terminal's or a killed `tee`'s does."""
        os.close(self.proc.stdout.fileno())  # type: ignore[union-attr]

    def wait_until_serving(self, timeout: float = 400) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            assert self.proc.poll() is None, f"make run stopped early:\n{self.output.read_text()[-3000:]}"
            if "Press Ctrl-C to stop everything" in self.output.read_text():
                return
            time.sleep(0.2)
        raise AssertionError(f"make run did not start:\n{self.output.read_text()[-3000:]}")

    def ports_in_use(self) -> list[int]:
        in_use = []
        for port in (self.app_port, self.sandbox_port, self.mail_port):
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                in_use.append(port)
            except httpx.HTTPError as exc:
                if not isinstance(exc, httpx.ConnectError):
                    in_use.append(port)
        return in_use


def _as_from_a_terminal() -> None:
    """In the child before `make` starts: Ctrl-C, hang-up and quit do what they do to a terminal's job.
    A runner started in the background (`nohup`, `cmd &` in a script) passes them on ignored, and
    a shell cannot trap a signal it started with ignored, so the stops below would test nothing."""
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[MakeRun]:
    run = MakeRun(tmp_path)
    started: list[psutil.Process] = []
    run.started = started  # type: ignore[attr-defined]
    yield run
    # Whatever the test left running is ours: stop it by id so a failure does not leak processes.
    for p in _alive([*started, *_descendants(run.proc.pid)]):
        p.kill()
    if run.proc.poll() is None:
        os.killpg(run.proc.pid, signal.SIGKILL)
        run.proc.wait()
    run.build_turn.close()


def _closed_terminal(run: MakeRun) -> None:
    run.close_terminal()
    os.killpg(run.proc.pid, signal.SIGHUP)  # the shell of a closed terminal hangs up its jobs


def _group_killed_with_its_reader(run: MakeRun) -> None:
    run.close_terminal()  # e.g. `make run | tee run.log` and the whole pipeline's group is killed
    os.killpg(run.proc.pid, signal.SIGTERM)


STOPS = {
    "ctrl-c": lambda run: os.killpg(run.proc.pid, signal.SIGINT),  # the terminal signals the whole job
    "kill-term-make": lambda run: os.kill(run.proc.pid, signal.SIGTERM),
    "kill-term-group": lambda run: os.killpg(run.proc.pid, signal.SIGTERM),
    "closed-terminal": _closed_terminal,
    "group-killed-with-its-reader": _group_killed_with_its_reader,
    "make-killed": lambda run: os.kill(run.proc.pid, signal.SIGKILL),  # nothing left to forward a signal
}


@pytest.mark.parametrize("how", list(STOPS))
def test_make_run_leaves_no_process_behind(make_run: MakeRun, how: str) -> None:
    make_run.wait_until_serving()
    started = _descendants(make_run.proc.pid)
    make_run.started.extend(started)  # type: ignore[attr-defined]
    names = " ".join(_command_lines(started))
    assert "zoom_sandbox" in names and "mail_catcher" in names and "reflex" in names, names

    STOPS[how](make_run)
    deadline = time.time() + 30
    while (make_run.proc.poll() is None or _alive(started)) and time.time() < deadline:
        time.sleep(0.1)
    survivors = [line[:120] for line in _command_lines(started)]
    assert not survivors, f"still running after {how}: {survivors}\n{make_run.output.read_text()[-2000:]}"
    assert make_run.proc.poll() is not None, "make itself did not stop"
    assert not make_run.ports_in_use()
    # `make run` rewrote nothing tracked (reflex.lock/package.json kept its committed form) and left no
    # untracked file outside the ignored folders.
    assert _git_status() <= make_run.git_status_before, sorted(_git_status() - make_run.git_status_before)
