"""Run the SMTP catcher: `python -m mail_catcher --port 1025 --dir var/mail`."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import time
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class SaveToDirectory:
    """aiosmtpd handler: writes each message, as received, to `<dir>/<time>-<id>.eml`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        tmp = self.directory / f".{name}.tmp"
        content = envelope.original_content or b""
        tmp.write_bytes(content if isinstance(content, bytes) else content.encode())
        tmp.rename(self.directory / name)  # atomic: readers never see half a message
        return "250 Message accepted"


def start(host: str, port: int, directory: Path) -> Controller:
    controller = Controller(SaveToDirectory(directory), hostname=host, port=port)
    controller.start()
    return controller


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("MAIL_CATCHER_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("MAIL_CATCHER_PORT", "1025")))
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("MAIL_CATCHER_DIR", "var/mail")))
    args = parser.parse_args()
    controller = start(args.host, args.port, args.dir)
    print(f"Mail catcher listening on {args.host}:{args.port}, saving to {args.dir}", flush=True)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()
