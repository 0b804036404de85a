"""The e-mail channel: one plain-text message per project and digest, over SMTP.

``ssl`` connects with TLS from the start (SMTPS, 465); ``starttls`` upgrades a plain connection
(587) and refuses to log in if the server does not offer it. Passwords never appear in an error:
smtplib exceptions can echo the AUTH exchange (base64 of the password), so every error text goes
through :func:`~p2c.alerts.deliver.redact` with the password, the username and their base64 forms.
"""

from __future__ import annotations

import base64
import smtplib
import socket
import ssl as ssl_module
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from p2c.alerts.deliver import Delivery, log, redact, retry_delay, subject_line
from p2c.alerts.model import Alert
from p2c.settings import Secret

__all__ = ["EmailChannel", "render_email"]


def render_email(project: str, alerts: Sequence[Alert], sent_at: datetime) -> tuple[str, str]:
    """``(subject, body)``: ``[p2c] contoso: run 12 failed`` and one paragraph per alert."""
    subject = f"[p2c] {subject_line(project, alerts)}"
    lines = [f"p2c needs attention for project {project}.", ""]
    for alert in alerts:
        head = f"- {alert.kind.value}"
        if alert.count > 1:
            head += f" ×{alert.count} (first {(alert.first_at or alert.at).isoformat()})"
        lines.append(f"{head}, {alert.at.isoformat()}")
        if alert.run_id is not None:
            lines.append(f"  run {alert.run_id}")
        lines.append(f"  {alert.summary}")
        if alert.message and alert.message != alert.summary:
            lines.extend(f"  {line}" for line in alert.message.splitlines())
        lines.append("")
    lines.append(f"Sent by p2c at {sent_at.isoformat()}.")
    return subject, "\n".join(lines) + "\n"


# SMTP reply codes that say "try again later" (RFC 5321 4yz); 5yz is final
def _smtp_transient(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPAuthenticationError | smtplib.SMTPNotSupportedError):
        return False
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    # disconnected, refused, timed out, DNS: no answer at all
    return isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError | OSError)


class EmailChannel:
    """Sends alerts by SMTP to ``to`` from ``sender``; ``password`` is kept as a :class:`Secret`.

    Example::

        mail = EmailChannel("smtp.example.com", 587, "p2c@example.com", ["ops@example.com"],
                            username="p2c", password=Secret("..."), starttls=True)
        mail.send("contoso", [alert], sent_at)    # Delivery(channel='email', ok=True, attempts=1)
    """

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        to: Sequence[str],
        username: str | None = None,
        password: str | Secret | None = None,
        starttls: bool = False,
        ssl: bool = False,
        timeout: float = 10.0,
        *,
        ssl_context: ssl_module.SSLContext | None = None,
        name: str = "email",
        attempts: int = 3,
        backoff: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if ssl and starttls:
            raise ValueError("give ssl or starttls, not both")
        self.host = host
        self.port = port
        self.sender = sender
        self.to = tuple(to)
        self.username = username
        self._password = Secret(password) if isinstance(password, str) else password
        self.starttls = starttls
        self.ssl = ssl
        self.timeout = timeout
        self.name = name
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self._sleep = sleep
        self._context = ssl_context

    def __repr__(self) -> str:
        return (
            f"EmailChannel({self.host!r}, {self.port}, to={list(self.to)!r}, "
            f"username={self.username!r}, password={self._password!r})"
        )

    def close(self) -> None:
        """Nothing to close: each message opens and closes its own SMTP connection."""

    def _secrets(self) -> list[str]:
        if self._password is None:
            return []
        password = self._password.get_secret_value()
        user = self.username or ""
        # AUTH PLAIN sends base64("\0user\0password"); AUTH LOGIN base64(password)
        plain = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        return [password, plain, plain.rstrip("=")]

    def _context_or_default(self) -> ssl_module.SSLContext:
        return self._context or ssl_module.create_default_context()

    def send(self, project: str, alerts: Sequence[Alert], sent_at: datetime) -> Delivery:
        subject, body = render_email(project, alerts, sent_at)
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self.sender
        message["To"] = ", ".join(self.to)
        message["Date"] = format_datetime(sent_at)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(body)
        count = sum(a.count for a in alerts)
        error = "not sent"
        for attempt in range(1, self.attempts + 1):
            try:
                refused = self._deliver(message)
            except (smtplib.SMTPException, OSError) as exc:
                error = self._describe(exc)
                if not _smtp_transient(exc) or attempt == self.attempts:
                    return Delivery(self.name, False, attempt, error, count)
                delay = retry_delay(None, None, attempt, self.backoff)
                log.debug("%s: attempt %d failed (%s), retrying in %.1fs", self.name, attempt, error, delay)
                self._sleep(delay or 0.0)
                continue
            if refused:
                # some recipients took it: delivered, but say who did not
                return Delivery(
                    self.name, True, attempt, f"refused recipients: {', '.join(sorted(refused))}", count
                )
            return Delivery(self.name, True, attempt, None, count)
        return Delivery(self.name, False, self.attempts, error, count)  # pragma: no cover - loop returns

    def _deliver(self, message: EmailMessage) -> dict[str, tuple[int, bytes]]:
        smtp: smtplib.SMTP
        if self.ssl:
            smtp = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._context_or_default()
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=self._context_or_default())
                smtp.ehlo()
            if self.username is not None and self._password is not None:
                smtp.login(self.username, self._password.get_secret_value())
            return smtp.send_message(message, self.sender, list(self.to))

    def _describe(self, exc: BaseException) -> str:
        where = f"{self.host}:{self.port}"
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            reason = f"login as {self.username!r} refused ({exc.smtp_code} {_text(exc.smtp_error)})"
        elif isinstance(exc, smtplib.SMTPNotSupportedError):
            reason = f"server does not support it: {exc}"
        elif isinstance(exc, smtplib.SMTPRecipientsRefused):
            reason = "every recipient refused: " + "; ".join(
                f"{rcpt} ({code} {_text(msg)})" for rcpt, (code, msg) in exc.recipients.items()
            )
        elif isinstance(exc, smtplib.SMTPResponseException):
            reason = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        elif isinstance(exc, ssl_module.SSLError | ssl_module.CertificateError):
            reason = f"TLS failed: {exc}"
        elif isinstance(exc, socket.timeout | TimeoutError):
            reason = f"timed out after {self.timeout:g}s"
        else:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return redact(f"SMTP {where}: {reason}", self._secrets())


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
