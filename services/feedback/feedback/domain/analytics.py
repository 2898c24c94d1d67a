"""What the agency learns from its trips: satisfaction and NPS, incident rates, how fast complaints are resolved,
how many travellers answer surveys, and each supplier's scorecard. Plain Python: no I/O; every figure is computed
from the records the caller passes, so a row can always be traced back to them.

NPS is the share of promoters (9–10) minus the share of detractors (0–6), in points from −100 to 100. Each
traveller counts once per survey, with their latest answer.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from statistics import median

from feedback.domain.complaints import Complaint
from feedback.domain.incidents import Incident
from feedback.domain.surveys import Survey, SurveyAnswer

SATISFACTION_BY = ("month", "week", "destination", "planner", "supplier")
UNKNOWN = "(unknown)"


def nps(scores: list[int]) -> float | None:
    if not scores:
        return None
    promoters = sum(1 for score in scores if score >= 9)
    detractors = sum(1 for score in scores if score <= 6)
    return round(100 * (promoters - detractors) / len(scores), 1)


def _average(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def destination(trip: dict | None) -> str:
    """Where a trip goes, as the platform knows it: the zone most of its services are in (flights count where
    they land)."""
    if not trip:
        return UNKNOWN
    zones = Counter((item.get("end_timezone") if item.get("kind") == "flight" else None) or item.get("timezone")
                    for item in trip.get("items") or [] if item.get("timezone"))
    return zones.most_common(1)[0][0] if zones else UNKNOWN


def _period(moment: datetime, by: str) -> str:
    if by == "week":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{moment.year}-{moment.month:02d}"


def satisfaction(answers: list[SurveyAnswer], trips: dict[str, dict], by: str) -> list[dict]:
    """Per month or week answered, per destination or planner: responses, average overall (1–5), NPS with its
    promoters, passives and detractors. Per supplier: how many rated it and its average (1–5)."""
    if by == "supplier":
        ratings: dict[str, list[int]] = defaultdict(list)
        for answer in answers:
            for supplier, rating in answer.scores.supplier_ratings.items():
                ratings[supplier].append(rating)
        return [{"supplier": supplier, "ratings": len(values), "average_rating": _average(values)}
                for supplier, values in sorted(ratings.items())]
    groups: dict[str, list[SurveyAnswer]] = defaultdict(list)
    for answer in answers:
        trip = trips.get(answer.itinerary_id)
        key = (_period(answer.answered_at, by) if by in ("month", "week")
               else destination(trip) if by == "destination" else (trip or {}).get("planner") or UNKNOWN)
        groups[key].append(answer)
    rows = []
    for key, grouped in sorted(groups.items()):
        scores = [answer.scores.nps for answer in grouped]
        rows.append({by: key, "responses": len(grouped),
                     "average_overall": _average([answer.scores.overall for answer in grouped]),
                     "nps": nps(scores), "promoters": sum(1 for s in scores if s >= 9),
                     "passives": sum(1 for s in scores if 7 <= s <= 8),
                     "detractors": sum(1 for s in scores if s <= 6)})
    return rows


def incident_rates(incidents: list[Incident], bookings: list[dict], trips: int) -> dict[str, list[dict]]:
    """Per supplier, incidents per 100 of its bookings; per kind, incidents per 100 trips."""
    booked = Counter(booking.get("vendor_name") for booking in bookings if booking.get("vendor_name"))
    by_supplier = Counter(incident.supplier for incident in incidents if incident.supplier)
    by_kind = Counter(incident.kind for incident in incidents)
    suppliers = [{"supplier": supplier, "incidents": by_supplier[supplier], "bookings": booked[supplier],
                  "per_100_bookings": round(100 * by_supplier[supplier] / booked[supplier], 1)
                  if booked[supplier] else None}
                 for supplier in sorted(set(by_supplier) | set(booked))]
    kinds = [{"kind": kind, "incidents": count, "trips": trips,
              "per_100_trips": round(100 * count / trips, 1) if trips else None}
             for kind, count in sorted(by_kind.items())]
    return {"suppliers": suppliers, "kinds": kinds}


def _hours(start: datetime, end: datetime | None) -> float | None:
    return round((end - start).total_seconds() / 3600, 1) if end else None


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def complaint_resolution(complaints: list[Complaint], now: datetime) -> list[dict]:
    """Per cause (and in all): how many, how many still open and overdue, and hours from receipt to the first
    offer and to the client's acceptance (median and 90th percentile)."""
    groups: dict[str, list[Complaint]] = defaultdict(list)
    for complaint in complaints:
        groups[complaint.cause or "not analysed"].append(complaint)
        groups["all"].append(complaint)
    rows = []
    for cause, grouped in sorted(groups.items(), key=lambda pair: (pair[0] != "all", pair[0])):
        to_offer = [hours for c in grouped
                    if (hours := _hours(c.received_at, c.proposals[0].proposed_at if c.proposals else None))
                    is not None]
        to_accept = [hours for c in grouped if (hours := _hours(c.received_at, c.accepted_at)) is not None]
        rows.append({"cause": cause, "complaints": len(grouped),
                     "open": sum(1 for c in grouped if c.status != "closed"),
                     "overdue": sum(1 for c in grouped if c.overdue(now)),
                     "escalated": sum(1 for c in grouped if any(e.kind == "escalated" for e in c.timeline)),
                     "median_hours_to_offer": median(to_offer) if to_offer else None,
                     "p90_hours_to_offer": _percentile(to_offer, 0.9),
                     "median_hours_to_acceptance": median(to_accept) if to_accept else None,
                     "p90_hours_to_acceptance": _percentile(to_accept, 0.9)})
    return rows


def response_rates(surveys: list[Survey], answered: Counter) -> list[dict]:
    """Per kind of survey: travellers asked, travellers who answered, the rate."""
    asked: Counter = Counter()
    answering: Counter = Counter()
    for survey in surveys:
        asked[survey.kind] += len(survey.respondents)
        answering[survey.kind] += answered[survey.id]
    return [{"kind": kind, "surveys": sum(1 for s in surveys if s.kind == kind), "asked": asked[kind],
             "answered": answering[kind], "rate": round(answering[kind] / asked[kind], 3) if asked[kind] else None}
            for kind in sorted(asked)]


@dataclass(frozen=True)
class Scorecard:
    """How a supplier does, by the agency's own records: what travellers rated it, what went wrong with it, what
    clients complained of that was its fault, against how many bookings."""

    supplier: str
    ratings: int
    average_rating: float | None
    bookings: int
    incidents: int
    complaints: int

    @property
    def incidents_per_100_bookings(self) -> float | None:
        return round(100 * self.incidents / self.bookings, 1) if self.bookings else None


def scorecard(supplier: str, answers: list[SurveyAnswer], incidents: list[Incident], complaints: list[Complaint],
              bookings: int) -> Scorecard:
    ratings = [answer.scores.supplier_ratings[supplier] for answer in answers
               if supplier in answer.scores.supplier_ratings]
    return Scorecard(supplier, len(ratings), _average(ratings), bookings,
                     sum(1 for incident in incidents if incident.supplier == supplier),
                     sum(1 for complaint in complaints if complaint.supplier == supplier
                         and complaint.cause == "supplier"))


def within(moment: datetime, start: date | None, end: date | None) -> bool:
    """``moment`` falls on or between the days given (either may be open)."""
    day = moment.date()
    return (start is None or day >= start) and (end is None or day <= end)
