"""Tenant scoping and optimistic concurrency, on real MongoDB."""
import pytest

from trip_shared.errors import ConflictError
from trip_shared.mongo import TenantCollection


async def test_an_agency_never_sees_or_changes_another_agencys_documents(db):
    acme, other = TenantCollection(db["things"], "acme", None), TenantCollection(db["things"], "other", None)
    await acme.insert_one({"_id": "x", "name": "Acme's", "version": 1})
    assert await other.find_one({"_id": "x"}) is None
    assert await other.count_documents() == 0
    assert (await other.update_one({"_id": "x"}, {"$set": {"name": "stolen"}})).matched_count == 0
    assert (await other.delete_one({"_id": "x"})).deleted_count == 0
    assert [doc["name"] async for doc in acme.find({})] == ["Acme's"]


async def test_a_document_cannot_be_written_into_another_tenant(db):
    acme = TenantCollection(db["things"], "acme", None)
    await acme.insert_one({"_id": "y", "tenant_id": "other"})
    assert (await db["things"].find_one({"_id": "y"}))["tenant_id"] == "acme"


async def test_a_stale_version_is_refused_and_the_newer_write_kept(db):
    acme = TenantCollection(db["things"], "acme", None)
    await acme.insert_one({"_id": "z", "name": "first", "version": 1})
    await acme.replace_at_version("z", 1, {"name": "second", "version": 2}, "thing")
    with pytest.raises(ConflictError) as error:
        await acme.replace_at_version("z", 1, {"name": "lost update", "version": 2}, "thing")
    assert error.value.code == "concurrent-update"
    assert (await acme.find_one({"_id": "z"}))["name"] == "second"


def test_a_collection_without_tenant_is_refused(db):
    with pytest.raises(ValueError):
        TenantCollection(db["things"], "", None)
