"""Signed links: pages a client opens from an e-mail, authenticated by the link itself instead of an API key.

A token is ``base64url(json claims) . base64url(HMAC-SHA256)``. Claims name the purpose (a profile form token
cannot approve a proposal), the tenant, the subject and the expiry. Keep ``LINK_SIGNING_SECRET`` secret and the
same across replicas; rotating it invalidates every link already sent.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from trip_shared.clock import utc_now
from trip_shared.errors import DomainError


class InvalidLink(DomainError):
    status = 403
    code = "invalid-link"
    title = "This link is not valid"


@dataclass(frozen=True)
class LinkClaims:
    purpose: str
    tenant_id: str
    subject_id: str
    expires_at: datetime
    link_id: str | None = None  # names one issued link, for links that can be used once or superseded


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("LINK_SIGNING_SECRET must be at least 16 characters")
        self._key = secret.encode()

    def _signature(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def sign(self, purpose: str, tenant_id: str, subject_id: str, valid_for: timedelta,
             link_id: str | None = None) -> tuple[str, datetime]:
        expires_at = utc_now() + valid_for
        claims = {"p": purpose, "t": tenant_id, "s": subject_id, "e": int(expires_at.timestamp())}
        if link_id:
            claims["i"] = link_id
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{body}.{self._signature(body)}", expires_at

    def verify(self, token: str, purpose: str) -> LinkClaims:
        body, _, signature = token.partition(".")
        if not body or not hmac.compare_digest(signature, self._signature(body)):
            raise InvalidLink("This link was not issued by us, or it was altered.")
        try:
            claims = json.loads(_unb64(body))
            expires_at = datetime.fromtimestamp(claims["e"], tz=utc_now().tzinfo)
            parsed = LinkClaims(claims["p"], claims["t"], claims["s"], expires_at, claims.get("i"))
        except (ValueError, KeyError, TypeError, OverflowError, OSError) as exc:  # OverflowError: an absurd expiry
            raise InvalidLink("This link is damaged.") from exc
        if parsed.purpose != purpose:
            raise InvalidLink("This link is for something else.")
        if parsed.expires_at <= utc_now():
            raise InvalidLink("This link has expired; ask your travel planner for a new one.", code="link-expired")
        return parsed
