"""The links to a trip's client pages, which more than one service gives out: the live itinerary (served by
itinerary), its updates from the agency (served by notify) and where to tell the agency what went wrong (served by
feedback). They are opened with the same signed token, made with the platform's ``LINK_SIGNING_SECRET``, so each
service can link to the others' pages; a complaint's own page (feedback) has a token of its own, which notify puts
in the messages about it."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from trip_shared.clock import utc_now
from trip_shared.web.signed_links import LinkSigner

TRIP_VIEW = "itinerary-view"
COMPLAINT_VIEW = "complaint"
SURVEY_ANSWER = "survey"
# A link in a message must still work when the client looks back at it after the trip.
AFTER_THE_TRIP = timedelta(days=60)


def trip_token(signer: LinkSigner, tenant_id: str, itinerary_id: str, valid_for: timedelta) -> tuple[str, datetime]:
    return signer.sign(TRIP_VIEW, tenant_id, itinerary_id, valid_for)


def until_after(end: date | None, minimum: timedelta = timedelta(days=30)) -> timedelta:
    """How long a trip link should live: until well after the trip ends (at least ``minimum``)."""
    if end is None:
        return minimum + AFTER_THE_TRIP
    left = datetime.combine(end, datetime.min.time(), tzinfo=utc_now().tzinfo) - utc_now()
    return max(minimum, left + AFTER_THE_TRIP)


def trip_page_url(itinerary_base: str, token: str) -> str:
    return f"{itinerary_base.rstrip('/')}/trips/{token}"


def trip_updates_url(notify_base: str, token: str) -> str:
    return f"{notify_base.rstrip('/')}/trips/{token}/updates"


def trip_complaint_url(feedback_base: str, token: str) -> str:
    """Where a traveller tells the agency what went wrong (the trip's own token)."""
    return f"{feedback_base.rstrip('/')}/trips/{token}/complaints"


def complaint_token(signer: LinkSigner, tenant_id: str, complaint_id: str) -> str:
    """Opens one complaint: what the client said, the agency's offer, and their answer to it."""
    return signer.sign(COMPLAINT_VIEW, tenant_id, complaint_id, AFTER_THE_TRIP + timedelta(days=30))[0]


def complaint_page_url(feedback_base: str, token: str) -> str:
    return f"{feedback_base.rstrip('/')}/complaints/{token}"


def survey_token(signer: LinkSigner, tenant_id: str, survey_id: str, customer_id: str) -> str:
    """Answers one survey as one traveller (notify gives each their own)."""
    return signer.sign(SURVEY_ANSWER, tenant_id, survey_id, timedelta(days=45), link_id=customer_id)[0]


def survey_page_url(feedback_base: str, token: str) -> str:
    return f"{feedback_base.rstrip('/')}/surveys/{token}"
