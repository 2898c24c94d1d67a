"""What the shared plumbing's tests share: a database of their own on the test MongoDB, dropped afterwards."""
import pytest

from trip_shared.mongo import MongoStore


@pytest.fixture
async def db(mongodb_url, mongo_database_name):
    store = MongoStore(mongodb_url, mongo_database_name)
    yield store.db
    await store.client.drop_database(mongo_database_name)
    await store.close()
