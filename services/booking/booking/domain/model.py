"""A booking: one service of a trip reserved with one supplier, from request to confirmation or cancellation.
Plain Python: no I/O.

A booking keeps what the supplier was asked for (the service in its local time and zone, the party, each
traveller's requirements as its own line), every answer, and a history of every move: who, when, through which
channel. Each message that expects the supplier's answer is a *round*; an answer to an earlier round is stale.

    requested → confirmed | declined | expired
    confirmed → amendment_requested → confirmed | declined
    requested | confirmed | amendment_requested → cancellation_requested → cancelled
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from booking.domain.follow_up import BookingSettings, chase_interval, reconfirm_from
from trip_shared.clock import utc_now
from trip_shared.errors import ConflictError, DomainError
from trip_shared.money import Money

STATUSES = ("requested", "confirmed", "declined", "expired", "amendment_requested", "cancellation_requested",
            "cancelled")
# A booking still holding (or about to hold) the service: it can be amended or cancelled.
OPEN_STATUSES = ("requested", "confirmed", "amendment_requested")
# A booking that fell through or ended: nothing more happens to it.
CLOSED_STATUSES = ("declined", "expired", "cancelled")
# Where the supplier's answer is awaited, and what it answers.
AWAITING = {"requested": "request", "amendment_requested": "amendment", "cancellation_requested": "cancellation"}
CHANNELS = ("api", "phone", "email", "webhook", "system")
# What a supplier must hear of again when it changes after the request.
SERVICE_FIELDS = ("title", "start", "end", "timezone", "end_timezone", "place", "end_place", "mode")
MAX_TEXT = 2000


class InvalidBooking(DomainError):
    code = "invalid-booking"


class BookingConflict(ConflictError):
    code = "booking-state-conflict"


@dataclass(frozen=True)
class Deposit:
    amount: str
    currency: str
    due_date: date


@dataclass
class RequirementLine:
    """One traveller's one need, acknowledged by the supplier on its own."""

    id: str
    traveller_id: str | None
    traveller_name: str | None
    kind: str  # dietary, accessibility, other
    text: str
    acknowledged_at: datetime | None = None
    acknowledged_via: str | None = None
    supplier_note: str | None = None


@dataclass(frozen=True)
class Transition:
    at: datetime
    actor: str
    channel: str
    from_status: str | None
    to_status: str
    note: str | None = None


@dataclass
class Booking:
    id: str
    tenant_id: str
    itinerary_id: str
    vendor_name: str  # the supplier's name when requested, as itinerary shows it
    item_id: str | None = None
    supplier_id: str | None = None
    supplier_language: str = "en"
    service: dict = field(default_factory=dict)  # the item as the supplier was (last) told of it
    party_adults: int = 0
    party_children: int = 0
    travellers: list[dict] = field(default_factory=list)  # [{customer_id, name}] as the supplier was told
    requirements: list[RequirementLine] = field(default_factory=list)
    price: Money | None = None
    deposit: Deposit | None = None
    vendor_note: str | None = None
    respond_by: datetime | None = None
    description: str | None = None
    status: str = "requested"
    round: int = 1  # the message the supplier's answer must be to
    confirmation_code: str | None = None
    confirmed_price: Money | None = None
    confirmed_at: datetime | None = None
    voucher_url: str | None = None  # the client's signed link to the voucher, made at the first confirmation
    decline_reason: str | None = None
    alternative: str | None = None
    amendment_changes: list[str] = field(default_factory=list)
    amendment_reason: str | None = None
    cancellation_reason: str | None = None
    cancellation_reference: str | None = None
    # What the trip changed since the supplier was told: the planner sends an amendment or a cancellation.
    attention: str | None = None  # None, "amendment" or "cancellation"
    attention_changes: list[str] = field(default_factory=list)
    history: list[Transition] = field(default_factory=list)
    # Following up: when the current round's message (or its last reminder) went, how many reminders, whether the
    # planner was told, and the reconfirmation before the service. ``follow_up_at`` is when the clock looks again.
    last_message_at: datetime | None = None
    chases: int = 0
    escalated_at: datetime | None = None
    reconfirmation_requested_at: datetime | None = None
    reconfirmed_at: datetime | None = None
    follow_up_at: datetime | None = None
    version: int = 1
    created_at: datetime = field(default_factory=utc_now)

    # --- creation -----------------------------------------------------------------------------------------------

    @classmethod
    def request(cls, tenant_id: str, itinerary_id: str, *, supplier, item: dict, travellers: list[dict],
                party: dict | None, price: Money | None = None, deposit: Deposit | None = None,
                vendor_note: str | None = None, respond_by: datetime | None = None, actor: str,
                now: datetime | None = None) -> Booking:
        """A request to ``supplier`` for ``item`` (an itinerary item snapshot), for the trip's travellers."""
        now = now or utc_now()
        if not supplier.active:
            raise BookingConflict(f"Supplier {supplier.name} is inactive; reactivate it or choose another.",
                                  code="supplier-inactive")
        if respond_by is not None and respond_by <= now:
            raise InvalidBooking("respond_by must be in the future.", code="invalid-respond-by")
        if deposit is not None and price is not None and deposit.currency == price.currency \
                and Decimal(deposit.amount) > Decimal(price.amount):
            raise InvalidBooking("The deposit is more than the price.", code="invalid-deposit")
        vendor_note = _text(vendor_note, "vendor_note")
        booking = cls(id=str(uuid.uuid4()), tenant_id=tenant_id, itinerary_id=itinerary_id,
                      vendor_name=supplier.name, item_id=item["item_id"], supplier_id=supplier.id,
                      supplier_language=supplier.language, price=price, deposit=deposit, vendor_note=vendor_note,
                      respond_by=respond_by, created_at=now)
        booking._tell(item, travellers, party)
        booking.history.append(Transition(now, actor, "api", None, "requested"))
        booking._new_round(now)
        return booking

    def _new_round(self, now: datetime) -> None:
        self.last_message_at, self.chases, self.escalated_at = now, 0, None

    def _tell(self, item: dict, travellers: list[dict], party: dict | None) -> None:
        """What the supplier is (now) told: the service, the party and each need, acknowledged afresh."""
        self.service = service_of(item)
        self.travellers = [{"customer_id": t["customer_id"], "name": t.get("name")} for t in travellers]
        if party:
            self.party_adults, self.party_children = party.get("adults", 0), party.get("children", 0)
        else:
            self.party_adults, self.party_children = len(travellers), 0
        previous = {(line.traveller_id, line.kind, line.text): line for line in self.requirements}
        lines = []
        for traveller in travellers:
            for need in traveller.get("requirements") or []:
                key = (traveller["customer_id"], need["kind"], need["text"])
                # A need the supplier already acknowledged stays acknowledged when the request is re-sent.
                lines.append(previous.get(key) or RequirementLine(
                    id=f"r{len(lines) + 1}-{uuid.uuid4().hex[:6]}", traveller_id=traveller["customer_id"],
                    traveller_name=traveller.get("name"), kind=need["kind"], text=need["text"]))
        self.requirements = lines

    # --- answers from the supplier (or recorded by the planner) ---------------------------------------------------

    def awaits(self, round_: int) -> str | None:
        """What an answer to ``round_`` would answer now: None when that message is no longer awaiting one."""
        return AWAITING.get(self.status) if round_ == self.round else None

    def confirm(self, code: str, *, actor: str, channel: str, price: Money | None = None,
                note: str | None = None, now: datetime | None = None) -> bool:
        """The supplier confirmed the request or the amendment; False when this very confirmation is known."""
        code = (code or "").strip()
        if not code:
            raise InvalidBooking("confirmation_code is required and cannot be blank.", code="confirmation-required")
        if self.status == "confirmed":
            if code == self.confirmation_code:
                return False
            raise BookingConflict(
                f"This booking was already confirmed with code {self.confirmation_code}; a different code "
                "needs an amendment.", code="already-confirmed")
        self._require("confirm", "requested", "amendment_requested")
        now = now or utc_now()
        self.confirmation_code, self.confirmed_at = code, now
        if price is not None:
            self.confirmed_price = price
        self.amendment_changes, self.amendment_reason = [], None
        self._move("confirmed", actor, channel, note or f"confirmation {code}", now)
        return True

    def decline(self, reason: str, *, actor: str, channel: str, alternative: str | None = None,
                now: datetime | None = None) -> bool:
        reason = _text(reason, "reason")
        if not reason:
            raise InvalidBooking("A decline needs its reason.", code="reason-required")
        if self.status == "declined" and self.decline_reason == reason:
            return False
        self._require("decline", "requested", "amendment_requested")
        self.decline_reason, self.alternative = reason, _text(alternative, "alternative")
        self._move("declined", actor, channel, reason, now or utc_now())
        return True

    def acknowledge(self, requirement_ids: list[str], *, actor: str, channel: str, note: str | None = None,
                    now: datetime | None = None) -> list[RequirementLine]:
        """The supplier acknowledged these needs; returns those newly acknowledged."""
        if self.status in CLOSED_STATUSES:
            raise BookingConflict(f"This booking is {self.status}; there is nothing to acknowledge.",
                                  code="booking-closed")
        known = {line.id: line for line in self.requirements}
        unknown = [rid for rid in requirement_ids if rid not in known]
        if unknown:
            raise InvalidBooking(f"No requirement {', '.join(unknown)} on this booking.", code="unknown-requirement")
        now = now or utc_now()
        newly = []
        for rid in dict.fromkeys(requirement_ids):
            line = known[rid]
            if line.acknowledged_at is None:
                line.acknowledged_at, line.acknowledged_via = now, channel
                line.supplier_note = _text(note, "note")
                newly.append(line)
        if newly:
            self.history.append(Transition(now, actor, channel, self.status, self.status,
                                           "acknowledged: " + "; ".join(line.text for line in newly)))
            self.version += 1
        return newly

    @property
    def traveller_names(self) -> list[str]:
        return [t["name"] for t in self.travellers if t.get("name")]

    @property
    def unacknowledged(self) -> list[RequirementLine]:
        return [line for line in self.requirements if line.acknowledged_at is None]

    def expire(self, now: datetime) -> bool:
        """No answer by ``respond_by``: the request lapses (a late answer is stale)."""
        if self.status != "requested" or self.respond_by is None or self.respond_by > now:
            return False
        self._move("expired", "system", "system", f"no answer by {self.respond_by.isoformat()}", now)
        return True

    # --- changes the agency asks for ----------------------------------------------------------------------------

    def request_amendment(self, item: dict, travellers: list[dict], party: dict | None, *, changes: list[str],
                          reason: str | None, actor: str, now: datetime | None = None) -> None:
        """Ask the supplier to change a held booking to what the trip says now. A request not yet answered is
        re-sent as it is now instead (it stays requested, and the old link goes stale)."""
        now = now or utc_now()
        self._require("amend", "requested", "confirmed")
        changes = [text for text in (_text(change, "changes") for change in changes) if text] \
            or list(self.attention_changes) or describe_changes(self.service, service_of(item))
        if not changes:
            raise InvalidBooking("Say what the amendment changes: nothing differs from what the supplier was told.",
                                 code="nothing-to-amend")
        self._tell(item, travellers, party)
        self.amendment_changes, self.amendment_reason = changes, _text(reason, "reason")
        self.attention, self.attention_changes = None, []
        self.round += 1
        self._new_round(now)
        self.reconfirmation_requested_at = self.reconfirmed_at = None
        note = "; ".join(changes)
        if self.status == "requested":
            self.history.append(Transition(now, actor, "api", "requested", "requested", f"request re-sent: {note}"))
            self.version += 1
        else:
            self._move("amendment_requested", actor, "api", note, now)

    def request_cancellation(self, reason: str, *, actor: str, now: datetime | None = None) -> None:
        reason = _text(reason, "reason")
        if not reason:
            raise InvalidBooking("A cancellation needs its reason.", code="reason-required")
        self._require("cancel", *OPEN_STATUSES)
        self.cancellation_reason = reason
        self.attention, self.attention_changes = None, []
        self.round += 1
        now = now or utc_now()
        self._new_round(now)
        self._move("cancellation_requested", actor, "api", reason, now)

    def confirm_cancellation(self, reference: str, *, actor: str, channel: str,
                             now: datetime | None = None) -> bool:
        reference = (reference or "").strip()
        if not reference:
            raise InvalidBooking("The supplier's cancellation reference is required.", code="reference-required")
        if self.status == "cancelled":
            if reference == self.cancellation_reference:
                return False
            raise BookingConflict(f"This booking was already cancelled with reference {self.cancellation_reference}.",
                                  code="already-cancelled")
        self._require("record a cancellation of", "cancellation_requested")
        self.cancellation_reference = reference
        self._move("cancelled", actor, channel, f"cancellation reference {reference}", now or utc_now())
        return True

    # --- the trip changed ------------------------------------------------------------------------------------------

    def trip_changed(self, item: dict | None, travellers: list[dict], party: dict | None,
                     trip_cancelled: bool = False) -> bool:
        """Compare what the supplier was told with the trip now; True when what needs doing changed."""
        if self.status not in OPEN_STATUSES and self.status != "cancellation_requested":
            return False
        before = (self.attention, list(self.attention_changes))
        if self.status == "cancellation_requested":
            self.attention, self.attention_changes = None, []
        elif item is None or trip_cancelled:
            self.attention = "cancellation"
            self.attention_changes = ["the trip was cancelled" if trip_cancelled else "the item was removed"]
        else:
            told = replace(self, requirements=[replace(line) for line in self.requirements])
            told._tell(item, travellers, party)
            changes = describe_changes(self.service, told.service)
            if (told.party_adults, told.party_children) != (self.party_adults, self.party_children):
                changes.append(f"party: {self.party_adults}+{self.party_children} → "
                               f"{told.party_adults}+{told.party_children}")
            if sorted(told.traveller_names) != sorted(self.traveller_names):
                changes.append("travellers: " + ", ".join(told.traveller_names))
            if {(r.traveller_id, r.kind, r.text) for r in told.requirements} != \
                    {(r.traveller_id, r.kind, r.text) for r in self.requirements}:
                changes.append("requirements: " + ("; ".join(f"{r.traveller_name or r.traveller_id}: {r.text}"
                                                             for r in told.requirements) or "none"))
            self.attention = "amendment" if changes else None
            self.attention_changes = changes
        if (self.attention, self.attention_changes) == before:
            return False
        self.version += 1
        return True

    def forget_traveller(self, customer_id: str) -> None:
        """An erased traveller: their name and their needs go; the booking itself stays."""
        self.requirements = [line for line in self.requirements if line.traveller_id != customer_id]
        self.travellers = [t for t in self.travellers if t["customer_id"] != customer_id]
        self.version += 1

    # --- following up -------------------------------------------------------------------------------------------

    @property
    def service_starts_at(self) -> datetime | None:
        starts_at = (self.service or {}).get("starts_at")
        if isinstance(starts_at, str):
            return datetime.fromisoformat(starts_at)
        return starts_at

    def _follow_ups(self, settings: BookingSettings) -> list[tuple[str, datetime]]:
        """Each step the clock will take on its own, and from when, in the order they count."""
        steps = []
        if self.status == "requested" and self.respond_by is not None:
            steps.append(("expire", self.respond_by))
        if self.status in AWAITING and self.escalated_at is None and self.last_message_at is not None:
            steps.append(("chase" if self.chases < settings.chases_before_escalation else "escalate",
                          self.last_message_at + chase_interval(settings)))
        if self.status == "confirmed" and self.reconfirmation_requested_at is None and self.service_starts_at:
            start = reconfirm_from(self.service_starts_at, settings)
            if start is not None:
                steps.append(("reconfirm", start))
        return steps

    def due(self, now: datetime, settings: BookingSettings) -> str | None:
        """The one follow-up step due now: expire, chase, escalate or reconfirm (not once the service began)."""
        for step, at in self._follow_ups(settings):
            if at <= now and (step != "reconfirm" or now < self.service_starts_at):
                return step
        return None

    def schedule(self, settings: BookingSettings) -> None:
        """When the clock should look at this booking next (None: nothing will be due on its own)."""
        times = [at for _, at in self._follow_ups(settings)]
        self.follow_up_at = min(times) if times else None

    def chase(self, now: datetime) -> None:
        self.chases += 1
        self.last_message_at = now
        self.history.append(Transition(now, "system", "system", self.status, self.status,
                                       f"reminder {self.chases} sent"))
        self.version += 1

    def escalate(self, now: datetime) -> None:
        self.escalated_at = now
        self.history.append(Transition(now, "system", "system", self.status, self.status,
                                       f"no answer after {self.chases} reminder(s): the planner is told"))
        self.version += 1

    def request_reconfirmation(self, now: datetime) -> None:
        self.reconfirmation_requested_at = now
        self.history.append(Transition(now, "system", "system", self.status, self.status,
                                       "reconfirmation requested"))
        self.version += 1

    def reconfirm(self, *, actor: str, channel: str, now: datetime | None = None) -> bool:
        """The supplier says the confirmed booking still stands; False when it already said so."""
        self._require("reconfirm", "confirmed")
        if self.reconfirmed_at is not None:
            return False
        now = now or utc_now()
        self.reconfirmed_at = now
        self.history.append(Transition(now, actor, channel, self.status, self.status, "reconfirmed"))
        self.version += 1
        return True

    # --- plumbing -----------------------------------------------------------------------------------------------

    def _require(self, action: str, *statuses: str) -> None:
        if self.status not in statuses:
            raise BookingConflict(f"Cannot {action} a booking that is {self.status.replace('_', ' ')}; only one "
                                  f"that is {' or '.join(s.replace('_', ' ') for s in statuses)}.")

    def _move(self, to_status: str, actor: str, channel: str, note: str | None, now: datetime) -> None:
        self.history.append(Transition(now, actor, channel, self.status, to_status, note))
        self.status = to_status
        self.version += 1


def service_of(item: dict) -> dict:
    """The parts of an itinerary item a supplier is told of."""
    return {name: item.get(name) for name in ("kind", "title", "start", "end", "timezone", "end_timezone",
                                               "starts_at", "ends_at", "place", "end_place", "mode")}


def describe_changes(told: dict, now: dict) -> list[str]:
    changes = []
    for name in SERVICE_FIELDS:
        if (told.get(name) or None) != (now.get(name) or None):
            changes.append(f"{name.replace('_', ' ')}: {_shown(told.get(name))} → {_shown(now.get(name))}")
    return changes


def _shown(value) -> str:
    if isinstance(value, dict):
        return value.get("address") or (f"{value.get('lat')},{value.get('lon')}" if value.get("lat") is not None
                                        else "—")
    return str(value) if value not in (None, "") else "—"


def _text(value: str | None, what: str) -> str | None:
    value = (value or "").strip() or None
    if value and len(value) > MAX_TEXT:
        raise InvalidBooking(f"{what} is longer than {MAX_TEXT} characters.", code="text-too-long")
    return value
