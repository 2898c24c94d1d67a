"""Sending e-mail over SMTP. Blocking smtplib runs in a worker thread so the event loop keeps serving.

Failures say whose they are: :class:`ChannelUnavailable` when the mail server can't be reached or is not taking mail
right now (refused, timed out, disconnected, 421) — nothing is wrong with the message; :class:`MessageRefused` when
the server refused this message (permanently for a 5xx reply, for now for a 4xx one).
"""
from __future__ import annotations

import asyncio
import re
import smtplib
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


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str, timeout_s: float = 10.0) -> None:
        self.host, self.port, self.sender, self.timeout_s = host, port, sender, timeout_s

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

    def _deliver(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            smtp.send_message(message)

    def _noop(self) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            code, reply = smtp.noop()
            if code != 250:
                raise smtplib.SMTPResponseException(code, reply)
