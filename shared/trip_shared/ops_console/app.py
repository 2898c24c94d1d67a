"""The console's web app: ``python -m trip_shared.ops_console`` (``make up`` starts it on port 8100)."""
from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode, urlsplit

import httpx
from fastapi import FastAPI, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from trip_shared.config import DEFAULT_PORTS
from trip_shared.contracts.registry import TOPICS
from trip_shared.ops_console import pages
from trip_shared.ops_console.chain import trip_chain
from trip_shared.ops_console.spans import SpanStore, parse_export
from trip_shared.web.pages import read_form

SERVICES = ("customers", "itinerary", "booking", "notify", "feedback")
STATE_TOPICS = frozenset(spec.name for spec in TOPICS if spec.compacted)
COOKIE = "trip_desk_ops_key"
# Departures this close count for the bookings list: what a coordinator must chase today.
BOOKINGS_WITHIN_DAYS = 7


@dataclass(frozen=True)
class ConsoleSettings:
    service_urls: dict[str, str]
    trace_ui_url: str = ""  # Jaeger's UI: each trace id links to <url>/trace/<id>
    receive_spans: bool = False  # keep the spans the services send to /v1/traces, for /traces/<id>
    secure_cookie: bool = True
    host: str = "127.0.0.1"
    port: int = 8100

    @classmethod
    def from_env(cls) -> ConsoleSettings:
        return cls(
            service_urls={name: os.environ.get(f"{name.upper()}_URL", f"http://127.0.0.1:{DEFAULT_PORTS[name]}")
                          for name in SERVICES},
            trace_ui_url=os.environ.get("TRACE_UI_URL", "").rstrip("/"),
            receive_spans=os.environ.get("OPS_CONSOLE_RECEIVE_SPANS", "").lower() in ("1", "true", "yes"),
            secure_cookie=os.environ.get("OPS_CONSOLE_SECURE_COOKIE", "true").lower() not in ("0", "false", "no"),
            host=os.environ.get("OPS_CONSOLE_HOST", "127.0.0.1"),
            port=int(os.environ.get("OPS_CONSOLE_PORT", "8100")))


class NotSignedIn(Exception):
    pass


class Services:
    """The five services' HTTP APIs, called with the operator's key."""

    def __init__(self, urls: dict[str, str], client: httpx.AsyncClient) -> None:
        self.urls, self.client = urls, client

    async def get(self, key: str, service: str, path: str, **params) -> dict:
        response = await self.client.get(self.urls[service] + path, params=params,
                                         headers={"Authorization": f"Bearer {key}"})
        return _answer(service, response)

    async def post(self, key: str, service: str, path: str) -> dict:
        response = await self.client.post(self.urls[service] + path, headers={"Authorization": f"Bearer {key}"})
        return _answer(service, response)

    async def gather(self, calls: dict[str, object]) -> tuple[dict[str, dict], dict[str, str]]:
        """Each call's answer, and for each that failed, why (the page shows the rest)."""
        names = list(calls)
        outcomes = await asyncio.gather(*calls.values(), return_exceptions=True)
        answers, failures = {}, {}
        for name, outcome in zip(names, outcomes, strict=True):
            if isinstance(outcome, NotSignedIn):
                raise outcome
            if isinstance(outcome, BaseException):
                failures[name] = _why(outcome)
            else:
                answers[name] = outcome
        return answers, failures


class ServiceRefused(Exception):
    def __init__(self, service: str, status: int, detail: str) -> None:
        super().__init__(f"{service} answered {status}: {detail}")
        self.status = status


def _answer(service: str, response: httpx.Response) -> dict:
    if response.status_code == 401:
        raise NotSignedIn()
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail") or response.reason_phrase
        except ValueError:
            detail = response.reason_phrase
        raise ServiceRefused(service, response.status_code, str(detail)[:300])
    return response.json()


def _why(error: BaseException) -> str:
    if isinstance(error, ServiceRefused):
        return str(error)
    if isinstance(error, httpx.TransportError):
        return f"did not answer ({type(error).__name__})"
    return f"{type(error).__name__}: {error}"[:300]


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or ConsoleSettings.from_env()
    spans = SpanStore() if settings.receive_spans else None

    async def lifespan(app: FastAPI):
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0)) as client:
            app.state.services = Services(settings.service_urls, client)
            yield

    app = FastAPI(title="Trip Desk ops console", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)

    def trace_url(trace_id: str) -> str | None:
        if settings.trace_ui_url:
            return f"{settings.trace_ui_url}/trace/{trace_id}"
        return f"/traces/{trace_id}" if spans is not None else None

    def services(request: Request) -> Services:
        return request.app.state.services

    @app.exception_handler(NotSignedIn)
    async def sign_in_again(request: Request, exc: NotSignedIn) -> Response:
        response = RedirectResponse("/sign-in", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    def key_of(request: Request) -> str:
        key = request.cookies.get(COOKIE)
        if not key:
            raise NotSignedIn()
        return key

    def same_origin(request: Request) -> bool:
        """The cookie is SameSite=Strict already; an action must also come from one of the console's own pages."""
        origin = request.headers.get("origin") or request.headers.get("referer")
        return origin is None or urlsplit(origin).netloc == request.headers.get("host")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/sign-in")
    async def sign_in_form() -> Response:
        return pages.sign_in_page()

    @app.post("/sign-in")
    async def sign_in(request: Request) -> Response:
        key = (await _field(request, "api_key"))[:200].strip()
        if not key:
            return pages.sign_in_page("Give your API key.")
        try:
            await services(request).get(key, "notify", "/v1/ops/outbox", limit=1)
        except NotSignedIn:
            return pages.sign_in_page("That key is not known to the platform.")
        except ServiceRefused as refused:
            return pages.sign_in_page("That key may not read the operations API (it needs ops:read)."
                                      if refused.status == 403 else str(refused))
        except httpx.TransportError:
            return pages.sign_in_page("notify did not answer; the key could not be checked. Try again.")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, key, httponly=True, samesite="strict", secure=settings.secure_cookie,
                            max_age=8 * 3600)
        return response

    @app.post("/sign-out")
    async def sign_out() -> Response:
        response = RedirectResponse("/sign-in", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/")
    async def what_is_stuck(request: Request, done: str | None = Query(None, max_length=300),
                            failed: str | None = Query(None, max_length=500)) -> Response:
        key, calls = key_of(request), services(request)
        wanted = {f"{name} outbox": calls.get(key, name, "/v1/ops/outbox") for name in SERVICES}
        wanted |= {f"{name} dead letters": calls.get(key, name, "/v1/ops/dead-letters") for name in SERVICES}
        wanted["notify failed messages"] = calls.get(key, "notify", "/v1/notifications", status="failed", limit=100)
        wanted["booking readiness"] = calls.get(key, "booking", "/v1/readiness",
                                                departing_within_days=BOOKINGS_WITHIN_DAYS)
        wanted["feedback trips"] = calls.get(key, "feedback", "/v1/operations/trips", days_ahead=BOOKINGS_WITHIN_DAYS)
        wanted["feedback incidents"] = calls.get(key, "feedback", "/v1/incidents", status="open", limit=200)
        answers, unanswered = await calls.gather(wanted)
        return pages.stuck_page(stuck_report(answers), trace_url, done, failed, unanswered)

    @app.get("/trips")
    async def find_trip(id: str = Query("", max_length=200)) -> Response:  # noqa: A002 (the form's field)
        return RedirectResponse(f"/trips/{quote(id.strip(), safe='')}" if id.strip() else "/", status_code=303)

    @app.get("/trips/{trip_id}")
    async def trip(request: Request, trip_id: str = Path(max_length=200),
                   done: str | None = Query(None, max_length=300),
                   failed: str | None = Query(None, max_length=500)) -> Response:
        key, calls = key_of(request), services(request)
        path = quote(trip_id, safe="")
        wanted = {name: calls.get(key, name, f"/v1/ops/trips/{path}/events") for name in SERVICES}
        wanted["deliveries"] = calls.get(key, "notify", "/v1/notifications", itinerary_id=trip_id, limit=200)
        wanted["trip"] = calls.get(key, "itinerary", f"/v1/itineraries/{path}")
        answers, unanswered = await calls.gather(wanted)
        unanswered.pop("trip", None)  # only its title: a trip itinerary no longer has still has its events
        event_ids = [event["event_id"] for name in SERVICES for event in answers.get(name, {}).get("announced", [])]
        handled, handled_failures = await calls.gather(
            {name: _handled(calls, key, name, event_ids) for name in SERVICES}) if event_ids else ({}, {})
        unanswered |= {f"{name} (who handled what)": why for name, why in handled_failures.items()}
        chain = trip_chain(trip_id, {name: answers[name] for name in SERVICES if name in answers}, handled,
                           answers.get("deliveries", {}).get("items", []), sorted(unanswered),
                           datetime.now(UTC), STATE_TOPICS)
        title = answers.get("trip", {}).get("title")
        return pages.chain_page(chain, title, trace_url, f"/trips/{path}", done, failed, unanswered)

    async def act(request: Request, call, what: str) -> Response:
        if not same_origin(request):
            call.close()
            return Response("Actions come from the console's own pages.", status_code=403)
        back = (await _field(request, "back"))[:300]
        back = back if back.startswith("/") and not back.startswith("//") else "/"
        try:
            await call
            outcome = {"done": what}
        except ServiceRefused as refused:
            outcome = {"failed": f"{what}: not done — {refused}"}
        except httpx.TransportError as error:
            outcome = {"failed": f"{what}: not done — {_why(error)}"}
        return RedirectResponse(f"{back}?{urlencode(outcome)}", status_code=303)

    @app.post("/actions/replay/{service}/{dead_letter_id}")
    async def replay(request: Request, service: str, dead_letter_id: str = Path(max_length=300)) -> Response:
        if service not in SERVICES:
            return Response(status_code=404)
        call = services(request).post(key_of(request), service,
                                      f"/v1/ops/dead-letters/{quote(dead_letter_id, safe='')}/replay")
        return await act(request, call, f"Replayed {service}'s dead letter {dead_letter_id}")

    @app.post("/actions/republish/{service}/{event_id}")
    async def republish(request: Request, service: str, event_id: str = Path(max_length=100)) -> Response:
        if service not in SERVICES:
            return Response(status_code=404)
        call = services(request).post(key_of(request), service, f"/v1/ops/outbox/{quote(event_id, safe='')}/retry")
        return await act(request, call, f"{service} publishes event {event_id} again")

    @app.post("/actions/retry-delivery/{notification_id}")
    async def retry_delivery(request: Request, notification_id: str = Path(max_length=300)) -> Response:
        call = services(request).post(key_of(request), "notify",
                                      f"/v1/notifications/{quote(notification_id, safe='')}/retry")
        return await act(request, call, f"Message {notification_id} is being sent again")

    @app.get("/traces/{trace_id}")
    async def show_trace(request: Request, trace_id: str = Path(pattern=r"^[0-9a-f]{32}$")) -> Response:
        await services(request).get(key_of(request), "notify", "/v1/ops/outbox", limit=1)  # a key, not a cookie
        if spans is None:
            if settings.trace_ui_url:
                return RedirectResponse(f"{settings.trace_ui_url}/trace/{trace_id}", status_code=303)
            return Response("This console keeps no spans (OPS_CONSOLE_RECEIVE_SPANS) and knows no trace store "
                            "(TRACE_UI_URL).", status_code=404)
        return pages.trace_page(trace_id, spans.trace(trace_id))

    if spans is not None:
        @app.post("/v1/traces", include_in_schema=False)
        async def receive_spans(request: Request) -> Response:
            try:
                spans.add(parse_export(await request.body()))
            except Exception:  # a body that is not an export: the exporter retries nothing on a 400
                return Response(status_code=400)
            return Response(ExportTraceServiceResponse().SerializeToString(), media_type="application/x-protobuf")

    return app


async def _field(request: Request, name: str) -> str:
    return ((await read_form(request)).get(name) or [""])[0]


async def _handled(calls: Services, key: str, service: str, event_ids: list[str]) -> dict:
    """``/v1/ops/handled`` for any number of events, 100 at a time."""
    answer: dict = {"items": [], "consumes": {}}
    for start in range(0, len(event_ids), 100):
        part = await calls.get(key, service, "/v1/ops/handled", event_id=event_ids[start:start + 100])
        answer["items"] += part["items"]
        answer["consumes"] = part["consumes"]
    return answer


def stuck_report(answers: dict[str, dict]) -> dict:
    """The services' answers as the lists the page shows."""
    outbox = [{**row, "service": name} for name in SERVICES for row in answers.get(f"{name} outbox", {}).get(
        "items", [])]
    dead = [{**row, "service": name} for name in SERVICES for row in answers.get(f"{name} dead letters", {}).get(
        "items", [])]
    bookings = []
    for trip in answers.get("booking readiness", {}).get("items", []):
        for state in ("late", "pending", "declined", "unrequested"):
            seen = {line.get("booking_id") for line in bookings if line["itinerary_id"] == trip["itinerary_id"]}
            for line in trip.get(state, []):
                if line.get("booking_id") and line["booking_id"] in seen:
                    continue  # a late booking is pending too: said once, as late
                bookings.append({**line, "state": state, "itinerary_id": trip["itinerary_id"],
                                 "trip_title": trip["title"], "departs_on": trip.get("departs_on")})
    unread = [{**message, "itinerary_id": trip["itinerary_id"], "title": trip["title"]}
              for trip in answers.get("feedback trips", {}).get("items", [])
              for message in trip.get("unread_urgent_messages", []) if message.get("overdue")]
    incidents = [incident for incident in answers.get("feedback incidents", {}).get("items", [])
                 if incident.get("overdue")]
    return {"outbox": outbox, "dead_letters": dead,
            "failed_deliveries": answers.get("notify failed messages", {}).get("items", []),
            "unread_urgent": unread, "bookings": bookings, "incidents": incidents}
