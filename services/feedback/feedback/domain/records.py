"""What incidents and complaints both keep: a timeline of who did what when, and text checked as it comes in.
No I/O."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from trip_shared.errors import DomainError


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    actor: str
    kind: str  # what the step was: reported, acknowledged, analysed, proposed, escalated, closed, …
    text: str


def checked_text(error: type[DomainError], name: str, value: str | None, limit: int,
                 required: bool = False) -> str | None:
    """``value`` stripped (None when empty); a missing required or an over-long text raises ``error``."""
    value = (value or "").strip() or None
    if value is None and required:
        raise error(f"{name} is required.", code=f"missing-{name}")
    if value and len(value) > limit:
        raise error(f"{name} is longer than {limit} characters.", code="text-too-long")
    return value
