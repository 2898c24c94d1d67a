"""Itineraries and the rules for linking customers and Points of Contact (POCs). Plain Python: no I/O."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from trip_shared.clock import utc_now
from trip_shared.errors import ConflictError, DomainError, NotFoundError

MAX_TITLE = 200
EDITABLE_FIELDS = ("title", "start_date", "end_date")


class InvalidItinerary(DomainError):
    code = "invalid-itinerary"


class PocRuleViolation(ConflictError):
    code = "last-poc"


@dataclass
class LinkedCustomer:
    customer_id: str
    is_poc: bool
    linked_at: datetime = field(default_factory=utc_now)


@dataclass(frozen=True)
class MembershipChanged:
    """What a membership operation did, for the service layer to announce."""

    kind: Literal["linked", "unlinked", "poc_changed"]
    customer_id: str
    is_poc: bool
    reason: str | None = None


@dataclass
class Notice:
    """Something the platform changed on the planner's behalf, for them to review."""

    kind: str
    message: str
    at: datetime = field(default_factory=utc_now)


@dataclass
class Itinerary:
    id: str
    tenant_id: str
    title: str
    start_date: date | None = None
    end_date: date | None = None
    stage: str = "inquiry"
    customers: list[LinkedCustomer] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    version: int = 1
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)

    @classmethod
    def draft(cls, tenant_id: str, title: str, start_date: date | None = None,
              end_date: date | None = None) -> Itinerary:
        itinerary = cls(id=str(uuid.uuid4()), tenant_id=tenant_id, title="")
        itinerary._set_details({"title": title, "start_date": start_date, "end_date": end_date})
        return itinerary

    # --- details ---------------------------------------------------------------------------------------------

    def revise(self, changes: dict) -> list[tuple[str, object, object]]:
        """Change title and dates; returns (field, before, after) for each field that really changed."""
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            raise InvalidItinerary(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
        before = {name: getattr(self, name) for name in EDITABLE_FIELDS}
        self._set_details({**before, **changes})
        changed = [(name, before[name], getattr(self, name)) for name in EDITABLE_FIELDS
                   if before[name] != getattr(self, name)]
        if changed:
            self._touch()
        return changed

    def _set_details(self, details: dict) -> None:
        title = (details.get("title") or "").strip()
        if not title:
            raise InvalidItinerary("title is required and cannot be blank.", code="title-required")
        if len(title) > MAX_TITLE:
            raise InvalidItinerary(f"title is longer than {MAX_TITLE} characters.", code="title-too-long")
        start, end = details.get("start_date"), details.get("end_date")
        if start and end and end < start:
            raise InvalidItinerary(f"end_date {end} is before start_date {start}.", code="end-before-start")
        self.title, self.start_date, self.end_date = title, start, end

    # --- customers and POCs ----------------------------------------------------------------------------------

    @property
    def pocs(self) -> list[LinkedCustomer]:
        return [linked for linked in self.customers if linked.is_poc]

    def linked(self, customer_id: str) -> LinkedCustomer:
        for linked in self.customers:
            if linked.customer_id == customer_id:
                return linked
        raise NotFoundError(f"Customer {customer_id} is not linked to this itinerary.", code="customer-not-linked")

    def is_linked(self, customer_id: str) -> bool:
        return any(linked.customer_id == customer_id for linked in self.customers)

    def link(self, customer_id: str, is_poc: bool | None = None) -> MembershipChanged:
        """Link a customer. The first one is the POC unless said otherwise, and cannot be said otherwise."""
        if self.is_linked(customer_id):
            raise ConflictError(f"Customer {customer_id} is already linked to this itinerary.", code="already-linked")
        first = not self.customers
        if is_poc is None:
            is_poc = first
        if first and not is_poc:
            raise ConflictError(
                "The first customer linked to an itinerary must be a point of contact: an itinerary with customers "
                "needs at least one.", code="poc-required")
        self.customers.append(LinkedCustomer(customer_id=customer_id, is_poc=is_poc))
        self._touch()
        return MembershipChanged("linked", customer_id, is_poc)

    def set_poc(self, customer_id: str, is_poc: bool) -> MembershipChanged | None:
        """Flag or un-flag a POC; None when nothing changes."""
        linked = self.linked(customer_id)
        if linked.is_poc == is_poc:
            return None
        if not is_poc and self.pocs == [linked]:
            raise PocRuleViolation(
                "This customer is the itinerary's only point of contact. Make another linked customer a point of "
                "contact first.")
        linked.is_poc = is_poc
        self._touch()
        return MembershipChanged("poc_changed", customer_id, is_poc)

    def unlink(self, customer_id: str) -> MembershipChanged:
        """Remove a customer. The only POC can go only if nobody else is left."""
        linked = self.linked(customer_id)
        if linked.is_poc and self.pocs == [linked] and len(self.customers) > 1:
            raise PocRuleViolation(
                "This customer is the itinerary's only point of contact. Make another linked customer a point of "
                "contact first, or remove the other customers.")
        self.customers.remove(linked)
        self._touch()
        return MembershipChanged("unlinked", customer_id, False)

    def drop_customer(self, customer_id: str, reason: str) -> MembershipChanged:
        """The customer's record is gone (deleted, merged): unlink them whatever the POC rule; the caller then
        calls :meth:`restore_poc_rule`."""
        self.customers.remove(self.linked(customer_id))
        self._touch()
        return MembershipChanged("unlinked", customer_id, False, reason=reason)

    def restore_poc_rule(self, removed_customer_id: str) -> MembershipChanged | None:
        """After a POC disappeared without the planner: the next linked customer becomes the POC, and the planner
        gets a notice saying so. None when the rule still holds."""
        if not self.customers or self.pocs:
            return None
        successor = self.customers[0]
        successor.is_poc = True
        self._touch()
        self.notices.append(Notice(
            kind="poc_reassigned",
            message=f"Customer {removed_customer_id}, the only point of contact, was deleted; customer "
                    f"{successor.customer_id} is the point of contact now. Check this is right."))
        return MembershipChanged("poc_changed", successor.customer_id, True, reason="poc_deleted")

    def passport_expires_too_soon(self, passport_expiry: date | None) -> bool:
        """A passport that ends before the trip does (or on its last day) needs renewing before departure."""
        last_day = self.end_date or self.start_date
        return passport_expiry is not None and last_day is not None and passport_expiry <= last_day

    def _touch(self) -> None:
        self.version += 1
        self.updated_at = utc_now()
