"""Consultations: what the planner learnt of a client's wishes, one version per consultation. Plain Python."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from trip_shared.clock import utc_now
from trip_shared.errors import DomainError

Source = Literal["questionnaire", "interview", "profile_form"]


class InvalidPreferences(DomainError):
    code = "invalid-preferences"


@dataclass
class Consultation:
    customer_id: str
    tenant_id: str
    version: int
    preferences: dict
    source: Source
    recorded_by: str
    recorded_at: datetime = field(default_factory=utc_now)

    @classmethod
    def record(cls, customer_id: str, tenant_id: str, previous_version: int, preferences: dict, source: Source,
               recorded_by: str) -> Consultation:
        """A new version; earlier consultations stay as they were."""
        check_preferences(preferences)
        return cls(customer_id=customer_id, tenant_id=tenant_id, version=previous_version + 1,
                   preferences=preferences, source=source, recorded_by=recorded_by)


def check_preferences(preferences: dict) -> None:
    budget = preferences.get("budget") or {}
    if budget.get("minimum") is not None and budget.get("maximum") is not None \
            and budget["minimum"] > budget["maximum"]:
        raise InvalidPreferences("budget.minimum is above budget.maximum.", code="budget-range-inverted")
    dates = preferences.get("travel_dates") or {}
    if dates.get("start") and dates.get("end") and dates["end"] < dates["start"]:
        raise InvalidPreferences("travel_dates.end is before travel_dates.start.", code="end-before-start")
    if preferences.get("party_adults") == 0 and not preferences.get("party_children"):
        raise InvalidPreferences("A party needs at least one traveller.", code="empty-party")
