"""How an agency follows up its bookings: chasing suppliers who have not answered, telling the planner when they
still don't, reconfirming before the service. Plain Python: no I/O.

The clock asks each open booking what is due now (``due``); the booking answers with at most one step, so a step
missed while the service was down is taken once when it is back, not once per missed tick.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from trip_shared.errors import DomainError

DEFAULT_CHASE_AFTER_HOURS = 48
DEFAULT_CHASES_BEFORE_ESCALATION = 2
DEFAULT_RECONFIRM_DAYS_BEFORE = 3


class InvalidBookingSettings(DomainError):
    code = "invalid-settings"


@dataclass(frozen=True)
class BookingSettings:
    chase_after_hours: int = DEFAULT_CHASE_AFTER_HOURS  # between the message and each reminder
    chases_before_escalation: int = DEFAULT_CHASES_BEFORE_ESCALATION  # reminders, then the planner is told
    reconfirm_days_before: int = DEFAULT_RECONFIRM_DAYS_BEFORE  # 0: never
    escalation_email: str | None = None  # the planners' desk; without it, escalations are only on the API
    version: int = 0

    def with_changes(self, changes: dict) -> BookingSettings:
        unknown = set(changes) - {"chase_after_hours", "chases_before_escalation", "reconfirm_days_before",
                                  "escalation_email"}
        if unknown:
            raise InvalidBookingSettings(f"No such setting: {', '.join(sorted(unknown))}.")
        updated = replace(self, **changes, version=self.version + 1)
        if not 1 <= updated.chase_after_hours <= 24 * 30:
            raise InvalidBookingSettings("chase_after_hours is between 1 and 720.")
        if not 0 <= updated.chases_before_escalation <= 10:
            raise InvalidBookingSettings("chases_before_escalation is between 0 and 10.")
        if not 0 <= updated.reconfirm_days_before <= 60:
            raise InvalidBookingSettings("reconfirm_days_before is between 0 (never) and 60.")
        if updated.escalation_email is not None and "@" not in updated.escalation_email:
            raise InvalidBookingSettings("escalation_email is an e-mail address.")
        return updated


def chase_interval(settings: BookingSettings) -> timedelta:
    return timedelta(hours=settings.chase_after_hours)


def reconfirm_from(starts_at: datetime, settings: BookingSettings) -> datetime | None:
    if not settings.reconfirm_days_before:
        return None
    return starts_at - timedelta(days=settings.reconfirm_days_before)
