"""What the end-to-end tests read as a client would: the e-mails in the SMTP sink's Maildir."""
from __future__ import annotations

import mailbox
import uuid
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def mails_to(maildir: Path, address: str) -> list[Message]:
    box = mailbox.Maildir(maildir, create=False)
    return [message for message in box if address in str(message.get("To", ""))]


def subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _part(message: Message, content_type: str) -> str:
    for part in message.walk():
        if part.get_content_type() == content_type and not part.is_multipart():
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise LookupError(f"the message has no {content_type} part")


def text_of(message: Message) -> str:
    """The plain-text part, as a client whose mail program shows text reads it."""
    return _part(message, "text/plain")


def html_of(message: Message) -> str:
    return _part(message, "text/html")
