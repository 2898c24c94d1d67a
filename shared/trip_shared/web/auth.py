"""API keys: each key maps to one tenant (a travel agency) and a set of scopes.

Keys are configured as SHA-256 digests (``API_KEYS_FILE`` or ``API_KEYS``, a JSON list), so the configuration
never holds a usable secret:  ``[{"name": "planner-app", "tenant_id": "acme-travel", "scopes": ["*"],
"key_sha256": "…"}]``. Scopes are ``<resource>:<read|write>``; ``<resource>:*`` and ``*`` grant more.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, Depends, Request

from trip_shared.config import ServiceSettings
from trip_shared.web.problems import PROBLEM_RESPONSES, ApiProblem

log = logging.getLogger(__name__)


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
    """The keys a service accepts. Keys from ``API_KEYS_FILE`` are re-read when the file changes, so keys
    created, rotated or revoked with ``python -m trip_shared.api_keys`` take effect without a restart."""

    RELOAD_CHECK_S = 1.0

    def __init__(self, entries: list[dict], *, path: Path | None = None, clock=time.monotonic) -> None:
        """``entries`` are fixed (``API_KEYS``); the file at ``path`` is read now and again whenever it changes."""
        self._path = path
        self._fixed = entries
        self._clock = clock
        self._checked_at = clock()
        self._signature = self._file_signature()  # before reading, so a change made meanwhile is seen next time
        self._load((json.loads(path.read_text()) if path else []) + entries)

    def _load(self, entries: list[dict]) -> None:
        now = datetime.now(UTC)
        by_digest: dict[str, Principal] = {}
        tenants: set[str] = set()
        for entry in entries:
            tenants.add(entry["tenant_id"])  # a tenant whose keys were all revoked is still an agency here
            if _ended(entry, now):
                continue
            digest = entry.get("key_sha256") or hash_key(entry["key"])
            by_digest[digest.lower()] = Principal(
                name=entry.get("name", "unnamed"), tenant_id=entry["tenant_id"],
                scopes=frozenset(entry.get("scopes", [])),
            )
        self._by_digest, self._tenants = by_digest, tenants
        self._next_expiry = min((_instant(entry["expires_at"]) for entry in entries
                                 if entry.get("expires_at") and not _ended(entry, now)), default=None)

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> ApiKeyRegistry:
        fixed = json.loads(settings.api_keys) if settings.api_keys else []
        return cls(fixed, path=Path(settings.api_keys_file) if settings.api_keys_file else None)

    def _file_signature(self) -> tuple | None:
        if self._path is None:
            return None
        try:
            stat = self._path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size, stat.st_ino

    def _refresh(self) -> None:
        now = self._clock()
        if now - self._checked_at < self.RELOAD_CHECK_S:
            return
        self._checked_at = now
        signature = self._file_signature()
        expired = self._next_expiry is not None and datetime.now(UTC) >= self._next_expiry
        if signature == self._signature and not expired:
            return
        try:
            entries = json.loads(self._path.read_text()) if self._path else []
        except (OSError, ValueError) as exc:  # a half-written or broken file: keep the keys we have
            log.error("could not re-read the API key file; keeping the keys loaded before: %s", exc)
            return
        self._signature = signature
        self._load(entries + self._fixed)
        log.info("API keys reloaded", extra={"keys": len(self._by_digest)})

    def lookup(self, key: str) -> Principal | None:
        self._refresh()
        return self._by_digest.get(hash_key(key))

    def knows_tenant(self, tenant_id: str) -> bool:
        """Whether the agency is one of this platform's: consumers refuse events for any other."""
        self._refresh()
        return tenant_id in self._tenants


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _ended(entry: dict, now: datetime) -> bool:
    if entry.get("revoked_at"):
        return True
    return bool(entry.get("expires_at")) and _instant(entry["expires_at"]) <= now


def _unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(401, "unauthorized", "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


def principal_for(registry: ApiKeyRegistry, authorization: str) -> tuple[Principal | None, str]:
    """The principal an ``Authorization`` header names, or why it names none."""
    scheme, _, key = authorization.partition(" ")
    if not authorization:
        return None, "Send an API key as 'Authorization: Bearer <key>'."
    if scheme.lower() != "bearer" or not key.strip():
        return None, "The Authorization header must be 'Bearer <key>'."
    principal = registry.lookup(key.strip())
    if principal is None:
        return None, "The API key is not valid."
    return principal, ""


async def authenticate(request: Request) -> Principal:
    # The HTTP edge authenticates /v1 requests before reading their body and leaves the principal here.
    known = request.scope.get("state", {}).get("principal")
    if known is not None:
        return known
    principal, problem = principal_for(request.app.state.runtime.api_keys, request.headers.get("authorization", ""))
    if principal is None:
        raise _unauthorized(problem)
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
    return APIRouter(prefix="/v1", dependencies=[Depends(authenticate)], responses=PROBLEM_RESPONSES, **kwargs)
