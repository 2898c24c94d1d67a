"""Sending e-mail over SMTP. Blocking smtplib runs in a worker thread so the event loop keeps serving.

Connections are kept open between messages (a few, one per concurrent send): a new one costs a TCP handshake, the
greeting and EHLO, and QUIT, more than the message itself. A kept one is asked NOOP before it carries a message, so
one the server dropped meanwhile is replaced before anything was sent on it; one left idle too long is closed.

Failures say whose they are: :class:`ChannelUnavailable` when the mail server can't be reached or is not taking mail
right now (refused, timed out, disconnected, 421) — nothing is wrong with the message; :class:`MessageRefused` when
the server refused this message (permanently for a 5xx reply, for now for a 4xx one).
"""
from __future__ import annotations

import asyncio
import re
import smtplib
import threading
import time
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

# Lines up to RFC 5322's hard limit: at the default 78 a header too long to fold (a List-Unsubscribe URL) would be
# RFC 2047-encoded, and no mail client would recognise it.
MESSAGE_POLICY = policy.SMTP.clone(max_line_length=998)


class ChannelUnavailable(Exception):
    """The mail server is unreachable or not accepting mail; every message would fail the same way now."""


class MessageRefused(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def _classified(exc: BaseException) -> Exception:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return MessageRefused(f"recipient refused: {exc.recipients}", permanent=all(code >= 500 for code in codes))
    if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code != 421:
        return MessageRefused(f"{exc.smtp_code} {exc.smtp_error!r}", permanent=exc.smtp_code >= 500)
    if isinstance(exc, (OSError, smtplib.SMTPException)):  # refused, timed out, disconnected, 421 closing
        return ChannelUnavailable(f"{type(exc).__name__}: {exc}")
    return exc


# Servers close connections idle for minutes (RFC 5321 asks them to wait at least five); ours are retired sooner.
IDLE_CONNECTION_S = 30.0
KEPT_CONNECTIONS = 4


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str, timeout_s: float = 10.0) -> None:
        self.host, self.port, self.sender, self.timeout_s = host, port, sender, timeout_s
        self._idle: list[tuple[smtplib.SMTP, float]] = []  # (connection, idle since), newest last
        self._lock = threading.Lock()

    @staticmethod
    def message_id(notification_id: str, sender: str) -> str:
        """Unique per notification (a resend is the same message), on the sender's own domain."""
        domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
        return f"<{re.sub(r'[^A-Za-z0-9.-]', '.', notification_id)}@{domain}>"

    async def send(self, *, notification_id: str, recipient: str, subject: str, body: str,
                   headers: dict[str, str], sender: str | None = None, reply_to: str | None = None,
                   html: str | None = None, attachments: list[tuple[str, str, bytes]] | None = None) -> str:
        """Send one message: plain text, and the same as HTML when ``html`` is given (multipart/alternative);
        with ``attachments`` (filename, media type, content) the whole is multipart/mixed."""
        message = EmailMessage(policy=MESSAGE_POLICY)
        sender = sender or self.sender
        message["From"] = sender
        if reply_to:
            message["Reply-To"] = reply_to
        message["To"] = recipient
        # RFC 3834: machine-sent, so auto-responders (out of office) do not answer it.
        message["Auto-Submitted"] = "auto-generated"
        message["Subject"] = subject
        # "+0000", not formatdate's "-0000", which RFC 5322 reads as "zone unknown".
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = self.message_id(notification_id, sender)
        for name, value in headers.items():
            message[name] = value
        message.set_content(body, charset="utf-8")
        if html:
            message.add_alternative(html, subtype="html", charset="utf-8")
        for filename, media_type, content in attachments or []:
            maintype, _, subtype = media_type.partition("/")
            # A calendar says it publishes events (RFC 5546), so mail clients offer "add to calendar", not "reply".
            params = {"method": "PUBLISH"} if media_type == "text/calendar" else None
            message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename, params=params)
        try:
            await asyncio.to_thread(self._deliver, message)
        except Exception as exc:
            raise _classified(exc) from exc
        return message["Message-ID"]

    async def probe(self) -> None:
        """Is the mail server taking mail? Raises :class:`ChannelUnavailable` if not."""
        try:
            await asyncio.to_thread(self._noop)
        except Exception as exc:
            raise _classified(exc) from exc

    def close(self) -> None:
        """Say goodbye on every kept connection (at shutdown)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection, _ in idle:
            _quit(connection)

    def _deliver(self, message: EmailMessage) -> None:
        connection = self._kept_connection() or smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        try:
            connection.send_message(message)
        except BaseException:
            _close(connection)
            raise
        self._keep(connection)

    def _kept_connection(self) -> smtplib.SMTP | None:
        """A kept connection that still answers, if there is one."""
        while True:
            now = time.monotonic()
            with self._lock:
                stale = [connection for connection, since in self._idle if now - since > IDLE_CONNECTION_S]
                self._idle = [(connection, since) for connection, since in self._idle
                              if now - since <= IDLE_CONNECTION_S]
                connection = self._idle.pop()[0] if self._idle else None
            for old in stale:
                _quit(old)
            if connection is None:
                return None
            try:
                if connection.noop()[0] == 250:
                    return connection
            except (smtplib.SMTPException, OSError):
                pass
            _close(connection)

    def _keep(self, connection: smtplib.SMTP) -> None:
        with self._lock:
            if len(self._idle) < KEPT_CONNECTIONS:
                self._idle.append((connection, time.monotonic()))
                return
        _quit(connection)

    def _noop(self) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            code, reply = smtp.noop()
            if code != 250:
                raise smtplib.SMTPResponseException(code, reply)


def _quit(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except (smtplib.SMTPException, OSError):
        _close(connection)


def _close(connection: smtplib.SMTP) -> None:
    try:
        connection.close()
    except OSError:
        pass
