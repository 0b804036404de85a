"""Real receivers on loopback for the alert channels: an SMTP server (aiosmtpd) with optional
STARTTLS, SMTPS and AUTH, a self-signed certificate made here, and an HTTP receiver that records
every request and answers from a script (503 twice, then 200...)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from alert_helpers import (
    SMTP_PASSWORD,
    SMTP_USER,
    Clock,
    Inbox,
    Receiver,
    Request,
    SmtpServer,
    Tls,
    free_port,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A self-signed certificate for localhost and 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return Tls(cert_path, key_path)


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login == SMTP_USER.encode()
        and data.password == SMTP_PASSWORD.encode()
    )
    if ok:
        server.event_handler.logins.append(SMTP_USER)
    return AuthResult(success=ok, handled=False)


def _serve(inbox: Inbox, **kwargs: Any) -> Iterator[SmtpServer]:
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, inbox)
    finally:
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """Plain SMTP, no TLS, no AUTH."""
    yield from _serve(Inbox())


@pytest.fixture
def smtp_starttls(tls: Tls) -> Iterator[SmtpServer]:
    """STARTTLS required, then AUTH (PLAIN/LOGIN) with SMTP_USER / SMTP_PASSWORD required."""
    yield from _serve(
        Inbox(),
        tls_context=tls.server_context(),
        require_starttls=True,
        authenticator=_authenticate,
        auth_required=True,
        auth_require_tls=True,
    )


@pytest.fixture
def smtps(tls: Tls) -> Iterator[SmtpServer]:
    """SMTP over TLS from the first byte (port 465 style), with AUTH offered."""
    yield from _serve(
        Inbox(),
        ssl_context=tls.server_context(),
        authenticator=_authenticate,
        # aiosmtpd counts only STARTTLS as TLS: on SMTPS, AUTH is offered (and checked) but not
        # required, which it would otherwise warn about
        auth_require_tls=False,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    port = free_port()
    rec = Receiver(f"http://127.0.0.1:{port}/hooks/p2c")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with rec.lock:
                rec.requests.append(Request(self.path, dict(self.headers.items()), body))
            status, headers = rec.answer()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sleeps() -> list[float]:
    """Collects the back-off delays a channel asked for (passed as its ``sleep``)."""
    return []
