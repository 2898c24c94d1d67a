"""What an agency tells the itinerary service about how it works: its travel-time assumptions and the exchange
rates its planners use. Plain Python, no I/O.

Defaults are what a planner would assume without local knowledge; an agency that knows its cities sets its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from trip_shared.errors import DomainError


class InvalidSettings(DomainError):
    code = "invalid-settings"


@dataclass(frozen=True)
class ModeSpeed:
    """Door to door: average speed on the way, a fixed overhead (getting to the platform, finding the car), and
    how much longer than the straight line the way is."""

    kmh: float
    overhead_min: float
    detour: float


# Averages that include stops and city traffic: a Shinkansen covers Tokyo–Kyoto's 370 km (straight line) in about
# 2 h 15 min, a car crosses a city at 20–30 km/h, a coach keeps about 60 km/h on motorways.
DEFAULT_SPEEDS = {
    "walk": ModeSpeed(4.5, 0, 1.3),
    "car": ModeSpeed(25.0, 10, 1.3),
    "coach": ModeSpeed(22.0, 15, 1.3),
    "train": ModeSpeed(55.0, 15, 1.2),
    "high_speed_rail": ModeSpeed(210.0, 25, 1.1),
    "ferry": ModeSpeed(25.0, 30, 1.1),
    # Beyond a city (CITY_DISTANCE_KM), a car or coach is mostly on main roads.
    "car_intercity": ModeSpeed(70.0, 15, 1.25),
    "coach_intercity": ModeSpeed(60.0, 20, 1.25),
}


@dataclass(frozen=True)
class TravelSettings:
    speeds: dict[str, ModeSpeed] = field(default_factory=lambda: dict(DEFAULT_SPEEDS))
    airport_before_departure_min: int = 120  # check-in, bag drop, security
    airport_after_arrival_min: int = 45  # taxiing, passport control, baggage
    hotel_check_in_hour: int = 15
    hotel_check_out_hour: int = 11

    def with_changes(self, changes: dict) -> TravelSettings:
        """A validated copy; the unknown and the impossible are refused, naming the setting."""
        speeds = dict(self.speeds)
        for mode, given in (changes.get("speeds") or {}).items():
            if mode not in DEFAULT_SPEEDS:
                raise InvalidSettings(f"speeds.{mode}: no such mode; the modes are {', '.join(DEFAULT_SPEEDS)}.")
            current = speeds[mode]
            speed = replace(current, **{name: float(value) for name, value in given.items() if value is not None})
            if not (0 < speed.kmh <= 1000 and 0 <= speed.overhead_min <= 600 and 1 <= speed.detour <= 3):
                raise InvalidSettings(f"speeds.{mode}: kmh must be above 0 (at most 1000), overhead_min 0–600, "
                                      "detour 1–3.")
            speeds[mode] = speed
        values = {name: changes[name] for name in ("airport_before_departure_min", "airport_after_arrival_min",
                                                   "hotel_check_in_hour", "hotel_check_out_hour")
                  if changes.get(name) is not None}
        updated = replace(self, speeds=speeds, **values)
        if not (0 <= updated.airport_before_departure_min <= 600 and 0 <= updated.airport_after_arrival_min <= 600):
            raise InvalidSettings("Airport buffers are minutes, 0–600.")
        if not (0 <= updated.hotel_check_in_hour <= 23 and 0 <= updated.hotel_check_out_hour <= 23):
            raise InvalidSettings("Hotel check-in and check-out hours are 0–23.")
        return updated


@dataclass(frozen=True)
class ExchangeRate:
    """1 ``from_currency`` = ``rate`` ``to_currency``, as a planner entered it, from a source they name."""

    from_currency: str
    to_currency: str
    rate: Decimal
    as_of: date
    source: str
    entered_by: str
    entered_at: datetime

    @property
    def pair(self) -> str:
        return f"{self.from_currency}/{self.to_currency}"


def exchange_rate(from_currency: str, to_currency: str, rate, as_of: date, source: str, *, entered_by: str,
                  entered_at: datetime) -> ExchangeRate:
    codes = [code.strip().upper() for code in (from_currency, to_currency)]
    if any(len(code) != 3 or not code.isalpha() for code in codes) or codes[0] == codes[1]:
        raise InvalidSettings("An exchange rate is between two different ISO 4217 currencies, such as JPY and EUR.",
                              code="invalid-exchange-rate")
    value = Decimal(str(rate))
    if not value.is_finite() or value <= 0:
        raise InvalidSettings("An exchange rate must be above zero.", code="invalid-exchange-rate")
    if not source.strip():
        raise InvalidSettings("Say where the rate comes from (a bank, a supplier's contract).",
                              code="invalid-exchange-rate")
    return ExchangeRate(codes[0], codes[1], value, as_of, source.strip(), entered_by, entered_at)


@dataclass(frozen=True)
class AgencySettings:
    travel: TravelSettings = field(default_factory=TravelSettings)
    exchange_rates: tuple[ExchangeRate, ...] = ()
    version: int = 0

    def with_rate(self, rate: ExchangeRate) -> AgencySettings:
        """The newest rate for a pair replaces the one before; the other direction is a pair of its own."""
        others = tuple(r for r in self.exchange_rates if r.pair != rate.pair)
        return replace(self, exchange_rates=tuple(sorted((*others, rate), key=lambda r: r.pair)))

    def without_rate(self, from_currency: str, to_currency: str) -> AgencySettings:
        pair = f"{from_currency.upper()}/{to_currency.upper()}"
        return replace(self, exchange_rates=tuple(r for r in self.exchange_rates if r.pair != pair))
