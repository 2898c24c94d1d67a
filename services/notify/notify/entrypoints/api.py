"""HTTP API of the notify service: every delivery, with its status, for support and for the planner."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import Query, Request
from pydantic import BaseModel

from notify.service_layer import services
from trip_shared.web.auth import Principal, require, v1_router

router = v1_router(tags=["notifications"])

StatusFilter = Literal["pending", "sending", "sent", "failed", "waiting_for_contact", "no_address", "cancelled"]


class NotificationOut(BaseModel):
    id: str
    kind: str
    channel: Literal["email"] = "email"
    itinerary_id: str | None
    customer_id: str
    recipient: str | None
    language: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, document: dict) -> NotificationOut:
        return cls(id=document["_id"], **{name: document.get(name) for name in cls.model_fields
                                          if name not in ("id", "channel")})


class NotificationList(BaseModel):
    items: list[NotificationOut]


@router.get("/notifications", response_model=NotificationList)
async def list_notifications(request: Request, itinerary_id: str | None = Query(None, max_length=100),
                             customer_id: str | None = Query(None, max_length=100),
                             status: StatusFilter | None = None, limit: int = Query(50, ge=1, le=200),
                             principal: Principal = require("notifications:read")) -> NotificationList:
    filters = {name: value for name, value in
               (("itinerary_id", itinerary_id), ("customer_id", customer_id), ("status", status)) if value}
    found = await services.list_notifications(request.app.state.runtime.transaction, principal.tenant_id, filters,
                                              limit)
    return NotificationList(items=[NotificationOut.of(doc) for doc in found])


@router.get("/notifications/{notification_id}", response_model=NotificationOut)
async def get_notification(notification_id: str, request: Request,
                           principal: Principal = require("notifications:read")) -> NotificationOut:
    return NotificationOut.of(await services.get_notification(request.app.state.runtime.transaction,
                                                              principal.tenant_id, notification_id))


@router.post("/notifications/{notification_id}/retry", response_model=NotificationOut)
async def retry_notification(notification_id: str, request: Request,
                             principal: Principal = require("notifications:write")) -> NotificationOut:
    document = await services.retry_notification(request.app.state.runtime.transaction,
                                                 request.app.state.dispatcher, principal.tenant_id, notification_id)
    return NotificationOut.of(document)
