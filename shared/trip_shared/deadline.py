"""The deadline of the request being served, so that everything it waits on stops in time.

The HTTP edge starts one per request; :meth:`trip_shared.runtime.ServiceRuntime.transaction` runs its transaction
under PyMongo's client-side operation timeout for what is left of it. Past the deadline every operation fails with a
timeout, the transaction is aborted rather than committed, and the client gets a 503: a request the client gave up
on never takes effect afterwards.
"""
from __future__ import annotations

import time
from contextvars import ContextVar, Token

_deadline: ContextVar[float | None] = ContextVar("request_deadline", default=None)


def start(timeout_s: float) -> Token:
    return _deadline.set(time.monotonic() + timeout_s)


def reset(token: Token) -> None:
    _deadline.reset(token)


def remaining_s() -> float | None:
    """Seconds left, at least a millisecond once started (a zero timeout would mean none); None outside requests."""
    at = _deadline.get()
    if at is None:
        return None
    return max(0.001, at - time.monotonic())


def expired() -> bool:
    at = _deadline.get()
    return at is not None and time.monotonic() >= at
