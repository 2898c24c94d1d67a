"""HTTP API of what the agency learns: satisfaction and NPS, incident rates, complaint resolution times, survey
response rates; each as JSON or as CSV (``format=csv``, or ``Accept: text/csv``) for a spreadsheet. Shapes and
routing only."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Literal

from fastapi import Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from feedback.domain.analytics import SATISFACTION_BY
from feedback.service_layer import services
from trip_shared.clock import utc_now
from trip_shared.errors import DomainError
from trip_shared.web.auth import Principal, require, v1_router

router = v1_router(tags=["analytics"])
MAX_RANGE = timedelta(days=3 * 366)
COLUMNS = {
    "satisfaction": ["responses", "average_overall", "nps", "promoters", "passives", "detractors"],
    "satisfaction:supplier": ["supplier", "ratings", "average_rating"],
    "incident-rates:supplier": ["supplier", "incidents", "bookings", "per_100_bookings"],
    "incident-rates:kind": ["kind", "incidents", "trips", "per_100_trips"],
    "complaints": ["cause", "complaints", "open", "overdue", "escalated", "median_hours_to_offer",
                   "p90_hours_to_offer", "median_hours_to_acceptance", "p90_hours_to_acceptance"],
    "survey-responses": ["kind", "surveys", "asked", "answered", "rate"],
}
Format = Literal["json", "csv"]
# Each report is also a CSV download: say so, so clients (and the API's contract tests) know both answers.
AS_CSV = {200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                "description": "The report as JSON, or as CSV with format=csv or Accept: text/csv."}}


class Report(BaseModel):
    report: str
    from_date: date = Field(serialization_alias="from")
    to_date: date = Field(serialization_alias="to")
    by: str | None = None
    rows: list[dict] = Field(description="One per group; the same columns as the CSV.")


class InvalidRange(DomainError):
    code = "invalid-range"


def _range(start: date | None, end: date | None) -> tuple[date, date]:
    """Default: the twelve months to today."""
    end = end or utc_now().date()
    start = start or end - timedelta(days=365)
    if start > end or end - start > MAX_RANGE:
        raise InvalidRange("from must be on or before to, at most three years apart.")
    return start, end


def _answer(request: Request, report: str, columns: list[str], rows: list[dict], start: date, end: date,
            by: str | None, format_: Format | None) -> Response:
    wants_csv = format_ == "csv" or (format_ is None and "text/csv" in request.headers.get("accept", ""))
    if not wants_csv:
        body = Report(report=report, from_date=start, to_date=end, by=by, rows=rows)
        return Response(body.model_dump_json(by_alias=True), media_type="application/json")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    name = f"{report}{f'-by-{by}' if by else ''}-{start}-{end}.csv"
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


DATES = {"start": Query(None, alias="from", description="First day (default: a year before to)."),
         "end": Query(None, alias="to", description="Last day (default: today).")}


@router.get("/analytics/satisfaction", response_model=Report, responses=AS_CSV)
async def satisfaction(request: Request, by: Literal[SATISFACTION_BY] = "month",  # type: ignore[valid-type]
                       start: date | None = DATES["start"], end: date | None = DATES["end"],
                       format: Format | None = None,  # noqa: A002 (the query parameter's name)
                       principal: Principal = require("feedback:read")) -> Response:
    """Survey answers answered in the range, per month or ISO week, trip destination (the zone most of its
    services are in) or planner: responses, average overall (1–5), NPS (−100 to 100) with promoters (9–10),
    passives (7–8) and detractors (0–6). Per supplier: ratings and their average. Each traveller counts once per
    survey, with their latest answer."""
    start, end = _range(start, end)
    rows = await services.satisfaction_report(request.app.state.runtime.transaction, principal.tenant_id, start,
                                              end, by)
    columns = COLUMNS["satisfaction:supplier"] if by == "supplier" else [by, *COLUMNS["satisfaction"]]
    return _answer(request, "satisfaction", columns, rows, start, end, by, format)


@router.get("/analytics/incident-rates", response_model=Report, responses=AS_CSV)
async def incident_rates(request: Request, by: Literal["supplier", "kind"] = "supplier",
                         start: date | None = DATES["start"], end: date | None = DATES["end"],
                         format: Format | None = None,  # noqa: A002
                         principal: Principal = require("feedback:read")) -> Response:
    """Incidents reported in the range: per supplier, per 100 of its bookings whose service falls in the range;
    per kind, per 100 trips starting in the range."""
    start, end = _range(start, end)
    rates = await services.incident_report(request.app.state.runtime.transaction, principal.tenant_id, start, end)
    rows = rates["suppliers" if by == "supplier" else "kinds"]
    return _answer(request, "incident-rates", COLUMNS[f"incident-rates:{by}"], rows, start, end, by, format)


@router.get("/analytics/complaints", response_model=Report, responses=AS_CSV)
async def complaints(request: Request, start: date | None = DATES["start"], end: date | None = DATES["end"],
                     format: Format | None = None,  # noqa: A002
                     principal: Principal = require("feedback:read")) -> Response:
    """Complaints received in the range, in all and per cause: how many are open, overdue and were escalated, and
    the hours from receipt to the first offer and to the client's acceptance (median, 90th percentile)."""
    start, end = _range(start, end)
    rows = await services.complaint_report(request.app.state.runtime.transaction, principal.tenant_id, start, end)
    return _answer(request, "complaints", COLUMNS["complaints"], rows, start, end, None, format)


@router.get("/analytics/survey-responses", response_model=Report, responses=AS_CSV)
async def survey_responses(request: Request, start: date | None = DATES["start"], end: date | None = DATES["end"],
                           format: Format | None = None,  # noqa: A002
                           principal: Principal = require("feedback:read")) -> Response:
    """Surveys sent in the range, per kind: travellers asked, how many answered, the response rate."""
    start, end = _range(start, end)
    rows = await services.response_report(request.app.state.runtime.transaction, principal.tenant_id, start, end)
    return _answer(request, "survey-responses", COLUMNS["survey-responses"], rows, start, end, None, format)
