"""A batch's messages go out together, a few at a time, and never overtake one to the same recipient."""
import asyncio
import time

import pytest
from aiosmtpd.controller import Controller
from pymongo import AsyncMongoClient

from notify.adapters.repository import NOTIFICATIONS, DeliveryQueue, to_document
from notify.adapters.smtp import SmtpMailer
from notify.domain.model import Notification
from notify.service_layer import dispatcher as dispatching
from notify.service_layer.dispatcher import Dispatcher


@pytest.fixture
async def notifications(mongodb_url, mongo_database_name):
    """The notifications collection alone: no service, so no sweep claims what a test records."""
    client = AsyncMongoClient(mongodb_url)
    yield client[mongo_database_name][NOTIFICATIONS]
    await client.drop_database(mongo_database_name)
    await client.close()


def dispatcher_on(notifications, smtp_port: int) -> Dispatcher:
    return Dispatcher(DeliveryQueue(notifications), SmtpMailer("127.0.0.1", smtp_port, "Agency <desk@agency.example>"))


class SlowForSome:
    """Takes its time over some recipients' first message; notes when each message was accepted."""

    def __init__(self, slow: dict[str, float]) -> None:
        self.slow = slow
        self.accepted: list[tuple[str, float]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        subject = next(line for line in envelope.content.decode().splitlines() if line.startswith("Subject:"))
        await asyncio.sleep(self.slow.pop(envelope.rcpt_tos[0], 0.0))
        self.accepted.append((subject.removeprefix("Subject: "), time.monotonic()))
        return "250 OK"


def pending(number: int, recipient: str) -> Notification:
    return Notification(id=f"n{number}", tenant_id="tenant-a", kind="poc_assigned", itinerary_id="t1",
                        customer_id=recipient.partition("@")[0], source_event_id=f"e{number}", trace_context={},
                        status="pending", recipient=recipient, subject=f"m{number}", body="Hello")


async def test_messages_to_others_overtake_a_slow_one_but_never_one_to_the_same_recipient(notifications, smtp_port):
    handler = SlowForSome({"mei@example.com": 0.6})
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        order = [(1, "mei@example.com"), (2, "mei@example.com"), (3, "bo@example.com"), (4, "li@example.com")]
        await notifications.insert_many(
            [to_document(pending(number, recipient)) for number, recipient in order])
        started = time.monotonic()
        await dispatcher_on(notifications, smtp_port).send_now([f"n{number}" for number, _ in order])
        accepted = [subject for subject, _ in handler.accepted]
        assert sorted(accepted) == ["m1", "m2", "m3", "m4"], "each sent once"
        assert accepted.index("m1") < accepted.index("m2"), "the same recipient's messages keep their order"
        assert accepted.index("m3") < accepted.index("m1") and accepted.index("m4") < accepted.index("m1"), \
            "others' messages did not wait for the slow one"
        assert time.monotonic() - started < 0.6 * 2, "the slow one held up no one but its own recipient's next"
        statuses = {doc["_id"]: doc["status"] async for doc in notifications.find()}
        assert set(statuses.values()) == {"sent"}
    finally:
        controller.stop()


async def test_no_more_than_a_few_are_claimed_ahead_of_their_sending(notifications, smtp_port, monkeypatch):
    monkeypatch.setattr(dispatching, "SEND_CONCURRENCY", 2)
    handler = SlowForSome({f"c{number}@example.com": 0.3 for number in range(4)})
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    collection = notifications
    try:
        await collection.insert_many([to_document(pending(number, f"c{number}@example.com")) for number in range(4)])
        sending = asyncio.create_task(dispatcher_on(notifications, smtp_port).send_now([f"n{number}" for number in range(4)]))
        await asyncio.sleep(0.15)
        assert await collection.count_documents({"status": "sending"}) == 2
        assert await collection.count_documents({"status": "pending"}) == 2, "the rest wait for a free slot"
        await sending
        assert await collection.count_documents({"status": "sent"}) == 4
    finally:
        controller.stop()
