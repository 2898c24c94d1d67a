"""Who travels and what they need, as vendors must hear it. Plain Python: no I/O.

The names come from the customers service's announcements and the needs from each traveller's latest
consultation; both are copies itinerary keeps, so a vendor request is built from what the trip says today.
"""
from __future__ import annotations

from dataclasses import dataclass

from itinerary.domain.model import Itinerary


@dataclass(frozen=True)
class Need:
    kind: str  # dietary, accessibility or other
    text: str


@dataclass(frozen=True)
class TravellingCustomer:
    customer_id: str
    name: str | None
    is_poc: bool
    needs: tuple[Need, ...]


def needs_of(preferences: dict | None) -> tuple[Need, ...]:
    """Each requirement its own line, so a vendor can acknowledge them one by one."""
    preferences = preferences or {}
    needs = [Need("dietary", text) for text in preferences.get("dietary") or [] if text.strip()]
    needs += [Need("accessibility", text) for text in preferences.get("accessibility") or [] if text.strip()]
    special = (preferences.get("special_requirements") or "").strip()
    if special:
        needs.append(Need("other", special))
    return tuple(needs)


def full_name(known: dict | None) -> str | None:
    known = known or {}
    return " ".join(part for part in (known.get("first_name"), known.get("last_name")) if part) or None


def travelling_customers(itinerary: Itinerary, known: dict[str, dict],
                         preferences: dict[str, dict]) -> list[TravellingCustomer]:
    """The linked customers, points of contact first."""
    ordered = sorted(itinerary.customers, key=lambda linked: not linked.is_poc)
    return [TravellingCustomer(linked.customer_id, full_name(known.get(linked.customer_id)), linked.is_poc,
                               needs_of(preferences.get(linked.customer_id))) for linked in ordered]


def party_size(itinerary: Itinerary, preferences: dict[str, dict]) -> tuple[int, int]:
    """(adults, children): a point of contact's consultation says how many travel (it may count people with no
    record of their own); without one, every linked traveller is an adult."""
    for linked in itinerary.pocs + itinerary.customers:
        given = preferences.get(linked.customer_id) or {}
        if given.get("party_adults") is not None or given.get("party_children") is not None:
            adults = max(given.get("party_adults") or 0, 0)
            children = max(given.get("party_children") or 0, 0)
            if adults + children:
                return adults, children
    return len(itinerary.customers), 0
