"""Signed links in notify's own messages: one-click unsubscribe (RFC 8058) and "I have read this"."""
from __future__ import annotations

from datetime import timedelta

from trip_shared.web.signed_links import LinkClaims, LinkSigner

UNSUBSCRIBE, ACKNOWLEDGE = "unsubscribe", "acknowledge"
# Long enough to work from an old message in the client's inbox.
UNSUBSCRIBE_VALID, ACKNOWLEDGE_VALID = timedelta(days=400), timedelta(days=30)


class MessageLinks:
    def __init__(self, signer: LinkSigner, base_url: str) -> None:
        self.signer, self.base_url = signer, base_url.rstrip("/")

    def unsubscribe_url(self, tenant_id: str, customer_id: str, kind: str) -> str:
        token, _ = self.signer.sign(UNSUBSCRIBE, tenant_id, customer_id, UNSUBSCRIBE_VALID, link_id=kind)
        return f"{self.base_url}/unsubscribe/{token}"

    def acknowledgement_url(self, tenant_id: str, notification_id: str) -> str:
        token, _ = self.signer.sign(ACKNOWLEDGE, tenant_id, notification_id, ACKNOWLEDGE_VALID)
        return f"{self.base_url}/acknowledge/{token}"

    def verify(self, token: str, purpose: str) -> LinkClaims:
        return self.signer.verify(token, purpose)
