"""What a mail server's delivery status notification (RFC 3464) says of the messages notify sent. Plain Python.

A bounce comes back as ``multipart/report; report-type=delivery-status``: a human part, a ``message/delivery-status``
part with one block per recipient (``Action: failed`` and a ``Status: 5.x.x`` for a bounce, ``delivered`` when
success was reported), and the original's headers (``text/rfc822-headers`` or the whole ``message/rfc822``), whose
``Message-ID`` and ``X-Notification-Id`` say which notification it was. Both must match what notify recorded as
sent, so a report can only speak of the message it really answers.
"""
from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message

from trip_shared.errors import DomainError

REPORTED = {"failed": "bounced", "delivered": "delivered"}


class NotADeliveryReport(DomainError):
    code = "not-a-delivery-report"
    title = "Not a delivery status notification"


@dataclass(frozen=True)
class DeliveryReport:
    notification_id: str
    message_id: str
    status: str  # bounced or delivered
    detail: str  # the server's words: status code and diagnostic


def parse_report(raw: bytes) -> list[DeliveryReport]:
    """The outcomes a DSN reports (a delay reports none: the server is still trying)."""
    report = message_from_bytes(raw, policy=policy.default)
    if report.get_content_type() != "multipart/report" or report.get_param("report-type") != "delivery-status":
        raise NotADeliveryReport("Post the mail server's delivery status notification (RFC 3464): a "
                                 "multipart/report; report-type=delivery-status message.")
    status_part = next((part for part in report.walk() if part.get_content_type() == "message/delivery-status"), None)
    original = _original_headers(report)
    if status_part is None or original is None:
        raise NotADeliveryReport("The report has no delivery-status part or no headers of the original message.")
    notification_id, message_id = original.get("X-Notification-Id"), original.get("Message-ID")
    if not notification_id or not message_id:
        return []
    outcomes = []
    for block in _blocks(status_part)[1:]:  # the first block is about the message, the rest one per recipient
        status = REPORTED.get(str(block.get("Action", "")).strip().lower())
        if status:
            detail = " ".join(filter(None, [str(block.get("Status", "")).strip(),
                                            str(block.get("Diagnostic-Code", "")).strip()]))
            outcomes.append(DeliveryReport(str(notification_id).strip(), str(message_id).strip(), status, detail))
    return outcomes


def _blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload
    text = payload if isinstance(payload, str) else ""
    return [message_from_bytes(block.strip().encode() + b"\n", policy=policy.default)
            for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]


def _original_headers(report: Message) -> Message | None:
    for part in report.walk():
        if part.get_content_type() == "message/rfc822":
            payload = part.get_payload()
            return payload[0] if isinstance(payload, list) else payload
        if part.get_content_type() == "text/rfc822-headers":
            return message_from_bytes(part.get_payload(decode=True) or b"", policy=policy.default)
    return None
