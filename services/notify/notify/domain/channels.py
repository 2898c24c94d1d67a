"""Which channel a client message goes by, and what it says as a text message. Plain Python: no I/O.

A message goes by the first channel the client accepts (their preferences, e-mail first unless they chose
otherwise) that reaches them: a traveller without an e-mail address gets text messages. Urgent news they have not
confirmed reading in time goes again by their next channel (for most: an SMS after the e-mail).
"""
from __future__ import annotations

from trip_shared.agency import AgencyProfile

CHANNELS = ("email", "sms")
SMS_MAX_CHARS = 1600  # the provider's limit for one (concatenated) message
# What the provider's delivery report says became of a text, as the delivery log says it; the other reports
# (queued, sending, sent) add nothing to "sent".
REPORTED = {"delivered": "delivered", "undelivered": "bounced", "failed": "bounced"}


def reaches(contact, channel: str, sms_available: bool) -> bool:
    if channel == "email":
        return bool(contact.emails)
    return channel == "sms" and sms_available and bool(contact.phones)


def primary_channel(contact, accepted: list[str], sms_available: bool) -> str:
    """The first accepted channel that reaches the contact; e-mail when none does (it shows, as no address)."""
    return next((channel for channel in accepted if reaches(contact, channel, sms_available)), "email")


def fallback_channel(used: str, contact, accepted: list[str], sms_available: bool) -> str | None:
    """Another accepted channel that reaches them, for urgent news not read by the first; None if there is none."""
    return next((channel for channel in accepted if channel != used and reaches(contact, channel, sms_available)),
                None)


def sms_text(subject: str, facts: list[str], link: str | None, agency: AgencyProfile | None, language: str) -> str:
    """A text message: who it is from and what happened, the link to act on, and the number to call."""
    sender = f"{agency.name}: " if agency and agency.name else ""
    call = (agency.emergency_phone or agency.support_phone) if agency else None
    closing = ([("24小时紧急电话：" if language == "zh-Hans" else "24/7 help: ") + call] if call else [])
    head = [sender + subject]
    tail = ([link] if link else []) + closing
    room = SMS_MAX_CHARS - len("\n".join(head + tail)) - 2
    kept = []
    for fact in facts:
        if len(fact) + 1 > room:
            kept.append("…")
            break
        kept.append(fact)
        room -= len(fact) + 1
    return "\n".join(head + kept + tail)


def listed_facts(body: str) -> list[str]:
    """The facts an e-mail lists (the changes, the services, the options: its "  - " lines), for the SMS."""
    return [line.strip()[2:] for line in body.splitlines() if line.startswith("  - ")]
