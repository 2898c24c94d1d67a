"""HTTP API of incidents: report, follow and close what went wrong on a trip. Shapes and routing only."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from feedback.domain.incidents import BORNE_BY, KINDS, SEVERITIES, STATUSES, CostImpact, Incident
from feedback.service_layer import services
from trip_shared.clock import utc_now
from trip_shared.web.auth import Principal, require, v1_router
from trip_shared.web.fields import Line, Text

router = v1_router(tags=["incidents"])
Id = Annotated[str, Path(max_length=100)]
Kind = Literal[KINDS]  # type: ignore[valid-type]
Severity = Literal[SEVERITIES]  # type: ignore[valid-type]


class CostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: str = Field(max_length=20, pattern=r"^\d{1,12}(\.\d{1,2})?$", description="Exact decimal: '180.00'.")
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217, e.g. JPY.")
    borne_by: Literal[BORNE_BY]  # type: ignore[valid-type]


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"itinerary_id": "<itinerary id>", "item_id": "<flight item id>", "kind": "delay", "severity": "high",
         "summary": "BA5 delayed 3 hours", "description": "Airline app shows a crew shortage; gate agent "
         "confirmed 22:50 departure.", "occurred_at": "2027-10-01T19:05", "delay_minutes": 180,
         "supplier": "British Airways"}]})
    itinerary_id: str = Field(min_length=1, max_length=100)
    kind: Kind
    severity: Severity
    summary: Line = Field(max_length=200, description="What happened, in one line (internal).")
    description: Text | None = Field(None, max_length=5000, description="The staff's account (internal: never "
                                                                        "shown to a client or a supplier).")
    occurred_at: str = Field(max_length=19, pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$",
                             description="Local wall-clock time where it happened, without an offset.")
    timezone: Line | None = Field(None, max_length=64, description="IANA zone of occurred_at; default: the "
                                                                   "item's.")
    item_id: str | None = Field(None, max_length=100)
    booking_id: str | None = Field(None, max_length=100)
    supplier: Line | None = Field(None, max_length=200)
    delay_minutes: int | None = Field(None, strict=True, ge=1, le=10080, description="A delay: by how much the "
                                                                                     "item now starts later, minutes.")
    travellers: list[Annotated[str, Field(max_length=100)]] = Field(
        [], max_length=50, description="Customer ids of the travellers it happened to.")
    owner: Line | None = Field(None, max_length=200, description="Who handles it (default: who acknowledges).")
    cost: CostIn | None = None


class TimelineEntryOut(BaseModel):
    at: datetime
    actor: str
    kind: str
    text: str


class IncidentOut(BaseModel):
    id: str
    itinerary_id: str
    kind: str
    severity: str
    status: Literal[STATUSES]  # type: ignore[valid-type]
    summary: str
    description: str | None
    occurred_at: str = Field(description="Local time where it happened.")
    timezone: str
    occurred_at_utc: datetime
    reported_at: datetime
    response_due_at: datetime
    overdue: bool = Field(description="Still open past its response deadline.")
    item_id: str | None
    booking_id: str | None
    supplier: str | None
    delay_minutes: int | None
    travellers: list[str]
    owner: str | None
    cost: CostIn | None
    resolution: str | None
    acknowledged_at: datetime | None
    escalated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    version: int
    timeline: list[TimelineEntryOut]

    @classmethod
    def of(cls, incident: Incident, now: datetime) -> IncidentOut:
        cost = incident.cost
        return cls(
            **{name: getattr(incident, name) for name in cls.model_fields
               if name not in ("occurred_at", "occurred_at_utc", "overdue", "cost", "timeline")},
            occurred_at=incident.occurred_local, occurred_at_utc=incident.occurred_at,
            overdue=incident.status == "open" and now >= incident.response_due_at,
            cost=CostIn(amount=cost.money.amount, currency=cost.money.currency, borne_by=cost.borne_by)
            if cost else None,
            timeline=[TimelineEntryOut(at=e.at, actor=e.actor, kind=e.kind, text=e.text) for e in incident.timeline])


class IncidentList(BaseModel):
    items: list[IncidentOut]


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Text | None = Field(None, max_length=5000)
    owner: Line | None = Field(None, max_length=200)


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"kind": "communication", "text": "Called Mei: told her the new departure and that the transfer waits."}]})
    kind: Literal["action", "communication"]
    text: Text = Field(min_length=1, max_length=5000)


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution: Text = Field(min_length=1, max_length=5000)
    cost: CostIn | None = None


class ReopenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(min_length=1, max_length=5000)


def _transaction(request: Request):
    return request.app.state.runtime.transaction


def _cost(cost: CostIn | None) -> CostImpact | None:
    return CostImpact.of(cost.amount, cost.currency, cost.borne_by) if cost else None


def _out(incident: Incident) -> IncidentOut:
    return IncidentOut.of(incident, utc_now())


@router.post("/incidents", status_code=201, response_model=IncidentOut)
async def report_incident(body: IncidentIn, request: Request, response: Response,
                          principal: Principal = require("incidents:write")) -> IncidentOut:
    """Record what went wrong, timed where it happened. Its severity sets how soon a person must acknowledge it
    (critical 15 min, high 1 h, medium 4 h, low 24 h); past that it escalates to the planners."""
    fields = body.model_dump(exclude={"itinerary_id", "cost", "occurred_at"})
    incident = await services.report_incident(
        _transaction(request), principal.tenant_id, body.itinerary_id, principal.name,
        request.app.state.runtime.settings.read_model_wait_s,
        cost=body.cost.model_dump() if body.cost else None, occurred_local=body.occurred_at, **fields)
    response.headers["Location"] = f"/v1/incidents/{incident.id}"
    return _out(incident)


@router.get("/incidents", response_model=IncidentList)
async def list_incidents(
        request: Request,
        itinerary_id: str | None = Query(None, max_length=100),
        status: list[Literal[STATUSES]] | None = Query(None, max_length=4),  # type: ignore[valid-type]
        severity: list[Severity] | None = Query(None, max_length=4),
        kind: list[Kind] | None = Query(None, max_length=8),
        supplier: str | None = Query(None, max_length=200),
        limit: int = Query(100, ge=1, le=500),
        principal: Principal = require("incidents:read")) -> IncidentList:
    """Whatever needs a person first: open, then acknowledged, resolved and closed; the most severe first."""
    filters: dict = {}
    if itinerary_id:
        filters["itinerary_id"] = itinerary_id
    for name, values in (("status", status), ("severity", severity), ("kind", kind)):
        if values:
            filters[name] = {"$in": list(values)}
    if supplier:
        filters["supplier"] = supplier
    found = await services.list_incidents(_transaction(request), principal.tenant_id, filters, limit)
    return IncidentList(items=[_out(incident) for incident in found])


@router.get("/incidents/{incident_id}", response_model=IncidentOut)
async def get_incident(incident_id: Id, request: Request,
                       principal: Principal = require("incidents:read")) -> IncidentOut:
    return _out(await services.get_incident(_transaction(request), principal.tenant_id, incident_id))


@router.post("/incidents/{incident_id}/acknowledge", response_model=IncidentOut)
async def acknowledge_incident(incident_id: Id, request: Request, body: AcknowledgeIn | None = None,
                               principal: Principal = require("incidents:write")) -> IncidentOut:
    """A person has it (409 unless it is open)."""
    body = body or AcknowledgeIn()
    return _out(await services.change_incident(
        _transaction(request), principal.tenant_id, incident_id,
        lambda incident, now: incident.acknowledge(principal.name, now, body.note, body.owner)))


@router.post("/incidents/{incident_id}/timeline", response_model=IncidentOut)
async def add_timeline_entry(incident_id: Id, body: EntryIn, request: Request,
                             principal: Principal = require("incidents:write")) -> IncidentOut:
    """What was done, or said to whom (409 once closed)."""
    return _out(await services.change_incident(
        _transaction(request), principal.tenant_id, incident_id,
        lambda incident, now: incident.record(body.kind, body.text, principal.name, now)))


@router.put("/incidents/{incident_id}/cost", response_model=IncidentOut)
async def record_cost(incident_id: Id, body: CostIn, request: Request,
                      principal: Principal = require("incidents:write")) -> IncidentOut:
    """What it cost and who bears it (replaces an earlier figure)."""
    return _out(await services.change_incident(
        _transaction(request), principal.tenant_id, incident_id,
        lambda incident, now: incident.record_cost(_cost(body), principal.name, now)))


@router.post("/incidents/{incident_id}/resolve", response_model=IncidentOut)
async def resolve_incident(incident_id: Id, body: ResolveIn, request: Request,
                           principal: Principal = require("incidents:write")) -> IncidentOut:
    return _out(await services.change_incident(
        _transaction(request), principal.tenant_id, incident_id,
        lambda incident, now: incident.resolve(body.resolution, principal.name, now, _cost(body.cost))))


@router.post("/incidents/{incident_id}/reopen", response_model=IncidentOut)
async def reopen_incident(incident_id: Id, body: ReopenIn, request: Request,
                          principal: Principal = require("incidents:write")) -> IncidentOut:
    return _out(await services.change_incident(
        _transaction(request), principal.tenant_id, incident_id,
        lambda incident, now: incident.reopen(body.reason, principal.name, now)))


@router.post("/incidents/{incident_id}/close", response_model=IncidentOut)
async def close_incident(incident_id: Id, request: Request,
                         principal: Principal = require("incidents:write")) -> IncidentOut:
    return _out(await services.change_incident(
        _transaction(request), principal.tenant_id, incident_id,
        lambda incident, now: incident.close(principal.name, now)))
