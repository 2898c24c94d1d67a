"""The platform's clock: UTC, to the millisecond, because that is what MongoDB stores.

A timestamp returned by an API right after a write is then the same one a later read returns.
"""
from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
