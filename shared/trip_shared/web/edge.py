"""The HTTP edge: what every request crosses before a route sees it, in every service.

In order:
1. a client that failed authentication too often lately is answered 429 with ``Retry-After`` (API keys and signed
   links alike, so neither can be guessed at speed);
2. ``/v1`` requests are authenticated from their ``Authorization`` header *before* any of the body is read;
3. the body is read up to ``HTTP_MAX_BODY_BYTES`` and refused with 413 past it (a declared ``Content-Length`` is
   refused without reading at all), so no route ever parses an unbounded body;
4. the request runs under a deadline (``REQUEST_TIMEOUT_S``): database operations inherit what is left of it (see
   :mod:`trip_shared.deadline`), and a request still running past it is answered 503;
5. every response gets the security headers: tokens travel in link URLs, so no referrer leaves, link pages are
   never cached, and no page can be framed.

Pure ASGI (no ``BaseHTTPMiddleware``), so the buffered body is replayed to the app exactly as it arrived.
"""
from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable

from pymongo.errors import PyMongoError
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trip_shared import deadline
from trip_shared.web import idempotency
from trip_shared.web.auth import ApiKeyRegistry, principal_for
from trip_shared.web.idempotency import IdempotencyKeys
from trip_shared.web.problems import ANSWER_TIMED_OUT, problem_json_response
from trip_shared.web.sse import is_event_stream_path

log = logging.getLogger(__name__)

# Client pages whose next path segment is a signed link: a credential, kept out of traces and caches.
SIGNED_LINK_PREFIXES = ("/forms/profile/", "/proposals/", "/trips/", "/agreements/", "/acknowledge/", "/unsubscribe/")
# Nothing loads from elsewhere. The API documents (served from this service, trip_shared.web.docs) also fetch the
# OpenAPI document and use Swagger UI's stylesheet file.
DOCUMENTATION_PATHS = ("/docs",)
PAGE_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; script-src 'self'; "
               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
DOCUMENTATION_POLICY = ("default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                        "script-src 'self'; connect-src 'self'; "
                        "frame-ancestors 'none'; base-uri 'none'")


def is_signed_link_path(path: str) -> bool:
    return path.startswith(SIGNED_LINK_PREFIXES)


def is_api_path(path: str) -> bool:
    return path == "/v1" or path.startswith("/v1/")


class FailureLimiter:
    """Counts failed authentications per client in a sliding window; past the limit the client waits.

    In memory, per process: each replica limits on its own, which bounds guessing per replica; a shared limit
    across replicas belongs to the gateway in front of them.
    """

    def __init__(self, limit: int, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, client: str) -> deque[float] | None:
        failures = self._failures.get(client)
        if failures is None:
            return None
        horizon = self._clock() - self.window_s
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[client]
            return None
        return failures

    def retry_after_s(self, client: str) -> int:
        """0 when the client may try; else the whole seconds until its oldest counted failure leaves the window."""
        failures = self._recent(client)
        if failures is None or len(failures) < self.limit:
            return 0
        return max(1, math.ceil(failures[0] + self.window_s - self._clock()))

    def record_failure(self, client: str) -> None:
        if len(self._failures) > 100_000:  # a flood of distinct addresses must not grow memory without bound
            for name in list(self._failures):
                self._recent(name)
        self._failures.setdefault(client, deque()).append(self._clock())


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class _BodyTooLarge(Exception):
    pass


class HttpEdge:
    def __init__(self, app: ASGIApp, *, api_keys: Callable[[], ApiKeyRegistry], max_body_bytes: int,
                 request_timeout_s: float, failure_limiter: FailureLimiter,
                 idempotency_keys: IdempotencyKeys | None = None) -> None:
        self.app = app
        self._api_keys = api_keys
        self.max_body_bytes = max_body_bytes
        self.request_timeout_s = request_timeout_s
        self.limiter = failure_limiter
        self.idempotency_keys = idempotency_keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        client = _client(scope)
        send = self._with_security_headers(path, send)
        status_seen: list[int] = []

        async def observed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_seen.append(message["status"])
            await send(message)

        retry_after = self.limiter.retry_after_s(client)
        if retry_after:
            await self._refuse(scope, receive, observed_send, 429, "too-many-requests", "Too many failed attempts",
                               f"Too many failed authentications from this address; try again in {retry_after} s.",
                               {"Retry-After": str(retry_after)})
            return
        headers = Headers(scope=scope)
        if is_api_path(path):
            principal, problem = principal_for(self._api_keys(), headers.get("authorization", ""))
            if problem:
                self._failed(client, path, problem)
                await self._refuse(scope, receive, observed_send, 401, "unauthorized", "Unauthorized", problem,
                                   {"WWW-Authenticate": "Bearer"})
                return
            scope.setdefault("state", {})["principal"] = principal
        try:
            body = await self._read_body(headers, receive)
        except _BodyTooLarge:
            await self._refuse(scope, receive, observed_send, 413, "payload-too-large", "Request body too large",
                               f"The request body is larger than {self.max_body_bytes} bytes.", {"Connection": "close"})
            return
        key = headers.get(idempotency.HEADER)
        if key is not None and scope["method"] == "POST" and is_api_path(path) and self.idempotency_keys:
            await self._run_once(scope, body, receive, observed_send, principal.tenant_id, key)
        elif is_event_stream_path(path) and scope["method"] == "GET":
            await self.app(scope, _replay(body, receive), observed_send)  # open for long; see trip_shared.web.sse
        else:
            await self._run_with_deadline(scope, _replay(body, receive), observed_send, status_seen)
        if status_seen and is_signed_link_path(path) and status_seen[0] == 403:
            self._failed(client, path, "invalid signed link")

    def _failed(self, client: str, path: str, reason: str) -> None:
        self.limiter.record_failure(client)
        # Never the key itself: only who tried, where, and why it failed.
        log.warning("authentication failed", extra={"client": client, "path": redacted_path(path), "reason": reason})

    async def _read_body(self, headers: Headers, receive: Receive) -> bytes:
        declared = headers.get("content-length")
        if declared is not None:
            try:
                if int(declared) > self.max_body_bytes:
                    raise _BodyTooLarge
            except ValueError:
                pass  # the server rejects a malformed Content-Length itself
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _run_once(self, scope: Scope, body: bytes, receive: Receive, send: Send, tenant_id: str,
                        key: str) -> None:
        if not idempotency.valid_key(key):
            await self._refuse(scope, receive, send, 400, "invalid-idempotency-key", "Invalid Idempotency-Key",
                               f"An Idempotency-Key is 1 to {idempotency.MAX_KEY_LENGTH} printable ASCII characters "
                               "(a UUID is a good one).", {})
            return
        request_fingerprint = idempotency.fingerprint(scope["method"], scope["path"], scope.get("query_string", b""),
                                                      body)
        reservation = await self.idempotency_keys.reserve(tenant_id, key, request_fingerprint)
        if reservation.refusal:
            status, code, detail = reservation.refusal
            await self._refuse(scope, receive, send, status, code, "Idempotency-Key conflict", detail,
                               {"Retry-After": "1"} if code == "idempotency-key-in-use" else {})
            return
        if reservation.replay:
            stored = reservation.replay
            await send({"type": "http.response.start", "status": stored.status,
                        "headers": [(name.encode(), value.encode()) for name, value in stored.headers]
                        + [(b"idempotent-replayed", b"true"), (b"content-length", str(len(stored.body)).encode())]})
            await send({"type": "http.response.body", "body": stored.body})
            return
        record_id = reservation.record_id
        response_headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []
        held: list[Message] = []
        status: list[int] = []

        async def holding_send(message: Message) -> None:
            # The answer is kept before it goes out, so a process killed in between leaves no applied request
            # without its answer on record (the client retries, and gets it).
            if message["type"] == "http.response.start":
                status.append(message["status"])
                response_headers.extend((name.decode().lower(), value.decode()) for name, value in message["headers"]
                                        if name.decode().lower() in idempotency.REPLAYED_HEADERS)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            held.append(message)

        token = idempotency.start(self.idempotency_keys.db, record_id)
        try:
            await self._run_with_deadline(scope, _replay(body, receive), holding_send, status)
        finally:
            idempotency.reset(token)
            await self._settle_key(record_id, status, response_headers, b"".join(chunks))
        for message in held:
            await send(message)

    async def _settle_key(self, record_id: str, status: list[int], headers: list[tuple[str, str]],
                          body: bytes) -> None:
        """Keep the answer under its key, or free the key. A success is kept; so is any answer to a request that
        changed something before it failed, since running it again would change it twice. A refusal that changed
        nothing frees the key. If the database is gone by now, the client still gets its answer; a retry is then
        told the request was applied."""
        try:
            if status and (200 <= status[0] < 300 or await self.idempotency_keys.committed(record_id)):
                await self.idempotency_keys.complete(record_id, status[0], headers, body)
            else:
                await self.idempotency_keys.release(record_id)
        except PyMongoError as problem:
            log.warning("could not record the answer under its Idempotency-Key: %s", type(problem).__name__)

    async def _run_with_deadline(self, scope: Scope, receive: Receive, send: Send, status_seen: list[int]) -> None:
        # The database operations of the request stop at the deadline on their own (and abort their transaction);
        # the grace beyond it only catches work that waits on something else.
        token = deadline.start(self.request_timeout_s)
        try:
            async with asyncio.timeout(self.request_timeout_s + 2.0):
                await self.app(scope, receive, send)
        except TimeoutError:
            if status_seen:
                raise
            log.error("request exceeded its deadline", extra={"path": redacted_path(scope["path"])})
            if deadline.committed():
                await problem_json_response(503, *ANSWER_TIMED_OUT, scope["path"])(scope, receive, send)
                return
            await problem_json_response(503, "deadline-exceeded", "The request took too long",
                                        "The request did not finish in time and changed nothing; retry it.",
                                        scope["path"], {"Retry-After": "1"})(scope, receive, send)
        finally:
            deadline.reset(token)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, code: str, title: str,
                      detail: str, headers: dict[str, str]) -> None:
        await problem_json_response(status, code, title, detail, scope["path"], headers)(scope, receive, send)

    @staticmethod
    def _with_security_headers(path: str, send: Send) -> Send:
        policy = DOCUMENTATION_POLICY if path.startswith(DOCUMENTATION_PATHS) else PAGE_POLICY
        no_store = is_signed_link_path(path) or is_api_path(path)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers["X-Frame-Options"] = "DENY"
                headers.setdefault("Content-Security-Policy", policy)
                if no_store:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        return send_with_headers


def redacted_path(path: str) -> str:
    """The path without the token of a signed link."""
    for prefix in SIGNED_LINK_PREFIXES:
        if path.startswith(prefix):
            _, _, rest = path[len(prefix):].partition("/")
            return prefix + "[link]" + (f"/{rest}" if rest else "")
    return path


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as the server would deliver it

    return replay
