"""Errors the domain and service layers raise; the HTTP edge turns each into a problem-details response.

Plain Python on purpose: domain code raises these without knowing about HTTP.
"""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request the domain refuses. ``code`` is stable and machine-readable; the message is for people."""

    status = 422
    code = "invalid-request"
    title = "The request breaks a rule of the domain"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.extra = extra


class NotFoundError(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"


class ConflictError(DomainError):
    status = 409
    code = "conflict"
    title = "The request conflicts with the current state"


class PermanentEventError(Exception):
    """A consumed event that can never be processed: it goes to the dead-letter topic without retries."""
