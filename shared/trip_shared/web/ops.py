"""The operations API every service serves under ``/v1/ops``: what its outbox could not publish, what its consumers
gave up on, and what to do; and, per trip, what it announced and what of others' it handled (the ops console puts
the five services' answers together into the trip's chain of events).

Scoped like the rest of ``/v1``: a key sees only its own agency's rows, and needs ``ops:read`` to look and
``ops:write`` to act.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path, Query, Request
from pydantic import BaseModel, Field

from trip_shared.errors import ConflictError, NotFoundError
from trip_shared.messaging.outbox import HELD, PARKED, PENDING
from trip_shared.telemetry import trace_id_of
from trip_shared.web.auth import Principal, require, v1_router

router = v1_router(tags=["operations"])

OutboxStatus = Literal["parked", "held", "pending"]


class OutboxRow(BaseModel):
    event_id: str
    event_type: str
    topic: str
    key: str = Field(description="The Kafka key (the trip, or else the aggregate): order is kept per key.")
    aggregate_id: str
    status: str = Field(description="pending, parked (Kafka refused it), held (behind a parked row of its key), "
                                    "published, dropped.")
    attempts: int
    last_error: str | None
    created_at: datetime
    parked_at: datetime | None = None
    dropped_by: str | None = None

    @classmethod
    def of(cls, row: dict) -> OutboxRow:
        return cls(**{name: row.get(name) for name in cls.model_fields})


class OutboxRowDetail(OutboxRow):
    size_bytes: int
    headers: dict[str, str]
    payload: dict | None = Field(description="The event; null for a tombstone (a compacted topic's key deleted).")


class OutboxRows(BaseModel):
    items: list[OutboxRow]


def _outbox(request: Request):
    return request.app.state.runtime.outbox


@router.get("/ops/outbox", response_model=OutboxRows)
async def list_outbox(request: Request,
                      status: list[OutboxStatus] = Query([PARKED, HELD], max_length=3,
                                                         description="Which rows; by default what waits for you."),
                      limit: int = Query(50, ge=1, le=500),
                      principal: Principal = require("ops:read")) -> OutboxRows:
    rows = await _outbox(request).find(principal.tenant_id, list(dict.fromkeys(status)), limit)
    return OutboxRows(items=[OutboxRow.of(row) for row in rows])


async def _row_or_404(request: Request, tenant_id: str, event_id: str) -> dict:
    row = await _outbox(request).get(tenant_id, event_id)
    if row is None:
        raise NotFoundError(f"No outbox event {event_id}.")
    return row


@router.get("/ops/outbox/{event_id}", response_model=OutboxRowDetail)
async def get_outbox_row(event_id: str, request: Request,
                         principal: Principal = require("ops:read")) -> OutboxRowDetail:
    row = await _row_or_404(request, principal.tenant_id, event_id)
    payload = row["payload"]  # None for a tombstone
    return OutboxRowDetail(**OutboxRow.of(row).model_dump(), size_bytes=len(payload.encode()) if payload else 0,
                           headers=row["headers"], payload=json.loads(payload) if payload else None)


def _not_parked(row: dict) -> ConflictError:
    return ConflictError(f"Outbox event {row['event_id']} is {row['status']}, not parked.", code="not-parked")


@router.post("/ops/outbox/{event_id}/retry", response_model=OutboxRow)
async def retry_outbox_row(event_id: str, request: Request,
                           principal: Principal = require("ops:write")) -> OutboxRow:
    """Publish a parked event again (after the cause was fixed, e.g. Kafka's size limit raised); the events held
    behind it follow in their order."""
    row = await _outbox(request).retry_parked(principal.tenant_id, event_id)
    if row is None:
        raise _not_parked(await _row_or_404(request, principal.tenant_id, event_id))
    request.app.state.runtime.relay.forget_parked()
    request.app.state.runtime.relay.nudge()
    return OutboxRow.of({**row, "status": PENDING})


@router.post("/ops/outbox/{event_id}/drop", response_model=OutboxRow)
async def drop_outbox_row(event_id: str, request: Request,
                          principal: Principal = require("ops:write")) -> OutboxRow:
    """Give up on a parked event: it stays on record as dropped (by whom), and the events held behind it go."""
    row = await _outbox(request).drop_parked(principal.tenant_id, event_id, principal.name)
    if row is None:
        raise _not_parked(await _row_or_404(request, principal.tenant_id, event_id))
    request.app.state.runtime.relay.forget_parked()
    request.app.state.runtime.relay.nudge()
    return OutboxRow.of({**row, "status": "dropped", "dropped_by": principal.name})


# --- dead letters -------------------------------------------------------------------------------------------------

class DeadLetter(BaseModel):
    id: str
    group_id: str = Field(description="The consumer group that gave up on the message.")
    topic: str
    partition: int | str
    offset: int | str
    event_id: str | None
    error: str = Field(description="Why it could not be handled.")
    attempts: int
    status: Literal["open", "replayed"]
    dead_lettered_at: datetime
    replayed_by: str | None = None
    replayed_at: datetime | None = None
    replay_outcome: str | None = Field(None, description="processed, or duplicate when it had taken effect before.")
    last_replay_error: str | None = None

    @classmethod
    def of(cls, row: dict) -> DeadLetter:
        return cls(id=row["_id"], **{name: row.get(name) for name in cls.model_fields if name != "id"})


class DeadLetterDetail(DeadLetter):
    headers: dict[str, str]
    body: str = Field(description="The message as it arrived (UTF-8; undecodable bytes shown as �).")


class DeadLetterList(BaseModel):
    items: list[DeadLetter]


@router.get("/ops/dead-letters", response_model=DeadLetterList)
async def list_dead_letters(request: Request, status: Literal["open", "replayed"] = "open",
                            limit: int = Query(50, ge=1, le=500),
                            principal: Principal = require("ops:read")) -> DeadLetterList:
    """Messages this service's consumers could not handle, newest first."""
    rows = await request.app.state.runtime.dead_letters.find(principal.tenant_id, status, limit)
    return DeadLetterList(items=[DeadLetter.of(row) for row in rows])


async def _dead_letter_or_404(request: Request, tenant_id: str, dead_letter_id: str) -> dict:
    row = await request.app.state.runtime.dead_letters.get(tenant_id, dead_letter_id)
    if row is None:
        raise NotFoundError(f"No dead letter {dead_letter_id}.", code="dead-letter-not-found")
    return row


@router.get("/ops/dead-letters/{dead_letter_id}", response_model=DeadLetterDetail)
async def get_dead_letter(dead_letter_id: str, request: Request,
                          principal: Principal = require("ops:read")) -> DeadLetterDetail:
    row = await _dead_letter_or_404(request, principal.tenant_id, dead_letter_id)
    return DeadLetterDetail(**DeadLetter.of(row).model_dump(), headers=row["headers"],
                            body=bytes(row["body"]).decode("utf-8", errors="replace"))


@router.post("/ops/dead-letters/{dead_letter_id}/replay", response_model=DeadLetter)
async def replay_dead_letter(dead_letter_id: str, request: Request,
                             principal: Principal = require("ops:write")) -> DeadLetter:
    """Hand the message to its consumer once more, after the cause was fixed. It takes effect once at most: an
    event that had taken effect before is a ``duplicate``. A message that fails again stays open (409)."""
    runtime = request.app.state.runtime
    row = await _dead_letter_or_404(request, principal.tenant_id, dead_letter_id)
    if row["status"] != "open":
        raise ConflictError(f"Dead letter {dead_letter_id} was already replayed.", code="already-replayed")
    consumer = runtime.consumer_of(row["group_id"], row["topic"])
    if consumer is None:
        raise ConflictError(f"This service no longer consumes {row['topic']} as {row['group_id']}.",
                            code="no-consumer")
    try:
        outcome = await consumer.replay(row["topic"], bytes(row["body"]))
    except Exception as exc:  # the handler's own error: the operator needs it, the message stays for later
        error = f"{type(exc).__name__}: {exc}"[:2000]
        await runtime.dead_letters.note_failed_replay(dead_letter_id, error)
        raise ConflictError(f"Replaying failed again: {error}", code="replay-failed") from exc
    await runtime.dead_letters.mark_replayed(dead_letter_id, principal.name, outcome)
    return DeadLetter.of(await _dead_letter_or_404(request, principal.tenant_id, dead_letter_id))


# --- one trip's events ------------------------------------------------------------------------------------------

class AnnouncedEvent(BaseModel):
    event_id: str
    event_type: str
    topic: str
    status: str = Field(description="pending, parked, held, published or dropped.")
    created_at: datetime = Field(description="When the change that announced it was committed.")
    published_at: datetime | None = None
    trace_id: str | None = Field(None, description="The trace of the request or event that caused it.")

    @classmethod
    def of(cls, row: dict) -> AnnouncedEvent:
        return cls(trace_id=trace_id_of(row.get("trace_context")),
                   **{name: row.get(name) for name in cls.model_fields if name != "trace_id"})


class TripEvents(BaseModel):
    service: str
    announced: list[AnnouncedEvent] = Field(description="What this service published about the trip, oldest first "
                                                        "(published events are kept 7 days).")
    dead_lettered: list[DeadLetter] = Field(description="The trip's messages this service's consumers gave up on.")


@router.get("/ops/trips/{trip_id}/events", response_model=TripEvents)
async def trip_events(request: Request, trip_id: str = Path(max_length=200),
                      limit: int = Query(200, ge=1, le=500),
                      principal: Principal = require("ops:read")) -> TripEvents:
    """The events this service announced about one trip (its Kafka key), and those of the trip it could not
    handle."""
    runtime = request.app.state.runtime
    announced = await runtime.outbox.with_key(principal.tenant_id, trip_id, limit)
    dead = await runtime.dead_letters.with_key(principal.tenant_id, trip_id, limit)
    return TripEvents(service=runtime.settings.service_name, announced=[AnnouncedEvent.of(row) for row in announced],
                      dead_lettered=[DeadLetter.of(row) for row in dead])


class HandledEvent(BaseModel):
    group_id: str
    event_id: str
    event_type: str
    processed_at: datetime


class HandledEvents(BaseModel):
    service: str
    consumes: dict[str, list[str]] = Field(description="Each of this service's consumer groups and the topics it "
                                                       "reads: who is expected to handle an event.")
    items: list[HandledEvent]


@router.get("/ops/handled", response_model=HandledEvents)
async def handled_events(request: Request,
                         event_id: list[Annotated[str, Field(max_length=100)]] = Query(..., min_length=1,
                                                                                        max_length=100,
                                                     description="The events to look for (up to 100)."),
                         principal: Principal = require("ops:read")) -> HandledEvents:
    """Which of these events this service's consumer groups have handled, and when (kept 30 days)."""
    runtime = request.app.state.runtime
    ids = list(dict.fromkeys(event_id))
    rows = await runtime.inbox.handled(principal.tenant_id, runtime.consumer_groups, ids)
    return HandledEvents(service=runtime.settings.service_name, consumes=runtime.topics_by_group,
                         items=[HandledEvent(**{name: row[name] for name in HandledEvent.model_fields})
                                for row in rows])
