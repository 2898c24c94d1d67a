"""Changes a planner makes to an approved trip that its clients must agree to. Plain Python: no I/O.

Asking is part of the change (one version, one event): notify asks the points of contact at once, each with a
signed link to agree or to ask for a call, and their answers come back to the trip; the latest answer of each
counts. One "call me" means the planner calls before anything else happens.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from trip_shared.clock import utc_now
from trip_shared.errors import ConflictError

ASKABLE_STAGES = ("approved", "booked", "in_progress")


@dataclass
class Agreement:
    id: str
    changes: list[str]  # the change in words, as the audit trail has it
    reason: str | None = None
    asked_at: datetime = field(default_factory=utc_now)
    answers: dict[str, dict] = field(default_factory=dict)  # customer id → {answer, at}

    @classmethod
    def ask(cls, stage: str, changes: list[str], reason: str | None) -> Agreement:
        if stage not in ASKABLE_STAGES:
            raise ConflictError(f"The trip is {stage}: until its client approves it, they approve changes with the "
                                "proposal.", code="not-approved-yet")
        return cls(id=str(uuid.uuid4()), changes=changes, reason=reason)

    @property
    def status(self) -> str:
        """asked (no answer yet), agreed (every answer says so), or call_requested."""
        given = [answer["answer"] for answer in self.answers.values()]
        if "call_me" in given:
            return "call_requested"
        return "agreed" if given else "asked"

    def record(self, customer_id: str, answer: str, at: datetime) -> bool:
        """Keep the latest answer of each client; False for an older one arriving late."""
        known = self.answers.get(customer_id)
        if known and known["at"] >= at:
            return False
        self.answers[customer_id] = {"answer": answer, "at": at}
        return True
