"""API keys: each key maps to one tenant (a travel agency) and a set of scopes.

Keys are configured as SHA-256 digests (``API_KEYS_FILE`` or ``API_KEYS``, a JSON list), so the configuration
never holds a usable secret:  ``[{"name": "planner-app", "tenant_id": "acme-travel", "scopes": ["*"],
"key_sha256": "…"}]``. Scopes are ``<resource>:<read|write>``; ``<resource>:*`` and ``*`` grant more.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Depends, Request

from trip_shared.config import ServiceSettings
from trip_shared.web.problems import ApiProblem


@dataclass(frozen=True)
class Principal:
    name: str
    tenant_id: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        resource = scope.split(":", 1)[0]
        return "*" in self.scopes or scope in self.scopes or f"{resource}:*" in self.scopes


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyRegistry:
    def __init__(self, entries: list[dict]) -> None:
        self._by_digest: dict[str, Principal] = {}
        for entry in entries:
            digest = entry.get("key_sha256") or hash_key(entry["key"])
            self._by_digest[digest.lower()] = Principal(
                name=entry.get("name", "unnamed"), tenant_id=entry["tenant_id"],
                scopes=frozenset(entry.get("scopes", [])),
            )

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> ApiKeyRegistry:
        entries: list[dict] = []
        if settings.api_keys_file:
            entries += json.loads(Path(settings.api_keys_file).read_text())
        if settings.api_keys:
            entries += json.loads(settings.api_keys)
        return cls(entries)

    def lookup(self, key: str) -> Principal | None:
        return self._by_digest.get(hash_key(key))

    def knows_tenant(self, tenant_id: str) -> bool:
        """Whether the agency is one of this platform's: consumers refuse events for any other."""
        return any(principal.tenant_id == tenant_id for principal in self._by_digest.values())


def _unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(401, "unauthorized", "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


async def authenticate(request: Request) -> Principal:
    # The HTTP edge authenticates /v1 requests before reading their body and leaves the principal here.
    known = request.scope.get("state", {}).get("principal")
    if known is not None:
        return known
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if not header:
        raise _unauthorized("Send an API key as 'Authorization: Bearer <key>'.")
    if scheme.lower() != "bearer" or not key.strip():
        raise _unauthorized("The Authorization header must be 'Bearer <key>'.")
    principal = request.app.state.runtime.api_keys.lookup(key.strip())
    if principal is None:
        raise _unauthorized("The API key is not valid.")
    request.state.principal = principal
    return principal


def require(scope: str):
    """Dependency: the caller's principal, refused with 403 unless it holds ``scope``."""

    async def check(principal: Principal = Depends(authenticate)) -> Principal:
        if not principal.allows(scope):
            raise ApiProblem(403, "forbidden", "Forbidden", f"This API key lacks the '{scope}' scope.")
        return principal

    return Depends(check)


def v1_router(**kwargs) -> APIRouter:
    """Every ``/v1`` route goes through this router, so none can be reached without a valid key."""
    return APIRouter(prefix="/v1", dependencies=[Depends(authenticate)], **kwargs)
