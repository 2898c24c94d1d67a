"""Sending e-mail over SMTP. Blocking smtplib runs in a worker thread so the event loop keeps serving."""
from __future__ import annotations

import asyncio
import re
import smtplib
from email.message import EmailMessage
from email.utils import formatdate


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str, timeout_s: float = 10.0) -> None:
        self.host, self.port, self.sender, self.timeout_s = host, port, sender, timeout_s

    @staticmethod
    def message_id(notification_id: str) -> str:
        return f"<{re.sub(r'[^A-Za-z0-9.-]', '.', notification_id)}@trip-desk>"

    async def send(self, *, notification_id: str, recipient: str, subject: str, body: str,
                   headers: dict[str, str]) -> str:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = recipient
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = self.message_id(notification_id)
        for name, value in headers.items():
            message[name] = value
        message.set_content(body, charset="utf-8")
        await asyncio.to_thread(self._deliver, message)
        return message["Message-ID"]

    def _deliver(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            smtp.send_message(message)
