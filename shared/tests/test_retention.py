"""Inbox, outbox and idempotency rows go after their retention, by an indexed range, on real MongoDB."""
from datetime import UTC, datetime, timedelta

from trip_shared.messaging.inbox import RETENTION as INBOX_RETENTION
from trip_shared.messaging.inbox import Inbox
from trip_shared.messaging.outbox import PUBLISHED_RETENTION, Outbox
from trip_shared.retention import RetentionSweeper
from trip_shared.web.idempotency import IdempotencyKeys

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


async def test_rows_past_their_retention_go_and_the_others_stay(db):
    inbox, outbox = Inbox(db), Outbox(db)
    keys = IdempotencyKeys(db, stale_after=timedelta(seconds=15))
    sweeper = RetentionSweeper([inbox.expiry(), outbox.expiry(), keys.expiry()])
    await sweeper.ensure_indexes()
    await inbox.rows.insert_many([
        {"_id": "old", "processed_at": NOW - INBOX_RETENTION - timedelta(minutes=1)},
        {"_id": "recent", "processed_at": NOW - INBOX_RETENTION + timedelta(minutes=1)}])
    await outbox.rows.insert_many([
        {"_id": "published-long-ago", "status": "published", "published_at": NOW - PUBLISHED_RETENTION * 2},
        {"_id": "pending", "status": "pending"},  # not published: kept, whatever its age
        {"_id": "just-published", "status": "published", "published_at": NOW}])
    await keys.rows.insert_many([{"_id": "expired", "expires_at": NOW - timedelta(seconds=1)},
                                 {"_id": "live", "expires_at": NOW + timedelta(hours=1)}])
    assert await sweeper.sweep(NOW) == 3
    assert [row["_id"] async for row in inbox.rows.find()] == ["recent"]
    assert sorted([row["_id"] async for row in outbox.rows.find()]) == ["just-published", "pending"]
    assert [row["_id"] async for row in keys.rows.find()] == ["live"]
    assert await sweeper.sweep(NOW) == 0, "a second sweep finds nothing more"


async def test_a_ttl_index_of_an_earlier_version_is_replaced_by_a_plain_one(db):
    inbox = Inbox(db)
    await inbox.rows.create_index("processed_at", expireAfterSeconds=3600)
    await RetentionSweeper([inbox.expiry()]).ensure_indexes()
    indexes = await inbox.rows.index_information()
    [index] = [spec for spec in indexes.values() if spec["key"] == [("processed_at", 1)]]
    assert "expireAfterSeconds" not in index
