"""Bookings with vendors and their confirmations. Plain Python: no I/O."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from trip_shared.clock import utc_now
from trip_shared.errors import ConflictError, DomainError


class InvalidBooking(DomainError):
    code = "invalid-booking"


@dataclass
class Booking:
    id: str
    tenant_id: str
    itinerary_id: str
    vendor_name: str
    description: str | None = None
    item_id: str | None = None
    status: Literal["requested", "confirmed"] = "requested"
    confirmation_code: str | None = None
    confirmed_at: datetime | None = None
    version: int = 1
    created_at: datetime = field(default_factory=utc_now)

    @classmethod
    def request(cls, tenant_id: str, itinerary_id: str, vendor_name: str, description: str | None = None,
                item_id: str | None = None) -> Booking:
        vendor_name = (vendor_name or "").strip()
        if not vendor_name:
            raise InvalidBooking("vendor_name is required and cannot be blank.", code="vendor-required")
        return cls(id=str(uuid.uuid4()), tenant_id=tenant_id, itinerary_id=itinerary_id, vendor_name=vendor_name,
                   description=(description or "").strip() or None, item_id=item_id)

    def confirm(self, confirmation_code: str) -> bool:
        """Record the vendor's confirmation; False when this exact confirmation was already recorded."""
        code = (confirmation_code or "").strip()
        if not code:
            raise InvalidBooking("confirmation_code is required and cannot be blank.", code="confirmation-required")
        if self.status == "confirmed":
            if code == self.confirmation_code:
                return False
            raise ConflictError(
                f"This booking was already confirmed with code {self.confirmation_code}; a different code "
                f"needs a new booking or an amendment.", code="already-confirmed")
        self.status, self.confirmation_code, self.confirmed_at = "confirmed", code, utc_now()
        self.version += 1
        return True
