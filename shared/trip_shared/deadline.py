"""The deadline of the request being served, so that everything it waits on stops in time.

The HTTP edge starts one per request; :meth:`trip_shared.runtime.ServiceRuntime.transaction` runs its transaction
under PyMongo's client-side operation timeout for what is left of it. Past the deadline every operation fails with a
timeout, the transaction is aborted rather than committed, and the client gets a 503: a request the client gave up
on never takes effect afterwards.
"""
from __future__ import annotations

import time
from contextvars import ContextVar, Token

# Once a request's change has committed, reading back its answer gets at least this long (within the edge's own
# grace of 2 s past the deadline): a change that took effect must not be answered "took too long, changed nothing".
ANSWER_ALLOWANCE_S = 1.5


class _Deadline:
    """Shared by the request's tasks (a context copies the reference), so a commit seen in one is seen by all."""

    __slots__ = ("at", "committed")

    def __init__(self, at: float) -> None:
        self.at = at
        self.committed = False


_deadline: ContextVar[_Deadline | None] = ContextVar("request_deadline", default=None)


def start(timeout_s: float) -> Token:
    return _deadline.set(_Deadline(time.monotonic() + timeout_s))


def reset(token: Token) -> None:
    _deadline.reset(token)


def note_commit() -> None:
    """The request's change has committed: what is left is its answer, which gets its allowance."""
    current = _deadline.get()
    if current is not None:
        current.committed = True
        current.at = max(current.at, time.monotonic() + ANSWER_ALLOWANCE_S)


def committed() -> bool:
    current = _deadline.get()
    return current is not None and current.committed


def remaining_s() -> float | None:
    """Seconds left, at least a millisecond once started (a zero timeout would mean none); None outside requests."""
    current = _deadline.get()
    if current is None:
        return None
    return max(0.001, current.at - time.monotonic())

