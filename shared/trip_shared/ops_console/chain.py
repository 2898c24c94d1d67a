"""One trip's chain of events and deliveries, and what is stuck, from the services' answers. Plain Python: no I/O.

Each service says what it announced about the trip (its outbox, by Kafka key), which events its consumer groups
handled and which topics they read, and what they dead-lettered; notify says what it delivered and for which event.
Put side by side, an event published but not handled by a group that reads its topic is *waiting*, and once it
has waited longer than a healthy consumer ever takes, it is *stuck*.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

# A consumer handles an event within a second or two; one still unhandled after this is worth a look.
STUCK_AFTER = timedelta(minutes=2)


@dataclass
class Handling:
    service: str
    group: str
    at: datetime


@dataclass
class Step:
    """One event of the trip and what became of it."""

    at: datetime
    service: str
    event_id: str
    event_type: str
    topic: str
    status: str
    published_at: datetime | None
    trace_id: str | None
    handled: list[Handling] = field(default_factory=list)
    waiting_for: list[str] = field(default_factory=list)  # "service/group" that read the topic and have not
    dead_lettered: list[dict] = field(default_factory=list)
    deliveries: list[dict] = field(default_factory=list)
    stuck: bool = False


@dataclass
class TripChain:
    trip_id: str
    steps: list[Step]
    other_deliveries: list[dict]  # asked for by a clock (reminders, digests) or an event no longer kept
    other_dead_letters: list[dict]  # the trip's messages that could not even be read as an event
    unanswered: list[str]  # services that did not answer: the chain may miss their part


def _at(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def trip_chain(trip_id: str, announced: dict[str, dict], handled: dict[str, dict], deliveries: list[dict],
               unanswered: list[str], now: datetime, state_topics: frozenset[str] = frozenset()) -> TripChain:
    """``announced``: each service's ``/v1/ops/trips/{id}/events`` answer; ``handled``: each service's
    ``/v1/ops/handled`` answer for the events announced; ``deliveries``: notify's notifications of the trip.
    Events on ``state_topics`` (the whole state after each change, for rebuilds) are left out: each repeats the
    change beside it."""
    steps: list[Step] = []
    for service, answer in announced.items():
        for event in answer.get("announced", []):
            if event["topic"] in state_topics:
                continue
            steps.append(Step(at=_at(event["created_at"]), service=service, event_id=event["event_id"],
                              event_type=event["event_type"], topic=event["topic"], status=event["status"],
                              published_at=_at(event["published_at"]) if event.get("published_at") else None,
                              trace_id=event.get("trace_id")))
    steps.sort(key=lambda step: step.at)  # stable: one service's events stay in the order it committed them
    by_id = {step.event_id: step for step in steps}
    for service, answer in handled.items():
        for row in answer.get("items", []):
            if step := by_id.get(row["event_id"]):
                step.handled.append(Handling(service, row["group_id"], _at(row["processed_at"])))
    others_dead = []
    for service, answer in announced.items():
        for letter in answer.get("dead_lettered", []):
            entry = {**letter, "service": service}
            if (step := by_id.get(letter.get("event_id") or "")) is not None:
                step.dead_lettered.append(entry)
            else:
                others_dead.append(entry)
    for step in steps:
        done = {(handling.service, handling.group) for handling in step.handled}
        gave_up = {(letter["service"], letter["group_id"]) for letter in step.dead_lettered}
        for service, answer in handled.items():
            for group, topics in (answer.get("consumes") or {}).items():
                if step.topic in topics and (service, group) not in done | gave_up:
                    step.waiting_for.append(f"{service}/{group}" if group != service else service)
        since = step.published_at or step.at
        step.stuck = bool(step.dead_lettered) or step.status in ("parked", "held") or (
            bool(step.waiting_for) and now - since > STUCK_AFTER)
        step.handled.sort(key=lambda handling: handling.at)
    other_deliveries = []
    for delivery in sorted(deliveries, key=lambda d: str(d.get("created_at"))):
        if (step := by_id.get(delivery.get("source_event_id") or "")) is not None:
            step.deliveries.append(delivery)
        else:
            other_deliveries.append(delivery)
    return TripChain(trip_id, steps, other_deliveries, others_dead, unanswered)
