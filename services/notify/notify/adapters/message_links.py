"""Signed links in notify's messages: one-click unsubscribe (RFC 8058), "I have read this", the trip's live
itinerary (itinerary's page, opened with the platform's shared trip link) and a complaint's page (feedback's)."""
from __future__ import annotations

from datetime import date, timedelta

from trip_shared.client_links import (
    complaint_page_url,
    complaint_token,
    survey_page_url,
    survey_token,
    trip_page_url,
    trip_token,
    until_after,
)
from trip_shared.web.signed_links import LinkClaims, LinkSigner

UNSUBSCRIBE, ACKNOWLEDGE, AGREEMENT = "unsubscribe", "acknowledge", "change-agreement"
# Long enough to work from an old message in the client's inbox.
UNSUBSCRIBE_VALID, ACKNOWLEDGE_VALID = timedelta(days=400), timedelta(days=30)


class MessageLinks:
    def __init__(self, signer: LinkSigner, base_url: str, itinerary_url: str = "", feedback_url: str = "") -> None:
        self.signer, self.base_url = signer, base_url.rstrip("/")
        self.itinerary_url, self.feedback_url = itinerary_url, feedback_url

    def survey_url(self, tenant_id: str, survey_id: str, customer_id: str) -> str | None:
        """One traveller's own link to answer a survey (feedback's page)."""
        if not self.feedback_url:
            return None
        return survey_page_url(self.feedback_url, survey_token(self.signer, tenant_id, survey_id, customer_id))

    def complaint_url(self, tenant_id: str, complaint_id: str) -> str | None:
        """The complaint's own page (feedback's): what the client said, the offer, their answer."""
        if not self.feedback_url:
            return None
        return complaint_page_url(self.feedback_url, complaint_token(self.signer, tenant_id, complaint_id))

    def trip_url(self, tenant_id: str, itinerary_id: str, trip_end: date | None) -> str | None:
        """The live itinerary, valid until well after the trip; None where clients cannot reach itinerary."""
        if not self.itinerary_url:
            return None
        token, _ = trip_token(self.signer, tenant_id, itinerary_id, until_after(trip_end))
        return trip_page_url(self.itinerary_url, token)

    def unsubscribe_url(self, tenant_id: str, customer_id: str, kind: str) -> str:
        token, _ = self.signer.sign(UNSUBSCRIBE, tenant_id, customer_id, UNSUBSCRIBE_VALID, link_id=kind)
        return f"{self.base_url}/unsubscribe/{token}"

    def acknowledgement_url(self, tenant_id: str, notification_id: str) -> str:
        token, _ = self.signer.sign(ACKNOWLEDGE, tenant_id, notification_id, ACKNOWLEDGE_VALID)
        return f"{self.base_url}/acknowledge/{token}"

    def agreement_url(self, tenant_id: str, agreement_id: str, customer_id: str) -> str:
        """Answers one change for one point of contact: agree, or ask for a call."""
        token, _ = self.signer.sign(AGREEMENT, tenant_id, customer_id, ACKNOWLEDGE_VALID, link_id=agreement_id)
        return f"{self.base_url}/agreements/{token}"

    def verify(self, token: str, purpose: str) -> LinkClaims:
        return self.signer.verify(token, purpose)
