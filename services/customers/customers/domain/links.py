"""Links a customer opens from an e-mail: each works once, and a newer one of the same kind replaces it.

A profile-form link is spent by the submission it carries; asking for a new one (or the planner sending another)
supersedes the old. An e-mail address changed through the form is used for trip mail only once its owner opened
the confirmation link sent to that very address. Plain Python: no I/O.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from trip_shared.clock import utc_now
from trip_shared.web.signed_links import InvalidLink

Purpose = Literal["customer-profile", "customer-email-confirmation"]


@dataclass
class IssuedLink:
    customer_id: str
    tenant_id: str
    purpose: Purpose
    expires_at: datetime
    email: str | None = None  # the address a confirmation link confirms
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    issued_at: datetime = field(default_factory=utc_now)
    used_at: datetime | None = None
    superseded_at: datetime | None = None

    def check_usable(self, customer_id: str) -> None:
        if self.customer_id != customer_id:
            raise InvalidLink("This link was not issued for this customer.")
        if self.used_at is not None:
            raise InvalidLink("This link was already used. Ask your travel planner for a new one.",
                              code="link-used")
        if self.superseded_at is not None:
            raise InvalidLink("A newer link was sent to you since; please use that one.", code="link-superseded")

    def use(self) -> None:
        self.used_at = utc_now()


def masked_passport(number: str | None) -> str | None:
    """What a page may show of a passport number: its last four characters."""
    if not number:
        return None
    return "•" * max(len(number) - 4, 1) + number[-4:]
