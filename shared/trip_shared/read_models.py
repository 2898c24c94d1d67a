"""Read models: a service's copy of what another service announced, kept only from events."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from trip_shared.mongo import TenantCollection


async def apply_if_newer(collection: TenantCollection, key: str, version: int, fields: dict, *,
                         part: str | None = None) -> bool:
    """Store ``fields`` for ``key`` unless an equal or newer ``aggregate_version`` is already there.

    Topics are ordered per key but not across topics, so an older event can arrive after a newer one. Fields that
    only some events carry (a trip's ``members``, from membership topics) are a ``part`` with a version of their
    own: a newer ``itinerary.changed`` must not make an older, not yet applied membership change look stale.
    """
    return (await apply_parts_if_newer(collection, key, version, {part: fields}))[part]


async def apply_parts_if_newer(collection: TenantCollection, key: str, version: int,
                               parts: Mapping[str | None, dict]) -> dict[str | None, bool]:
    """:func:`apply_if_newer` for several parts of one document that one event carries (None: the unversioned
    rest), in one read and at most one write; whether each part was applied."""
    version_fields = {part: f"{part}_version" if part else "version" for part in parts}
    current = await collection.find_one({"_id": key}, projection={field: 1 for field in version_fields.values()})
    applied = {part: not current or current.get(field, 0) < version for part, field in version_fields.items()}
    changes: dict = {}
    for part, fields in parts.items():
        if applied[part]:
            changes.update({**fields, version_fields[part]: version})
    if changes:
        await collection.update_one({"_id": key}, {"$set": changes}, upsert=True)
    return applied


async def wait_until_known(transaction: Callable[[Callable], Awaitable], lookup: Callable[[Any], Awaitable[Any]],
                           timeout_s: float, poll_s: float = 0.1) -> None:
    """Give an event a moment to arrive: something created a moment ago elsewhere may not have reached us yet.

    Returns once ``lookup(uow)`` finds it or the time is up; the caller then decides with what it finds.
    """
    deadline = time.monotonic() + timeout_s
    while await transaction(lookup, read_only=True) is None and time.monotonic() < deadline:
        await asyncio.sleep(poll_s)
