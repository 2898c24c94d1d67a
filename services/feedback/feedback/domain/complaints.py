"""Complaints: what a client is unhappy about, why it happened, what the agency offers, and whether the client
takes it. No I/O.

A complaint is recorded by staff, by the client on their trip page, or from a low survey score, and moves
``received → analysed → proposed → accepted → closed``. The client answers a proposal (an apology, a credit or a
refund) on a signed page: accepting it, or escalating it, which sends it back to the agency for a better one with a
shorter deadline. Each step is on its timeline, and the client's own words are kept as they wrote them.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from feedback.domain.records import TimelineEntry, checked_text
from trip_shared.errors import ConflictError, DomainError
from trip_shared.money import Money

SOURCES = ("staff", "client", "survey")
CAUSES = ("supplier", "agency", "external")
REMEDIES = ("apology", "credit", "refund")
STATUSES = ("received", "analysed", "proposed", "escalated", "accepted", "closed")
LANGUAGES = ("en", "zh-Hans")
# Service recovery is judged by speed: a first offer within three days, a better one within two after an
# escalation; the client has two weeks to answer an offer.
PROPOSAL_WITHIN = timedelta(days=3)
ESCALATION_ANSWERED_WITHIN = timedelta(days=2)
ANSWER_WITHIN = timedelta(days=14)
MAX_SHORT, MAX_TEXT = 200, 5000
# Where the agency owes the next step (an offer, a better one, carrying out the one accepted): a deadline runs.
AGENCY_TURN = ("received", "analysed", "escalated", "accepted")


class InvalidComplaint(DomainError):
    code = "invalid-complaint"


class ComplaintConflict(ConflictError):
    code = "complaint-state-conflict"


def _text(name: str, value: str | None, limit: int = MAX_TEXT, required: bool = False) -> str | None:
    return checked_text(InvalidComplaint, name, value, limit, required)


@dataclass(frozen=True)
class Proposal:
    remedy: str
    money: Money | None
    message: str  # to the client, in the words the agency chose for them
    proposed_at: datetime
    proposed_by: str

    @classmethod
    def of(cls, remedy: str, amount: str | None, currency: str | None, message: str | None, actor: str,
           now: datetime) -> Proposal:
        if remedy not in REMEDIES:
            raise InvalidComplaint(f"remedy must be one of {', '.join(REMEDIES)}.", code="invalid-remedy")
        if remedy == "apology":
            if amount is not None or currency is not None:
                raise InvalidComplaint("An apology has no amount; offer a credit or a refund for money.",
                                       code="invalid-amount")
            money = None
        else:
            if amount is None or currency is None:
                raise InvalidComplaint(f"A {remedy} names its amount and currency.", code="missing-amount")
            money = Money.of(amount, currency, "amount")
            if Decimal(money.amount) <= 0:
                raise InvalidComplaint(f"A {remedy} is more than nothing.", code="invalid-amount")
        return cls(remedy, money, _text("message", message, required=True) or "", now, actor)


@dataclass
class Complaint:
    id: str
    tenant_id: str
    itinerary_id: str
    source: str
    complainant: str  # the customer id of the traveller who complained
    account: str  # what they said, as they said it (or as staff took it down)
    language: str
    received_at: datetime
    due_at: datetime | None  # when the agency owes its next step; None while the client has the turn
    owner: str | None = None
    status: str = "received"
    item_id: str | None = None
    booking_id: str | None = None
    supplier: str | None = None
    incident_id: str | None = None
    survey_response_id: str | None = None
    cause: str | None = None
    finding: str | None = None  # the agency's analysis: internal, never shown to the client
    proposals: list[Proposal] = field(default_factory=list)
    answer_by: datetime | None = None
    escalation_reason: str | None = None  # the client's words when they turned an offer down
    accepted_at: datetime | None = None
    closed_at: datetime | None = None
    version: int = 1
    timeline: list[TimelineEntry] = field(default_factory=list)

    @classmethod
    def record(cls, tenant_id: str, itinerary_id: str, *, source: str, complainant: str, account: str | None,
               actor: str, now: datetime, on_trip: list[str], items: list[str], language: str = "en",
               item_id: str | None = None, booking_id: str | None = None, supplier: str | None = None,
               incident_id: str | None = None, survey_response_id: str | None = None, owner: str | None = None,
               complaint_id: str | None = None) -> Complaint:
        """``on_trip``: the customers linked to the trip (only they complain about it); ``items``: its item ids."""
        if source not in SOURCES:
            raise InvalidComplaint(f"source must be one of {', '.join(SOURCES)}.", code="invalid-source")
        if complainant not in on_trip:
            raise InvalidComplaint(f"Customer {complainant} is not a traveller on this trip.",
                                   code="customer-not-on-trip")
        if item_id is not None and item_id not in items:
            raise InvalidComplaint(f"The trip has no item {item_id}.", code="item-not-on-trip")
        if language not in LANGUAGES:
            raise InvalidComplaint(f"language must be one of {', '.join(LANGUAGES)}.", code="invalid-language")
        account = _text("account", account, required=True) or ""
        complaint = cls(
            id=complaint_id or str(uuid.uuid4()), tenant_id=tenant_id, itinerary_id=itinerary_id, source=source,
            complainant=complainant, account=account, language=language, received_at=now,
            due_at=now + PROPOSAL_WITHIN, owner=_text("owner", owner, MAX_SHORT), item_id=item_id,
            booking_id=_text("booking_id", booking_id, 100), supplier=_text("supplier", supplier, MAX_SHORT),
            incident_id=_text("incident_id", incident_id, 100), survey_response_id=survey_response_id)
        complaint.timeline.append(TimelineEntry(now, actor, "received", f"Received ({source})"))
        return complaint

    # --- its life --------------------------------------------------------------------------------------------

    @property
    def proposal(self) -> Proposal | None:
        return self.proposals[-1] if self.proposals else None

    def overdue(self, now: datetime) -> bool:
        return self.status in AGENCY_TURN and self.due_at is not None and now >= self.due_at

    def _step(self, now: datetime, actor: str, kind: str, text: str) -> None:
        self.timeline.append(TimelineEntry(now, actor, kind, text))
        self.version += 1

    def _refuse_unless(self, *statuses: str, doing: str) -> None:
        if self.status not in statuses:
            raise ComplaintConflict(f"A complaint that is {self.status} cannot be {doing}.", status_now=self.status)

    def assign(self, owner: str | None, actor: str, now: datetime) -> None:
        self._refuse_unless(*STATUSES[:-1], doing="reassigned")
        self.owner = _text("owner", owner, MAX_SHORT, required=True)
        self._step(now, actor, "assigned", f"Owner: {self.owner}")

    def note(self, text: str | None, actor: str, now: datetime) -> None:
        """An internal note: what was found out, who was called."""
        self._refuse_unless(*STATUSES[:-1], doing="noted")
        self._step(now, actor, "note", _text("text", text, required=True) or "")

    def analyse(self, cause: str, finding: str | None, actor: str, now: datetime, *, booking_id: str | None = None,
                supplier: str | None = None) -> None:
        """Why it happened: the supplier's doing, the agency's, or nobody's (weather, strikes)."""
        self._refuse_unless("received", "analysed", "escalated", doing="analysed")
        if cause not in CAUSES:
            raise InvalidComplaint(f"cause must be one of {', '.join(CAUSES)}.", code="invalid-cause")
        if cause == "supplier" and not (supplier or self.supplier):
            raise InvalidComplaint("A supplier's fault names the supplier.", code="missing-supplier")
        self.cause, self.finding = cause, _text("finding", finding, required=True)
        self.booking_id = _text("booking_id", booking_id, 100) or self.booking_id
        self.supplier = _text("supplier", supplier, MAX_SHORT) or self.supplier
        self.owner = self.owner or actor
        if self.status == "received":
            self.status = "analysed"
        self._step(now, actor, "analysed", f"Cause: {cause}" + (f" ({self.supplier})" if cause == "supplier"
                                                                   else ""))

    def propose(self, proposal: Proposal) -> None:
        """An offer to the client, who then has the turn (their deadline: ``answer_by``)."""
        self._refuse_unless("analysed", "escalated", doing="offered a resolution")
        self.proposals.append(proposal)
        self.status, self.due_at = "proposed", None
        self.answer_by = proposal.proposed_at + ANSWER_WITHIN
        amount = f" of {proposal.money.amount} {proposal.money.currency}" if proposal.money else ""
        self._step(proposal.proposed_at, proposal.proposed_by, "proposed", f"Offered: {proposal.remedy}{amount}")

    def accept(self, actor: str, now: datetime) -> None:
        self._refuse_unless("proposed", doing="accepted")
        if now > (self.answer_by or now):
            raise ComplaintConflict("This offer has lapsed; the agency will be in touch.", code="offer-lapsed")
        self.status, self.accepted_at = "accepted", now
        self.due_at = now + PROPOSAL_WITHIN  # to carry it out: pay the refund, issue the credit
        self._step(now, actor, "accepted", "The client accepted the offer")

    def escalate(self, reason: str | None, actor: str, now: datetime) -> None:
        """The client turns the offer down: a more senior look, and a better offer, within two days."""
        self._refuse_unless("proposed", doing="escalated")
        self.escalation_reason = _text("reason", reason, required=True)
        self.status, self.answer_by, self.due_at = "escalated", None, now + ESCALATION_ANSWERED_WITHIN
        self._step(now, actor, "escalated", self.escalation_reason or "")

    def close(self, note: str | None, actor: str, now: datetime) -> None:
        """Done: an accepted offer carried out, or an offer the client let lapse."""
        lapsed = self.status == "proposed" and self.answer_by is not None and now > self.answer_by
        if self.status != "accepted" and not lapsed:
            raise ComplaintConflict(
                "Only an accepted offer, or one the client did not answer in time, is closed.",
                status_now=self.status)
        text = _text("note", note, required=lapsed) or "Carried out"
        self.status, self.closed_at, self.due_at = "closed", now, None
        self._step(now, actor, "closed", text)

    def forget_personal_text(self, erased: str) -> None:
        """An erased traveller's words go; what the agency counts (cause, remedy, amount, times) stays."""
        self.account = erased
        self.escalation_reason = erased if self.escalation_reason else None
        self.finding = erased if self.finding else None
        self.proposals = [Proposal(p.remedy, p.money, erased, p.proposed_at, p.proposed_by) for p in self.proposals]
        self.timeline = [TimelineEntry(e.at, e.actor, e.kind, erased if e.kind in ("note", "escalated") else e.text)
                         for e in self.timeline]


def client_actor(customer_id: str) -> str:
    """Who a step was by when the client took it on their page."""
    return f"client:{customer_id}"

