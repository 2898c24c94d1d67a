"""The operations API every service serves under ``/v1/ops``: what its outbox could not publish, and what to do.

Scoped like the rest of ``/v1``: a key sees only its own agency's rows, and needs ``ops:read`` to look and
``ops:write`` to act.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from fastapi import Query, Request
from pydantic import BaseModel, Field

from trip_shared.errors import ConflictError, NotFoundError
from trip_shared.messaging.outbox import HELD, PARKED, PENDING
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
    payload: dict


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
    return OutboxRowDetail(**OutboxRow.of(row).model_dump(), size_bytes=len(row["payload"].encode()),
                           headers=row["headers"], payload=json.loads(row["payload"]))


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
    request.app.state.runtime.relay.nudge()
    return OutboxRow.of({**row, "status": PENDING})


@router.post("/ops/outbox/{event_id}/drop", response_model=OutboxRow)
async def drop_outbox_row(event_id: str, request: Request,
                          principal: Principal = require("ops:write")) -> OutboxRow:
    """Give up on a parked event: it stays on record as dropped (by whom), and the events held behind it go."""
    row = await _outbox(request).drop_parked(principal.tenant_id, event_id, principal.name)
    if row is None:
        raise _not_parked(await _row_or_404(request, principal.tenant_id, event_id))
    request.app.state.runtime.relay.nudge()
    return OutboxRow.of({**row, "status": "dropped", "dropped_by": principal.name})
