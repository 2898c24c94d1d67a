"""What the planner reads about a message a client did not receive. Plain Python: no I/O."""
from __future__ import annotations

WHY = {
    "no_address": "no e-mail address or mobile number they accept reaches them",
    "bounced": "it bounced",
    "failed": "it could not be sent",
}


def delivery_notice(problem: dict, name: str | None) -> str:
    """One line the planner can act on: who, what they missed, by which channel, and why."""
    by = "text message" if problem.get("channel") == "sms" else "e-mail"
    why = WHY.get(problem.get("reason", ""), problem.get("reason", ""))
    return f"{name or 'A traveller'} did not receive the {by} \u201c{problem.get('subject', '')}\u201d: {why}."
