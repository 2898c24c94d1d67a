"""Signed webhooks between the platform and a supplier's system, both ways, and to an agency's own platforms, with
one scheme.

Each webhook supplier has a signing secret, shown to the agency once (to give to the supplier) and rotatable. It is
never stored: it is derived from ``SUPPLIER_SECRET_KEY`` and the supplier's identity and generation, so booking
(which shows and verifies it) and notify (which signs with it) agree without the secret travelling on Kafka.

A message is signed over ``"<timestamp>.<body>"`` with HMAC-SHA256, the timestamp in Unix seconds:

    Trip-Desk-Timestamp: 1790000000
    Trip-Desk-Signature: v1=<hex digest>

A receiver refuses a missing or wrong signature, and a timestamp more than five minutes from its clock; the exact
same signed message twice is a replay.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

TIMESTAMP_HEADER, SIGNATURE_HEADER = "Trip-Desk-Timestamp", "Trip-Desk-Signature"
TOLERANCE_S = 300
SCHEME = "v1"


class WebhookRefused(Exception):
    """Why a signed message is refused: ``code`` names it for the problem answer."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def supplier_secret(key: str, tenant_id: str, supplier_id: str, generation: int) -> str:
    digest = hmac.new(key.encode(), f"supplier-webhook:{tenant_id}:{supplier_id}:{generation}".encode(),
                      hashlib.sha256).digest()
    return "whsec_" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def endpoint_secret(key: str, tenant_id: str, endpoint_id: str, generation: int) -> str:
    """The signing secret of one of an agency's own webhook endpoints (its internal platforms subscribing to
    messages), derived the same way as a supplier's but never equal to one."""
    digest = hmac.new(key.encode(), f"agency-webhook:{tenant_id}:{endpoint_id}:{generation}".encode(),
                      hashlib.sha256).digest()
    return "whsec_" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SCHEME}={mac}"


def signed_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(secret, timestamp, body),
            "Content-Type": "application/json"}


def verify(secret: str, timestamp: str | None, signed: str | None, body: bytes, now: float) -> None:
    """Raises WebhookRefused unless ``body`` was signed with ``secret`` within the last five minutes."""
    if not timestamp or not signed:
        raise WebhookRefused("webhook-unsigned", f"Sign the request: {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}.")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise WebhookRefused("webhook-unsigned", f"{TIMESTAMP_HEADER} is Unix seconds.") from None
    if abs(now - sent_at) > TOLERANCE_S:
        raise WebhookRefused("webhook-stale", f"{TIMESTAMP_HEADER} is more than {TOLERANCE_S // 60} minutes from "
                                              "our clock: sign each request when you send it.")
    expected = signature(secret, sent_at, body)
    if not any(hmac.compare_digest(expected, given.strip()) for given in signed.split(",")):
        raise WebhookRefused("webhook-bad-signature", "The signature does not match the body and timestamp.")
