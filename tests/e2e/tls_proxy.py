"""A TLS-terminating TCP proxy for end-to-end tests: https (and wss) in front of the app's plain port,
as the reverse proxy of a real deployment puts it, with a self-signed certificate made at start.

It pipes bytes both ways and understands nothing of HTTP, so pages, routes and the event websocket all
pass; the browser has to be told to accept the certificate (`ignore_https_errors=True`)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import ssl
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TlsProxy:
    port: int  # on 127.0.0.1

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"


def write_self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, valid for a day; returns (certificate, key) files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "localhost.crt", folder / "localhost.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():  # to the app (plain TCP): the browser is done sending, the app may still answer
            writer.write_eof()
        else:
            writer.close()
    except OSError:  # a reset or a TLS error on either side ends the connection
        writer.close()


async def _serve(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter,
                 upstream_port: int) -> None:
    try:
        app_reader, app_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
    except OSError:
        client_writer.close()
        return
    try:
        await asyncio.gather(_pipe(client_reader, app_writer), _pipe(app_reader, client_writer))
    finally:
        for writer in (app_writer, client_writer):
            writer.close()


@contextlib.contextmanager
def run_tls_proxy(upstream_port: int) -> Iterator[TlsProxy]:
    """https://127.0.0.1:<free port> forwarding to 127.0.0.1:`upstream_port` (plain), in a thread of its own."""
    with tempfile.TemporaryDirectory(prefix="e2e-tls-") as folder:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*write_self_signed_certificate(Path(folder)))
        loop = asyncio.new_event_loop()
        # A browser dropping a connection mid-handshake is ordinary here, not worth a traceback.
        loop.set_exception_handler(lambda _loop, ctx: log.debug("tls proxy: %s", ctx.get("message")))
        connections: set[asyncio.Task] = set()

        def track(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = loop.create_task(_serve(reader, writer, upstream_port))
            connections.add(task)
            task.add_done_callback(connections.discard)

        started: Future[asyncio.Server] = Future()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                server = loop.run_until_complete(asyncio.start_server(track, "127.0.0.1", 0, ssl=context))
            except Exception as exc:
                started.set_exception(exc)
                return
            started.set_result(server)
            loop.run_forever()

        thread = threading.Thread(target=run, name="e2e-tls-proxy", daemon=True)
        thread.start()
        server = started.result(timeout=10)
        try:
            yield TlsProxy(port=server.sockets[0].getsockname()[1])
        finally:
            async def shut_down() -> None:
                server.close()
                for task in list(connections):
                    task.cancel()
                await asyncio.gather(*connections, return_exceptions=True)

            asyncio.run_coroutine_threadsafe(shut_down(), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()
