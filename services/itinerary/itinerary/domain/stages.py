"""The stages a trip moves through and the rules for moving. Plain Python: no I/O.

inquiry → planning → proposed → approved → booked → in_progress → completed → archived, with a step back where
rework is normal (a proposal sent back, a booking that fell through), and cancelled reachable from every open
stage. Cancelled and archived are fixed: nothing moves a trip out of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

STAGES = ("inquiry", "planning", "proposed", "approved", "booked", "in_progress", "completed", "archived",
          "cancelled")
OPEN_STAGES = ("inquiry", "planning", "proposed", "approved", "booked", "in_progress")
FIXED_STAGES = ("archived", "cancelled")
NEXT_STAGES = {
    "inquiry": ("planning",),
    "planning": ("proposed", "inquiry"),
    "proposed": ("approved", "planning"),
    "approved": ("booked", "planning"),
    "booked": ("in_progress", "approved"),
    "in_progress": ("completed",),
    "completed": ("archived",),
    "archived": (),
    "cancelled": (),
}
SYSTEM_ACTOR = "system"


@dataclass
class StageChange:
    from_stage: str
    to_stage: str
    at: datetime
    actor: str
    reason: str | None = None


@dataclass(frozen=True)
class Readiness:
    """How many of the bookings the trip needs are confirmed."""

    confirmed: int
    required: int

    @property
    def complete(self) -> bool:
        return self.confirmed >= self.required


def allowed_moves(stage: str) -> tuple[str, ...]:
    return NEXT_STAGES[stage] + (("cancelled",) if stage in OPEN_STAGES else ())
