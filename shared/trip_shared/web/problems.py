"""RFC 9457 problem details: the one error format of every service."""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pymongo.errors import PyMongoError
from starlette.exceptions import HTTPException as StarletteHTTPException

from trip_shared import deadline
from trip_shared.errors import DomainError

# A request whose change committed but whose answer did not finish in time: retrying it blind would repeat it.
ANSWER_TIMED_OUT = ("answer-timed-out", "The change was made; its answer took too long",
                    "The request took effect, but its answer did not finish in time. Read the resource to see the "
                    "result; do not send the request again (or send it with the same Idempotency-Key).")

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
_TYPE_PREFIX = "https://trip-desk.example/problems/"

_HTTP_CODES = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
               406: "not-acceptable", 409: "conflict", 413: "payload-too-large", 415: "unsupported-media-type",
               422: "invalid-request", 429: "too-many-requests", 500: "internal-error", 503: "unavailable"}


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every error response."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str
    status: int
    detail: str = Field(description="What went wrong, for a person.")
    instance: str = Field(description="The path of the request.")
    code: str = Field(description="Stable, machine-readable: what to branch on.")
    model_config = ConfigDict(extra="allow")


_WHEN = {400: "Malformed JSON, a bad cursor or header", 401: "No valid API key", 403: "The key lacks the scope",
         404: "Not found in this agency", 409: "The request conflicts with the current state",
         412: "If-Match did not match the current ETag", 413: "The body is too large",
         422: "The request is not valid", 429: "Too many failed authentications; see Retry-After",
         503: "Past the request's deadline, or the database is unreachable; nothing changed, retry"}
# Documented on every /v1 operation, so clients (and Schemathesis) know each error's shape.
_PROBLEM_SCHEMA = Problem.model_json_schema()
_EXAMPLES = {
    401: {"code": "unauthorized", "title": "Authentication required",
          "detail": "Send an API key: Authorization: Bearer <key>."},
    404: {"code": "itinerary-not-found", "title": "Not found", "detail": "No itinerary 9f2c…."},
    409: {"code": "last-poc", "title": "The request conflicts with the current state",
          "detail": "Mei is the only point of contact of this trip; make another customer a POC first."},
    422: {"code": "invalid-request", "title": "The request is not valid",
          "detail": "body.start: local time 2027-05-01T25:00 is not valid."},
}
PROBLEM_RESPONSES: dict[int | str, dict] = {
    status: {"description": description, "content": {PROBLEM_JSON: {
        "schema": _PROBLEM_SCHEMA,
        **({"example": {"type": _TYPE_PREFIX + _EXAMPLES[status]["code"], "status": status,
                        "instance": "/v1/itineraries/9f2c…", **_EXAMPLES[status]}} if status in _EXAMPLES else {})}}}
    for status, description in _WHEN.items()
}


def problem_json_response(status: int, code: str, title: str, detail: str, instance: str,
                          headers: dict | None = None, **extra: Any) -> JSONResponse:
    # RFC 9457's own members are never overridden by an extension (a domain error's "status" once read "confirmed").
    body = {**extra, "type": _TYPE_PREFIX + code, "title": title, "status": status, "detail": detail,
            "instance": instance, "code": code}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_response(
    request: Request, status: int, code: str, title: str, detail: str, headers: dict | None = None, **extra: Any
) -> JSONResponse:
    return problem_json_response(status, code, title, detail, request.url.path, headers, **extra)


class ApiProblem(Exception):
    """Raised at the HTTP edge (auth, request shape) for errors that are not domain rules."""

    def __init__(self, status: int, code: str, title: str, detail: str, headers: dict | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail, self.headers = status, code, title, detail, headers


def _validation_errors(exc: RequestValidationError) -> list[dict]:
    return [
        {"location": [str(part) for part in err.get("loc", ())], "message": err.get("msg", ""), "type": err.get("type")}
        for err in exc.errors()
    ]


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(request, exc.status, exc.code, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(ApiProblem)
    async def api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(request, exc.status, exc.code, exc.title, exc.detail, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        if any(err["type"] == "json_invalid" for err in errors):
            return problem_response(request, 400, "malformed-json", "Malformed JSON",
                                    "The request body is not valid JSON.", errors=errors)
        return problem_response(request, 422, "invalid-request", "The request is not valid",
                                "; ".join(f"{'.'.join(e['location'])}: {e['message']}" for e in errors),
                                errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        return problem_response(request, exc.status_code, code, code.replace("-", " ").capitalize(),
                                str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(PyMongoError)
    async def database_error(request: Request, exc: PyMongoError) -> JSONResponse:
        # A timeout is the request's deadline passing (its transaction was aborted, not committed); the rest is
        # the database being unreachable. Either way nothing changed, and the same request may be retried.
        if exc.timeout and deadline.committed():
            log.warning("answer of a committed request stopped at its deadline", extra={"path": request.url.path})
            return problem_response(request, 503, *ANSWER_TIMED_OUT)
        if exc.timeout:
            log.warning("request stopped at its deadline: %s", type(exc).__name__, extra={"path": request.url.path})
            return problem_response(request, 503, "deadline-exceeded", "The request took too long",
                                    "The request did not finish in time and changed nothing; retry it.",
                                    headers={"Retry-After": "1"})
        log.error("database error: %s", type(exc).__name__, extra={"path": request.url.path})
        return problem_response(request, 503, "unavailable", "Service unavailable",
                                "The database is not reachable right now; nothing was changed. Retry shortly.",
                                headers={"Retry-After": "2"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error answering %s %s", request.method, request.url.path,
                  exc_info=(type(exc), exc, exc.__traceback__))
        return problem_response(request, 500, "internal-error", "Internal error",
                                "Something went wrong on our side; nothing was changed if the request was rejected.")
