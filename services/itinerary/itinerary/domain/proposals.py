"""Proposals: the options a planner sends the points of contact, and their answer. Plain Python: no I/O.

A proposal round freezes what was sent: each option is a titled selection of the trip's items as they were then,
with its price. Later edits to the trip do not change what a client is approving; a new round supersedes the
previous one. The first answer of a POC closes the round: an approval picks one option, a request for changes
sends the trip back to planning with the client's words.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from trip_shared.errors import ConflictError, DomainError

MAX_OPTIONS = 5
MAX_COMMENT = 2000


class InvalidProposal(DomainError):
    code = "invalid-proposal"


@dataclass
class ProposalOption:
    id: str
    title: str
    note: str | None
    item_ids: list[str]
    items: list[dict]  # snapshots as sent
    prices: dict[str, str]  # currency -> price with markup, as sent


@dataclass
class Decision:
    outcome: str  # approved / changes_requested
    customer_id: str
    at: datetime
    option_id: str | None = None
    comment: str | None = None


@dataclass
class ProposalRound:
    id: str
    sent_at: datetime
    sent_by: str
    itinerary_version: int
    recipients: list[str]
    options: list[ProposalOption]
    message: str | None = None
    decision: Decision | None = None

    def option(self, option_id: str | None) -> ProposalOption:
        for option in self.options:
            if option.id == option_id:
                return option
        raise InvalidProposal("Choose one of the options offered.", code="unknown-option")


@dataclass(frozen=True)
class OptionRequest:
    title: str
    note: str | None = None
    item_ids: list[str] | None = None  # None: every item


def open_round(rounds: list[ProposalRound], round_id: str) -> ProposalRound:
    """The round a client's link points to, if it can still be answered."""
    found = next((r for r in rounds if r.id == round_id), None)
    if found is None:
        raise InvalidProposal("This proposal no longer exists.", code="proposal-not-found")
    if found is not rounds[-1]:
        raise ConflictError("A newer proposal has been sent since; please use the latest e-mail.",
                            code="proposal-superseded")
    if found.decision is not None:
        raise ConflictError("This proposal has already been answered.", code="proposal-answered")
    return found


def new_round_id() -> str:
    return str(uuid.uuid4())


def new_option_id() -> str:
    return uuid.uuid4().hex[:8]
