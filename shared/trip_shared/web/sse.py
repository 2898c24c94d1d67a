"""Server-sent events: a live feed a page (``EventSource``) or a client follows, written once for every service.

A stream polls for what is new every ``POLL_S`` and sends each entry as ``id: <cursor>`` / ``data: <json>``, with a
comment now and then so proxies keep the connection open. It ends by itself after ``STREAM_FOR_S`` (as when a
proxy cuts it); the browser reconnects after ``retry`` with ``Last-Event-ID``, so nothing is missed or repeated.
Event-stream paths end in ``/events``: the request deadline does not apply to them (their polls are short reads).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import StreamingResponse

log = logging.getLogger(__name__)
POLL_S = 1.0
HEARTBEAT_S = 15.0
STREAM_FOR_S = 300.0
RECONNECT_MS = 2000
SUFFIX = "/events"

# Given the cursor of the last entry sent (None: from the start), what came after it, oldest first, each with its
# own cursor.
FetchAfter = Callable[[str | None], Awaitable[list[tuple[str, dict]]]]


def is_event_stream_path(path: str) -> bool:
    return path.endswith(SUFFIX)


def stream_cursor(request: Request) -> str | None:
    """Where the client asks to resume: ``Last-Event-ID`` (a reconnecting browser), else ``after=``."""
    return request.headers.get("last-event-id") or request.query_params.get("after") or None


async def event_stream(request: Request, fetch_after: FetchAfter, *, poll_s: float = POLL_S,
                       stream_for_s: float = STREAM_FOR_S) -> StreamingResponse:
    """The stream, once a first fetch succeeded: what cannot be followed (an unknown feed, a bad cursor) is
    answered with its problem before anything is streamed; trouble later ends the stream and the client
    reconnects."""
    cursor = stream_cursor(request)
    first = await fetch_after(cursor)

    async def events():
        nonlocal cursor
        yield f"retry: {RECONNECT_MS}\n\n"
        started = last_sent = time.monotonic()
        batch = first
        while time.monotonic() - started < stream_for_s:
            for entry_cursor, data in batch:
                cursor = entry_cursor
                last_sent = time.monotonic()
                yield f"id: {entry_cursor}\nevent: entry\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"
            if time.monotonic() - last_sent > HEARTBEAT_S:
                last_sent = time.monotonic()
                yield ": still here\n\n"
            if await request.is_disconnected():
                return
            await asyncio.sleep(poll_s)
            try:
                batch = await fetch_after(cursor)
            except Exception:  # noqa: BLE001 (logged; the browser reconnects after `retry` and resumes)
                log.warning("event stream ended by a failed fetch", exc_info=True)
                return

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
