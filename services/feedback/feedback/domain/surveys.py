"""Satisfaction surveys: a check-in on a set day of the trip and a survey after it, each sent to the trip's
travellers with one reminder, answered once per traveller (a second answer revises the first, which is kept).
No I/O.

A low answer is not only a number for the figures: it opens a complaint, so someone calls the client while there
is still something to put right.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from trip_shared.errors import ConflictError, DomainError

KINDS = ("mid_trip", "post_trip")
# At or under these, a person follows up (a complaint for service recovery).
LOW_OVERALL, LOW_NPS = 2, 4
OPEN_FOR = timedelta(days=30)
MAX_COMMENT = 5000
# What is rated: the services, not the free time between them.
RATED_KINDS = ("flight", "transfer", "accommodation", "activity", "dining", "event")
# The evening check-in goes out at this local time on its day, when the day's plans are done.
CHECK_IN_AT = time(18, 0)


class InvalidAnswer(DomainError):
    code = "invalid-answer"


class SurveyClosed(ConflictError):
    code = "survey-closed"


@dataclass(frozen=True)
class SurveySettings:
    """An agency's choices: which day of the trip has the check-in (0: none), how long after the trip the survey
    goes, how long before its one reminder."""

    mid_trip_day: int = 2
    post_trip_delay_hours: int = 24
    reminder_after_hours: int = 72

    @classmethod
    def of(cls, mid_trip_day: int, post_trip_delay_hours: int, reminder_after_hours: int) -> SurveySettings:
        if not 0 <= mid_trip_day <= 60:
            raise DomainError("mid_trip_day is 0 (none) or a day of the trip, 1 to 60.", code="invalid-settings")
        if not 0 <= post_trip_delay_hours <= 24 * 14 or not 1 <= reminder_after_hours <= 24 * 14:
            raise DomainError("Delays are given in hours, up to two weeks.", code="invalid-settings")
        return cls(mid_trip_day, post_trip_delay_hours, reminder_after_hours)


def trip_zone_of(trip: dict) -> str:
    """Where the trip's days are counted: the zone of its first item."""
    items = [item for item in trip.get("items") or [] if item.get("timezone")]
    return items[0]["timezone"] if items else "UTC"


def due_kinds(trip: dict, settings: SurveySettings, now: datetime) -> list[str]:
    """Which surveys this trip should have been sent by ``now`` and has not: the check-in from 18:00 on its day
    (while the trip is under way), the survey once it is ``post_trip_delay_hours`` completed."""
    sent = set(trip.get("surveys_issued") or [])
    due = []
    start = date.fromisoformat(trip["start_date"]) if trip.get("start_date") else None
    end = date.fromisoformat(trip["end_date"]) if trip.get("end_date") else None
    if "mid_trip" not in sent and trip.get("stage") == "in_progress" and start and settings.mid_trip_day:
        day = start + timedelta(days=settings.mid_trip_day - 1)
        if end is None or day < end:  # a check-in on the last day would be the survey's job
            at = datetime.combine(day, CHECK_IN_AT, ZoneInfo(trip_zone_of(trip)))
            if now >= at:
                due.append("mid_trip")
    completed_at = trip.get("completed_at")
    if "post_trip" not in sent and trip.get("stage") in ("completed", "archived") and completed_at \
            and now >= completed_at + timedelta(hours=settings.post_trip_delay_hours):
        due.append("post_trip")
    return due


@dataclass
class Survey:
    id: str
    tenant_id: str
    itinerary_id: str
    kind: str
    respondents: list[str]  # the travellers when it was sent: only they answer
    items: list[dict]  # what they rate: {item_id, title, kind}
    suppliers: list[str]
    issued_at: datetime
    remind_at: datetime
    closes_at: datetime
    reminded_at: datetime | None = None

    @classmethod
    def issue(cls, tenant_id: str, trip: dict, kind: str, suppliers: list[str], settings: SurveySettings,
              now: datetime) -> Survey:
        """The check-in rates what has happened so far; the survey, everything."""
        def happened(item: dict) -> bool:
            starts = item.get("starts_at")
            starts = datetime.fromisoformat(starts) if isinstance(starts, str) else starts
            return kind == "post_trip" or (starts is not None and starts <= now)

        items = [{"item_id": item["item_id"], "title": item.get("title") or "", "kind": item.get("kind") or ""}
                 for item in trip.get("items") or [] if item.get("kind") in RATED_KINDS and happened(item)]
        return cls(id=f"{trip['_id']}:{kind}", tenant_id=tenant_id, itinerary_id=trip["_id"], kind=kind,
                   respondents=[member["customer_id"] for member in trip.get("members", [])], items=items,
                   suppliers=sorted(set(suppliers)), issued_at=now,
                   remind_at=now + timedelta(hours=settings.reminder_after_hours), closes_at=now + OPEN_FOR)

    def is_open(self, now: datetime) -> bool:
        return now < self.closes_at

    def remind(self, answered: set[str], now: datetime) -> list[str]:
        """Who gets the one reminder: those who have not answered, once it is due; then never again."""
        if self.reminded_at is not None or now < self.remind_at or not self.is_open(now):
            return []
        self.reminded_at = now
        return [customer for customer in self.respondents if customer not in answered]


@dataclass(frozen=True)
class Scores:
    overall: int
    nps: int
    item_ratings: dict[str, int] = field(default_factory=dict)
    supplier_ratings: dict[str, int] = field(default_factory=dict)
    comment: str | None = None
    consent_to_contact: bool = False

    @property
    def low(self) -> bool:
        return self.overall <= LOW_OVERALL or self.nps <= LOW_NPS


@dataclass
class SurveyAnswer:
    id: str
    tenant_id: str
    survey_id: str
    itinerary_id: str
    kind: str
    customer_id: str
    language: str
    scores: Scores
    answered_at: datetime
    version: int = 1
    history: list[dict] = field(default_factory=list)  # earlier answers, oldest first: {answered_at, scores}
    complaint_id: str | None = None  # the follow-up a low answer opened

    @classmethod
    def give(cls, survey: Survey, customer_id: str, scores: Scores, *, language: str, on_trip: list[str],
             trip_started: bool, now: datetime, earlier: SurveyAnswer | None = None) -> SurveyAnswer:
        """Only the survey's travellers, still on the trip, once it has started, while it is open; a second answer
        revises the first and keeps it."""
        if customer_id not in survey.respondents or customer_id not in on_trip:
            raise InvalidAnswer("Only the trip's travellers answer its survey.", code="not-a-respondent")
        if not trip_started:
            raise InvalidAnswer("The trip has not started yet.", code="trip-not-started")
        if not survey.is_open(now):
            raise SurveyClosed("This survey has closed.")
        _check(survey, scores)
        if earlier is None:
            return cls(id=f"{survey.id}:{customer_id}", tenant_id=survey.tenant_id, survey_id=survey.id,
                       itinerary_id=survey.itinerary_id, kind=survey.kind, customer_id=customer_id,
                       language=language, scores=scores, answered_at=now)
        earlier.history.append({"answered_at": earlier.answered_at, "scores": earlier.scores})
        earlier.scores, earlier.answered_at, earlier.language = scores, now, language
        earlier.version += 1
        return earlier

    @property
    def needs_follow_up(self) -> bool:
        """Low, and no complaint opened for it yet."""
        return self.scores.low and self.complaint_id is None

    def forget_comments(self, erased: str) -> None:
        self.scores = replace(self.scores, comment=erased if self.scores.comment else None)
        self.history = [{**entry, "scores": replace(entry["scores"], comment=erased if entry["scores"].comment
                                                    else None)} for entry in self.history]


def _check(survey: Survey, scores: Scores) -> None:
    if not 1 <= scores.overall <= 5:
        raise InvalidAnswer("overall is 1 (very poor) to 5 (excellent).", code="invalid-overall")
    if not 0 <= scores.nps <= 10:
        raise InvalidAnswer("nps is 0 (not at all likely) to 10 (extremely likely).", code="invalid-nps")
    items = {item["item_id"] for item in survey.items}
    for name, ratings, known in (("item_ratings", scores.item_ratings, items),
                                 ("supplier_ratings", scores.supplier_ratings, set(survey.suppliers))):
        strangers = [key for key in ratings if key not in known]
        if strangers:
            raise InvalidAnswer(f"{name}: not in this survey: {', '.join(strangers)}.", code="not-in-survey")
        if any(not 1 <= rating <= 5 for rating in ratings.values()):
            raise InvalidAnswer(f"{name} are 1 to 5.", code="invalid-rating")
    if scores.comment and len(scores.comment) > MAX_COMMENT:
        raise InvalidAnswer(f"comment is longer than {MAX_COMMENT} characters.", code="comment-too-long")


def follow_up_account(scores: Scores, kind: str) -> str:
    """What the complaint a low answer opens says: the client's own comment, else their scores."""
    heading = "Mid-trip check-in" if kind == "mid_trip" else "Post-trip survey"
    return scores.comment or f"{heading}: overall {scores.overall}/5, would recommend {scores.nps}/10."
