"""Signed links in notify's own messages: the one-click unsubscribe (RFC 8058)."""
from __future__ import annotations

from datetime import timedelta

from trip_shared.web.signed_links import LinkClaims, LinkSigner

UNSUBSCRIBE = "unsubscribe"
# Long enough to work from an old message in the client's inbox.
UNSUBSCRIBE_VALID = timedelta(days=400)


class UnsubscribeLinks:
    def __init__(self, signer: LinkSigner, base_url: str) -> None:
        self.signer, self.base_url = signer, base_url.rstrip("/")

    def url(self, tenant_id: str, customer_id: str, kind: str) -> str:
        token, _ = self.signer.sign(UNSUBSCRIBE, tenant_id, customer_id, UNSUBSCRIBE_VALID, link_id=kind)
        return f"{self.base_url}/unsubscribe/{token}"

    def verify(self, token: str) -> LinkClaims:
        return self.signer.verify(token, UNSUBSCRIBE)
