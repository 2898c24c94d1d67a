"""Delivering a webhook: one signed HTTPS POST, signed at the moment it is sent (a retry is signed afresh)."""
from __future__ import annotations

import time

import httpx

from trip_shared.webhooks import endpoint_secret, signed_headers, supplier_secret


class WebhookFailed(Exception):
    """The endpoint did not take the message; ``permanent`` when retrying cannot help (it refused it as bad)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class WebhookSender:
    def __init__(self, secret_key: str, timeout_s: float = 10.0) -> None:
        self._secret_key = secret_key
        self._timeout_s = timeout_s

    async def send(self, *, tenant_id: str, owner_id: str, generation: int, url: str, body: str,
                   notification_id: str, agency_endpoint: bool = False) -> str:
        """POST ``body`` signed with the secret of its owner: a supplier, or one of the agency's own endpoints."""
        derive = endpoint_secret if agency_endpoint else supplier_secret
        secret = derive(self._secret_key, tenant_id, owner_id, generation)
        content = body.encode()
        headers = {**signed_headers(secret, int(time.time()), content), "Trip-Desk-Delivery": notification_id}
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s, follow_redirects=False) as client:
                response = await client.post(url, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise WebhookFailed(f"{type(exc).__name__}: {exc}", permanent=False) from exc
        if response.is_success:
            return f"http {response.status_code}"
        # 408 and 429 say "later"; any other 4xx says the message itself is refused.
        permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 425, 429)
        raise WebhookFailed(f"HTTP {response.status_code}: {response.text[:200]}", permanent=permanent)
