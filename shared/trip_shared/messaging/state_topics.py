"""Read models rebuilt from compacted state topics.

A service keeps copies of what others own (notify's contacts, itinerary's customers), built from their change events.
Those topics keep 7 days (they carry personal data), so a service that starts later than that, or whose database is
rebuilt, would never see a customer who has not changed since. The owner therefore also publishes each aggregate's
whole current state to a compacted topic keyed by its id (``customer.state``), and a tombstone when it is deleted,
erased or merged away. When this service's database has never been built from a state topic, it reads the topic
from its beginning to its end before its consumers start, applying each state as its own change event would
(version-guarded, so reading it again changes nothing) and forgetting each tombstoned key; then it notes that
it has, and from there the change events keep the copy current.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Generic, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from trip_shared.contracts.envelope import Event

if TYPE_CHECKING:
    from trip_shared.runtime import ServiceRuntime
    from trip_shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
E = TypeVar("E", bound=Event)
REBUILDS = "read_model_rebuilds"
# Records applied per transaction: a large topic is read in steps, each committed.
BATCH = 200


class StateTopicRebuild(Generic[E]):
    def __init__(self, runtime: ServiceRuntime, contract: type[E], apply: Callable[[E, UnitOfWork], Awaitable[None]],
                 forget: Callable[[str, str, UnitOfWork], Awaitable[None]] | None,
                 timeout_s: float = 120.0) -> None:
        self.runtime, self.contract, self.apply, self.forget = runtime, contract, apply, forget
        self.timeout_s = timeout_s

    @property
    def marker_id(self) -> str:
        return f"{self.contract.TOPIC}"

    async def run_if_never_built(self) -> int | None:
        """Rebuild unless this database already was built from the topic; the records read, or None."""
        markers = self.runtime.store.db[REBUILDS]
        if await markers.find_one({"_id": self.marker_id}):
            return None
        records = await asyncio.wait_for(self.rebuild(), self.timeout_s)
        await markers.update_one({"_id": self.marker_id}, {"$set": {"rebuilt_at": datetime.now(UTC),
                                                                   "records": records}}, upsert=True)
        log.info("read model rebuilt from %s (%d records)", self.contract.TOPIC, records)
        return records

    async def rebuild(self) -> int:
        """Read the topic from its beginning to the end it had when this started, applying every record."""
        topic = self.contract.TOPIC
        consumer = AIOKafkaConsumer(bootstrap_servers=self.runtime.settings.kafka_bootstrap_servers, group_id=None,
                                    enable_auto_commit=False, auto_offset_reset="earliest")
        await consumer.start()
        try:
            await consumer.topics()  # fetches the metadata partitions_for_topic answers from
            partitions = [TopicPartition(topic, number) for number in sorted(consumer.partitions_for_topic(topic)
                                                                             or ())]
            if not partitions:
                return 0
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            end = await consumer.end_offsets(partitions)
            left = {tp for tp in partitions if end[tp] > await consumer.position(tp)}
            read = 0
            while left:
                fetched = await consumer.getmany(*left, timeout_ms=1000, max_records=BATCH)
                records = [record for tp, batch in fetched.items() for record in batch if record.offset < end[tp]]
                if records:
                    await self.runtime.transaction(lambda uow, records=records: self._apply_all(records, uow))
                    read += len(records)
                left = {tp for tp in left if await consumer.position(tp) < end[tp]}
            return read
        finally:
            await consumer.stop()

    async def _apply_all(self, records: list, uow: UnitOfWork) -> None:
        for record in records:
            headers = {name: value.decode(errors="replace") for name, value in (record.headers or ())}
            tenant_id = headers.get("tenant_id", "")
            if not self.runtime.api_keys.knows_tenant(tenant_id):
                continue  # no agency of this platform: nothing is kept for it
            if record.value is None:
                if self.forget is not None:  # a topic whose owner never deletes has no tombstones
                    await self.forget(tenant_id, (record.key or b"").decode(), uow)
                continue
            try:
                state = self.contract.model_validate_json(record.value)
            except ValidationError:
                log.warning("an unreadable record on %s was skipped", self.contract.TOPIC,
                            extra={"partition": record.partition, "offset": record.offset})
                continue
            await self.apply(state, uow)
