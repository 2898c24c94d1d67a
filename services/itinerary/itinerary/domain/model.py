"""Itineraries and the rules for linking customers and Points of Contact (POCs). Plain Python: no I/O."""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from itinerary.domain import feasibility
from itinerary.domain.agreements import Agreement
from itinerary.domain.budget import summarise
from itinerary.domain.items import (
    CLIENT_ITEM_FIELDS,
    INTERNAL_ITEM_FIELDS,
    MAX_ITEMS,
    Cost,
    InvalidItem,
    Item,
    Location,
    item_order,
    parse_local,
)
from itinerary.domain.proposals import (
    MAX_COMMENT,
    MAX_OPTIONS,
    Decision,
    InvalidProposal,
    OptionRequest,
    ProposalOption,
    ProposalRound,
    new_option_id,
    new_round_id,
    open_round,
)
from itinerary.domain.stages import OPEN_STAGES, STAGES, SYSTEM_ACTOR, Readiness, StageChange, allowed_moves
from trip_shared.clock import utc_now
from trip_shared.errors import ConflictError, DomainError, NotFoundError
from trip_shared.text import unsafe_character

MAX_TITLE = 200
EDITABLE_FIELDS = ("title", "start_date", "end_date", "markup_percent", "planner")
MAX_MARKUP = Decimal(500)


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


@dataclass(frozen=True)
class Change:
    """One field's before and after, in plain JSON values: the audit trail and ``itinerary.changed`` carry it."""

    field: str
    before: object
    after: object
    description: str


class ItemsWouldBeDropped(ConflictError):
    code = "items-outside-new-dates"


class StageMoveRefused(ConflictError):
    code = "stage-move-refused"


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
    items: list[Item] = field(default_factory=list)
    markup_percent: Decimal = Decimal(0)
    planner: str | None = None  # who at the agency looks after the trip (the agency's figures are kept per planner)
    stage_history: list[StageChange] = field(default_factory=list)
    proposal_rounds: list[ProposalRound] = field(default_factory=list)
    agreements: list[Agreement] = field(default_factory=list)
    version: int = 1
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)

    @classmethod
    def draft(cls, tenant_id: str, title: str, start_date: date | None = None,
              end_date: date | None = None, planner: str | None = None) -> Itinerary:
        itinerary = cls(id=str(uuid.uuid4()), tenant_id=tenant_id, title="")
        itinerary._set_details({"title": title, "start_date": start_date, "end_date": end_date, "planner": planner})
        return itinerary

    # --- details ---------------------------------------------------------------------------------------------

    def revise(self, changes: dict, *, drop_items_outside: bool = False) -> list[Change]:
        """Change title, dates and markup. Items that new dates would leave outside the trip are removed only when
        the caller says so (``drop_items_outside``); otherwise the change is refused, naming them."""
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            raise InvalidItinerary(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
        self._require_open("change the trip")
        before = {name: getattr(self, name) for name in EDITABLE_FIELDS}
        self._set_details({**before, **changes})
        outside = [item for item in self.items if item.outside(self.start_date, self.end_date)]
        if outside and not drop_items_outside:
            self._set_details(before)
            raise ItemsWouldBeDropped(
                f"The new dates would leave {len(outside)} item(s) outside the trip: "
                + "; ".join(f"'{item.title}' ({item.describe_when()})" for item in outside)
                + ". Move or delete them first, or confirm with drop_items_outside=true.",
                items=[item.id for item in outside])
        changed = [Change(name, _plain(before[name]), _plain(getattr(self, name)),
                          f"{name.replace('_', ' ')} changed from {_plain(before[name])} to "
                          f"{_plain(getattr(self, name))}")
                   for name in EDITABLE_FIELDS if before[name] != getattr(self, name)]
        for item in outside:
            self.items.remove(item)
            changed.append(Change(f"items.{item.id}", item_snapshot(item), None,
                                  f"'{item.title}' ({item.describe_when()}) removed: outside the new trip dates"))
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
        markup = Decimal(str(details.get("markup_percent") or 0))
        if not (0 <= markup <= MAX_MARKUP):
            raise InvalidItinerary(f"markup_percent must be between 0 and {MAX_MARKUP}.", code="invalid-markup")
        planner = (details.get("planner") or "").strip() or None
        if planner and len(planner) > MAX_TITLE:
            raise InvalidItinerary(f"planner is longer than {MAX_TITLE} characters.", code="planner-too-long")
        self.title, self.start_date, self.end_date, self.planner = title, start, end, planner
        self.markup_percent = markup.quantize(Decimal("0.01"))

    # --- items -----------------------------------------------------------------------------------------------

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise NotFoundError(f"No item {item_id} on this itinerary.", code="item-not-found")

    def add_item(self, fields: dict) -> tuple[Item, list[Change]]:
        self._require_open("add items")
        if len(self.items) >= MAX_ITEMS:
            raise InvalidItem(f"An itinerary holds at most {MAX_ITEMS} items.", code="too-many-items")
        item = Item.create(fields)
        item.created_at = utc_now()
        self._refuse_outside_dates(item)
        self._refuse_strangers(item)
        self.items.append(item)
        self.items.sort(key=item_order)
        self._touch()
        return item, [Change(f"items.{item.id}", None, item_snapshot(item),
                             f"'{item.title}' added ({item.describe_when()})")]

    def change_item(self, item_id: str, changes: dict) -> tuple[Item, list[Change]]:
        self._require_open("change items")
        current = self.item(item_id)
        updated = current.with_changes(changes)
        self._refuse_outside_dates(updated)
        self._refuse_strangers(updated)
        before, after = item_snapshot(current), item_snapshot(updated)
        changed = [Change(f"items.{item_id}.{name}", before.get(name), after.get(name),
                          _describe_item_change(updated, name, before.get(name), after.get(name)))
                   for name in [*after, *(name for name in before if name not in after)]
                   if before.get(name) != after.get(name)]
        if any(not change.field.endswith(tuple(f".{name}" for name in INTERNAL_ITEM_FIELDS)) for change in changed):
            updated.sequence = current.sequence + 1
        if changed:
            self.items[self.items.index(current)] = updated
            self.items.sort(key=item_order)
            self._touch()
        return updated, changed

    def _refuse_strangers(self, item: Item) -> None:
        """An item's travellers are some of the trip's (none named: everyone)."""
        linked = {linked.customer_id for linked in self.customers}
        strangers = [customer for customer in item.travellers or [] if customer not in linked]
        if strangers:
            raise InvalidItem(f"Not travellers on this trip: {', '.join(strangers)}.", code="customer-not-on-trip")

    def ask_agreement(self, changes: list[Change], reason: str | None) -> Agreement:
        """The clients must agree to these changes (just made): recorded with them, answered from their link. A
        change they would not see (a cost, a note) is not theirs to agree to."""
        if not any(len(parts := change.field.split(".")) == 2 or parts[-1] in CLIENT_ITEM_FIELDS
                   for change in changes):
            raise InvalidItinerary("The clients see nothing of this change (a cost, a vendor, a note): there is "
                                   "nothing for them to agree to.", code="nothing-to-agree")
        agreement = Agreement.ask(self.stage, [change.description for change in changes], reason)
        self.agreements.append(agreement)
        return agreement

    def record_agreement_answer(self, agreement_id: str, customer_id: str, answer: str,
                                at: datetime) -> Change | None:
        """A client's answer to a change they were asked to agree to; a call they asked for is the planner's to
        make, so it is also a notice. None when it changes nothing (an older answer arriving late)."""
        agreement = next((a for a in self.agreements if a.id == agreement_id), None)
        if agreement is None:
            return None
        before = agreement.status
        if not agreement.record(customer_id, answer, at):
            return None
        self._touch()
        what = "; ".join(agreement.changes)
        if answer == "call_me":
            self.notices.append(Notice(kind="call_requested",
                                       message=f"Customer {customer_id} asked to be called about: {what}"))
        return Change(f"agreements.{agreement_id}", before, agreement.status,
                      f"Customer {customer_id} {'agreed to' if answer == 'agreed' else 'asked for a call about'}: "
                      f"{what}")

    def remove_item(self, item_id: str) -> list[Change]:
        self._require_open("remove items")
        item = self.item(item_id)
        self.items.remove(item)
        self._touch()
        return [Change(f"items.{item.id}", item_snapshot(item), None,
                       f"'{item.title}' ({item.describe_when()}) removed")]

    def _refuse_outside_dates(self, item: Item) -> None:
        if item.outside(self.start_date, self.end_date):
            raise InvalidItem(f"'{item.title}' ({item.describe_when()}) falls outside the trip "
                              f"({self.start_date} to {self.end_date}); change the trip dates first.",
                              code="item-outside-trip-dates")

    def days(self) -> list[tuple[date, list[tuple[Item, str]]]]:
        return days_of(self.items)

    @property
    def first_start(self) -> datetime | None:
        starts = [item.start_utc for item in self.items if item.start is not None]
        return min(starts) if starts else None

    @property
    def last_end(self) -> datetime | None:
        ends = [item.end_utc for item in self.items if item.start is not None]
        return max(ends) if ends else None

    def feasibility(self, pace: str | None = None) -> list[feasibility.Finding]:
        return feasibility.check(self.items, start_date=self.start_date, end_date=self.end_date, pace=pace)

    def required_bookings(self) -> list[Item]:
        return [item for item in self.items if item.requires_booking]

    # --- stages ----------------------------------------------------------------------------------------------

    def move_to(self, stage: str, *, actor: str, now: datetime, readiness: Readiness,
                reason: str | None = None) -> Change:
        """Move to ``stage`` if the rules allow it now; the move and who made it go into the stage history."""
        if stage not in STAGES:
            raise InvalidItinerary(f"stage must be one of {', '.join(STAGES)}.", code="invalid-stage")
        if stage == self.stage:
            raise StageMoveRefused(f"The trip is already {stage}.")
        if stage not in allowed_moves(self.stage):
            allowed = ", ".join(allowed_moves(self.stage)) or "nowhere: it is final"
            raise StageMoveRefused(f"A trip that is {self.stage} cannot move to {stage}; it can move to {allowed}.")
        refusal = self._guard(stage, now, readiness)
        if refusal:
            raise StageMoveRefused(refusal)
        return self._record_stage(stage, actor, now, reason)

    def _guard(self, stage: str, now: datetime, readiness: Readiness) -> str | None:
        if stage == "proposed" and not self.items:
            return "A proposal needs at least one item."
        if stage in ("proposed", "approved") and not self.pocs:
            return "Link a customer as point of contact first: someone has to approve the trip."
        if stage == "booked" and not readiness.complete:
            return (f"{readiness.confirmed} of {readiness.required} required bookings are confirmed; all must be "
                    "before the trip is booked.")
        if stage == "in_progress" and (self.first_start is None or now < self.first_start):
            return f"The trip starts at {self.first_start.isoformat() if self.first_start else 'an unknown time'}."
        if stage == "completed" and (self.last_end is None or now < self.last_end):
            return f"The trip ends at {self.last_end.isoformat() if self.last_end else 'an unknown time'}."
        return None

    def due_moves(self, now: datetime, readiness: Readiness) -> list[Change]:
        """Moves that happen on their own: booked once every booking is confirmed, in progress from the first
        item's start, completed after the last item's end (several at once when the platform was down)."""
        moves = []
        while True:
            if self.stage == "approved" and self.required_bookings() and readiness.complete:
                moves.append(self._record_stage("booked", SYSTEM_ACTOR, now, "all required bookings confirmed",
                                                touch=False))
            elif self.stage == "booked" and self.first_start and now >= self.first_start:
                moves.append(self._record_stage("in_progress", SYSTEM_ACTOR, now, "the first item has started",
                                                touch=False))
            elif self.stage == "in_progress" and self.last_end and now >= self.last_end:
                moves.append(self._record_stage("completed", SYSTEM_ACTOR, now, "the last item has ended",
                                                touch=False))
            else:
                if moves:  # several moves at once (the platform was down over a whole trip) are one version
                    self._touch()
                return moves

    # --- proposals ------------------------------------------------------------------------------------------

    def send_proposal(self, options: list[OptionRequest], *, actor: str, now: datetime, message: str | None,
                      readiness: Readiness) -> tuple[ProposalRound, list[Change]]:
        """Freeze the options as they are now and address them to every POC; the trip becomes proposed."""
        if self.stage not in ("planning", "proposed"):
            raise StageMoveRefused(f"A proposal is sent while planning; the trip is {self.stage}.")
        if not 1 <= len(options) <= MAX_OPTIONS:
            raise InvalidProposal(f"Send between 1 and {MAX_OPTIONS} options.", code="invalid-options")
        built = []
        for request in options:
            title = (request.title or "").strip()
            if not title or len(title) > MAX_TITLE:
                raise InvalidProposal(f"Each option needs a title of at most {MAX_TITLE} characters.",
                                      code="invalid-options")
            known = {item.id: item for item in self.items}
            unknown = [item_id for item_id in request.item_ids or [] if item_id not in known]
            if unknown:
                raise InvalidProposal(f"Option '{title}' lists items this trip does not have: {', '.join(unknown)}.",
                                      code="unknown-item")
            chosen = self.items if request.item_ids is None else [known[item_id] for item_id in
                                                                   dict.fromkeys(request.item_ids)]
            if not chosen:
                raise InvalidProposal(f"Option '{title}' has no items.", code="invalid-options")
            prices = summarise(chosen, self.markup_percent, None).totals
            built.append(ProposalOption(new_option_id(), title, (request.note or "").strip() or None,
                                        [item.id for item in chosen],
                                        [{**item_snapshot(item), "id": item.id} for item in chosen],
                                        {total.currency: str(total.price) for total in prices}))
        changes = []
        if self.stage == "planning":
            changes.append(self.move_to("proposed", actor=actor, now=now, readiness=readiness,
                                        reason=f"{len(built)} option(s) sent"))
        elif not self.pocs:
            raise StageMoveRefused("Link a customer as point of contact first: someone has to approve the trip.")
        else:
            self._touch()
        sent = ProposalRound(new_round_id(), now, actor, self.version, [poc.customer_id for poc in self.pocs], built,
                             (message or "").strip() or None)
        self.proposal_rounds.append(sent)
        changes.append(Change(f"proposals.{sent.id}", None, {"options": [o.title for o in built]},
                              f"proposal sent with {len(built)} option(s): " + ", ".join(o.title for o in built)))
        return sent, changes

    def answer_proposal(self, round_id: str, customer_id: str, *, approve: bool, option_id: str | None,
                        comment: str | None, now: datetime) -> list[Change]:
        """A POC's answer from their link: approve one option, or ask for changes. The first answer counts."""
        proposal = open_round(self.proposal_rounds, round_id)
        if customer_id not in proposal.recipients or not any(p.customer_id == customer_id for p in self.pocs):
            raise InvalidProposal("Only the trip's points of contact can answer its proposal.", code="not-a-poc")
        if self.stage != "proposed":
            raise StageMoveRefused(f"The trip is {self.stage} now; the proposal can no longer be answered.")
        comment = (comment or "").strip() or None
        if comment and len(comment) > MAX_COMMENT:
            raise InvalidProposal(f"Please keep the message under {MAX_COMMENT} characters.", code="comment-too-long")
        problem = unsafe_character(comment or "", multiline=True)
        if problem:
            raise InvalidProposal(f"The message contains a character we cannot accept ({problem}).",
                                  code="invalid-characters")
        actor = f"customer {customer_id}"
        if approve:
            option = proposal.option(option_id)
            proposal.decision = Decision("approved", customer_id, now, option.id, comment)
            changes = [self._record_stage("approved", actor, now, f"approved option '{option.title}'")]
            for item in [item for item in self.items if item.id not in option.item_ids]:
                self.items.remove(item)
                changes.append(Change(f"items.{item.id}", item_snapshot(item), None,
                                      f"'{item.title}' removed: not in the approved option"))
            return changes
        if not comment:
            raise InvalidProposal("Please tell us what you would like changed.", code="comment-required")
        proposal.decision = Decision("changes_requested", customer_id, now, None, comment)
        self.notices.append(Notice(kind="changes_requested", message=f"Customer {customer_id} asked for changes: "
                                                                     f"{comment}", at=now))
        return [self._record_stage("planning", actor, now, "the client asked for changes")]

    def _record_stage(self, stage: str, actor: str, now: datetime, reason: str | None, *,
                      touch: bool = True) -> Change:
        before = self.stage
        self.stage = stage
        self.stage_history.append(StageChange(before, stage, now, actor, reason))
        if touch:
            self._touch()
        return Change("stage", before, stage, f"stage moved from {before} to {stage}"
                      + (f": {reason}" if reason else ""))

    def _require_open(self, what: str) -> None:
        if self.stage in ("archived", "cancelled", "completed"):
            raise ConflictError(f"The trip is {self.stage}: it is no longer possible to {what}.",
                                code="itinerary-closed")

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

    def traveller_changed(self, customer_id: str, what: str, before, after, description: str) -> Change | None:
        """A linked traveller's name or needs changed elsewhere: while the trip is open, that is a new version of
        the trip (vendors booked for it may need telling); a closed trip keeps what it was."""
        if self.stage not in OPEN_STAGES or not self.is_linked(customer_id) or before == after:
            return None
        self._touch()
        return Change(f"customers.{customer_id}.{what}", before, after, description)

    def passport_expires_too_soon(self, passport_expiry: date | None) -> bool:
        """A passport that ends before the trip does (or on its last day) needs renewing before departure."""
        last_day = self.end_date or self.start_date
        return passport_expiry is not None and last_day is not None and passport_expiry <= last_day

    def _touch(self) -> None:
        self.version += 1
        self.updated_at = utc_now()


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def days_of(items: list[Item]) -> list[tuple[date, list[tuple[Item, str]]]]:
    """Day by day, in each item's local days: what starts, what ends there (a flight's arrival day at its
    destination, a check-out), and the nights of a stay in between."""
    by_day: dict[date, list[tuple[Item, str]]] = {}
    for item in items:
        if item.start is None:
            continue
        by_day.setdefault(item.start_day, []).append((item, "starts"))
        if item.end_day != item.start_day:
            if item.kind == "accommodation":
                day = item.start_day + timedelta(days=1)
                while day < item.end_day:
                    by_day.setdefault(day, []).append((item, "continues"))
                    day += timedelta(days=1)
            by_day.setdefault(item.end_day, []).append((item, "ends"))
    return [(day, sorted(entries, key=_entry_order)) for day, entries in sorted(by_day.items())]


def _entry_order(entry: tuple[Item, str]) -> tuple:
    """A day's entries as they happen: what is untimed first, then by the moment each entry is about (an item's
    start, or its end on the day it ends there), so an 08:30 transfer comes before a 10:00 check-out; the night
    of a stay that goes on comes last, where the day ends."""
    item, role = entry
    if role == "continues":
        return (2, item.start_utc, item.title)
    if not item.timed:
        return (0, item.start_utc, item.title)
    return (1, item.end_utc if role == "ends" else item.start_utc, item.title)


def item_from_snapshot(snapshot: dict) -> Item:
    """The inverse of :func:`item_snapshot` (with the item's ``id``): how stored and proposed items come back."""
    cost = snapshot.get("cost")
    return Item(
        id=snapshot["id"], kind=snapshot["kind"], title=snapshot["title"], timezone=snapshot["timezone"],
        start=parse_local(snapshot.get("start"), "start"), end=parse_local(snapshot.get("end"), "end"),
        end_timezone=snapshot.get("end_timezone"),
        location=Location(**snapshot["location"]) if snapshot.get("location") else None,
        end_location=Location(**snapshot["end_location"]) if snapshot.get("end_location") else None,
        mode=snapshot.get("mode"), vendor=snapshot.get("vendor"),
        cost=Cost(Decimal(cost["amount"]), cost["currency"], cost["category"]) if cost else None,
        notes=snapshot.get("notes"), client_note=snapshot.get("client_note"),
        requires_booking=snapshot.get("requires_booking", False),
        start_occurrence=snapshot.get("start_occurrence"), end_occurrence=snapshot.get("end_occurrence"),
        sequence=snapshot.get("sequence", 0),
        created_at=snapshot.get("created_at"), travellers=snapshot.get("travellers"),
    )


def item_snapshot(item: Item) -> dict:
    """An item as plain JSON values, for the audit trail and events."""
    return {
        "kind": item.kind, "title": item.title, "start": _plain(item.start), "end": _plain(item.end),
        "timezone": item.timezone, "end_timezone": item.end_timezone,
        "location": _location_snapshot(item.location), "end_location": _location_snapshot(item.end_location),
        "mode": item.mode, "vendor": item.vendor,
        "cost": {"amount": str(item.cost.amount), "currency": item.cost.currency, "category": item.cost.category}
        if item.cost else None,
        "notes": item.notes, "client_note": item.client_note, "requires_booking": item.requires_booking,
        "start_occurrence": item.start_occurrence, "end_occurrence": item.end_occurrence,
        "sequence": item.sequence,
        # Only when some of the party do it: items for everyone keep the fingerprint (ETag) they had.
        **({"travellers": item.travellers} if item.travellers else {}),
    }


def item_revision(item: Item) -> str:
    """A fingerprint of everything the item says, from its stored form: it changes whenever the item does, only
    then, and reads the same before and after a round trip through the database (its ETag)."""
    canonical = json.dumps({"id": item.id, **item_snapshot(item)}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:20]


def _location_snapshot(location) -> dict | None:
    return {"address": location.address, "lat": location.lat, "lon": location.lon} if location else None


def _describe_item_change(item: Item, name: str, before, after) -> str:
    if name in ("start", "end"):
        return f"'{item.title}' now {item.describe_when()} ({name} was {before})"
    if name == "location":
        return f"'{item.title}' moved to {(after or {}).get('address') or 'a new place'}"
    if name == "travellers":
        return f"'{item.title}': now for {len(after)} of the travellers" if after else \
            f"'{item.title}': now for everyone"
    return f"'{item.title}': {name.replace('_', ' ')} changed"
