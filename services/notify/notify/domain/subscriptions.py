"""An agency's own platforms (its CRM, its chat desk) subscribing to the messages notify sends. Plain Python: no I/O.

Each endpoint names the kinds of message it wants (or every kind); each message of those kinds is posted to it as
signed JSON, retried with backoff until it takes it, as a delivery of its own in the log.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from notify.domain.preferences import ESSENTIAL_KINDS, OPTIONAL_KINDS
from trip_shared.clock import utc_now
from trip_shared.errors import DomainError

EVERY_KIND = "*"
# What notify sends to a client or to the agency's desk: what an endpoint may subscribe to.
SUBSCRIBABLE_KINDS = sorted({*ESSENTIAL_KINDS, *OPTIONAL_KINDS, "bookings_confirmed", "day_summary",
                             "reminder_7d", "booking_escalated", "incident_escalated", "urgent_unacknowledged",
                             "call_requested", "complaint_new", "complaint_escalated"})
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class InvalidEndpoint(DomainError):
    code = "invalid-webhook-endpoint"
    title = "This endpoint cannot be used"


@dataclass
class WebhookEndpoint:
    id: str
    url: str
    kinds: list[str]
    description: str | None = None
    secret_generation: int = 0
    created_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        url = urlsplit(self.url)
        # Messages carry clients' names and trips: only over TLS, except to this machine (local platforms, tests).
        if url.scheme != "https" and not (url.scheme == "http" and url.hostname in _LOOPBACK):
            raise InvalidEndpoint("The endpoint must be an https:// address (http:// only to this machine).")
        unknown = sorted(set(self.kinds) - {EVERY_KIND, *SUBSCRIBABLE_KINDS})
        if not self.kinds or unknown:
            raise InvalidEndpoint(f"Unknown kinds: {', '.join(unknown)}." if unknown else "Name at least one kind.",
                                  subscribable_kinds=[EVERY_KIND, *SUBSCRIBABLE_KINDS])

    def wants(self, kind: str) -> bool:
        return EVERY_KIND in self.kinds or kind in self.kinds

    def rotate_secret(self) -> None:
        self.secret_generation += 1


def platform_payload(message, tenant_id: str) -> str:
    """What a subscribed platform receives: the message as the client (or the desk) gets it, and where it went."""
    return json.dumps({
        "type": f"message.{message.kind}", "tenant_id": tenant_id,
        "message": {"id": message.id, "kind": message.kind, "audience": message.audience,
                    "channel": message.channel, "status": message.status, "itinerary_id": message.itinerary_id,
                    "customer_id": message.customer_id, "recipient": message.recipient,
                    "language": message.language, "subject": message.subject, "text": message.body,
                    "created_at": message.created_at.isoformat()},
    }, ensure_ascii=False)
