"""What clients may send as preferences, shared by the API and the profile form.

The event contract (:class:`trip_shared.contracts.customers.Preferences`) stays as lenient as it was, so events
already published keep validating; what comes in is bounded and cleaned here, before anything is stored.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from trip_shared.contracts.customers import Budget, Preferences, TravelDates
from trip_shared.web.fields import IsoDate, Line, Text

Wish = Annotated[Line, Field(min_length=1, max_length=100)]
Wishes = Annotated[list[Wish], Field(max_length=30)]


class TravelDatesIn(TravelDates):
    model_config = ConfigDict(extra="forbid")
    start: IsoDate | None = None
    end: IsoDate | None = None
    flexible_days: int = Field(0, ge=0, le=365)


class BudgetIn(Budget):
    model_config = ConfigDict(extra="forbid")
    minimum: float | None = Field(None, ge=0, le=1e12)
    maximum: float | None = Field(None, ge=0, le=1e12)


class PreferencesIn(Preferences):
    model_config = ConfigDict(extra="forbid")
    interests: Wishes = Field(default_factory=list)
    preferred_activities: Wishes = Field(default_factory=list)
    travel_style: Line | None = Field(None, max_length=200)
    budget: BudgetIn | None = None
    travel_dates: TravelDatesIn | None = None
    party_adults: int | None = Field(None, ge=0, le=500)
    party_children: int | None = Field(None, ge=0, le=500)
    accommodation: Wishes = Field(default_factory=list)
    transport: Wishes = Field(default_factory=list)
    dietary: Wishes = Field(default_factory=list)
    accessibility: Wishes = Field(default_factory=list)
    special_requirements: Text | None = Field(None, max_length=2000)
