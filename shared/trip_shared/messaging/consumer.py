"""Subscribers with the platform's delivery guarantees.

Every subscriber has an explicit group, ``AckPolicy.MANUAL`` and ``auto_offset_reset="earliest"``. A message is
acknowledged only after its effects and its inbox row are committed in one transaction (at-least-once in, exactly-once
effects). A failing message is retried with backoff a bounded number of times, then copied to ``<topic>.dlq`` with the
error (and recorded in the service's ``dead_letters``, for ``/v1/ops/dead-letters``), and the partition moves on. If
even the dead-letter publish fails, the message is not acknowledged: it is sought back and delivered again.

Bodies reach the handler as raw bytes, whatever their ``content-type`` says, so a message that is not even JSON is
this module's to dead-letter, not the framework's to drop. An event naming an agency the platform does not know is
dead-lettered too: nothing is stored for a tenant no one can see.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from aiokafka import ConsumerRebalanceListener
from faststream import AckPolicy
from faststream.kafka import Topic
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure, NetworkTimeout, ServerSelectionTimeoutError

from trip_shared.contracts.envelope import Event
from trip_shared.contracts.registry import dlq_topic
from trip_shared.errors import PermanentEventError
from trip_shared.messaging.inbox import AlreadyProcessed

if TYPE_CHECKING:
    from trip_shared.runtime import ServiceRuntime
    from trip_shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[E, "UnitOfWork"], Awaitable[None]]


class EventConsumer:
    """Registers handlers for one consumer group: ``@consumer.handles(CustomerLinked)``.

    All of a group's topics are read by one Kafka consumer (one group member per process), which dispatches each
    message by its topic. One member per topic would multiply rebalances every time a service starts or stops.
    """

    def __init__(self, runtime: ServiceRuntime, group_id: str) -> None:
        self.runtime = runtime
        self.group_id = group_id
        self._handlers: dict[str, tuple[type[Event], Handler]] = {}
        self._subscribed = False
        self._subscriber = None
        self._rewind_until = 0.0

    def handles(self, contract: type[E]) -> Callable[[Handler[E]], Handler[E]]:
        if self._subscribed:
            raise RuntimeError("register every handler before the app is created")

        def register(handler: Handler[E]) -> Handler[E]:
            if contract.TOPIC in self._handlers:
                raise ValueError(f"{self.group_id} already handles {contract.TOPIC}")
            self._handlers[contract.TOPIC] = (contract, handler)
            return handler

        return register

    def subscribe(self) -> None:
        """Create the group's one subscriber; the runtime calls this when it builds the app."""
        if self._subscribed or not self._handlers:
            return
        self._subscribed = True
        settings = self.runtime.settings

        async def consume(msg: KafkaMessage) -> None:
            contract, handler = self._handlers[msg.raw_message.topic]
            await self.deliver(contract, handler, msg)

        consume.__name__ = f"{self.group_id}_consumer"
        self._subscriber = self.runtime.broker.subscriber(
            *[Topic(topic, num_partitions=settings.kafka_topic_partitions) for topic in self._handlers],
            decoder=_raw_body,
            group_id=self.group_id,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            session_timeout_ms=settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
            fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
            listener=_RewindAfterBrokerLoss(self),
            title=self.group_id,
        )
        self._subscriber(consume)

    def rewind_on_next_assignments(self, for_s: float = 60.0) -> None:
        """After the broker came back empty, read every partition assigned in the next minute from its beginning.

        The new logs start again at 0, while the group's committed positions may be the old logs' (a consumer that
        lived through the restart commits them there): the group would wait past every new message. Seeking on
        assignment needs no say over the group's offsets; the inbox makes re-reading what was handled harmless."""
        self._rewind_until = time.monotonic() + for_s

    @property
    def rewinding(self) -> bool:
        return time.monotonic() < self._rewind_until

    async def deliver(self, contract: type[E], handler: Handler[E], msg: KafkaMessage) -> None:
        metrics = self.runtime.metrics
        topic = contract.TOPIC
        try:
            event = self._parse(contract, msg.body)
        except PermanentEventError as exc:
            await self._dead_letter(msg, topic, str(exc), attempts=1)
            return
        max_attempts = max(1, self.runtime.settings.consumer_max_attempts)
        error = ""
        attempt = 1
        outage_waits = 0
        while attempt <= max_attempts:
            try:
                outcome = await self.process(event, handler)
                metrics.events_consumed.labels(topic, self.group_id, outcome).inc()
                await msg.ack()
                return
            except PermanentEventError as exc:
                error = f"permanent: {exc}"
                break
            except _DATABASE_UNREACHABLE as exc:
                # The database being down says nothing about the message: wait for it, using up no attempt, so
                # an outage cannot push good events into the dead-letter topic.
                outage_waits += 1
                log.warning("database unreachable while handling an event; waiting for it: %s", type(exc).__name__,
                            extra={"topic": topic, "event_id": str(event.event_id), "waits": outage_waits})
                metrics.events_consumed.labels(topic, self.group_id, "waited_for_database").inc()
                backoff = self.runtime.settings.consumer_retry_backoff_s * 2 ** min(outage_waits, 4)
                await asyncio.sleep(min(5.0, backoff))
                continue
            except Exception as exc:
                error = "".join(traceback.format_exception_only(exc)).strip()
                log.warning(
                    "event handler failed (attempt %d of %d): %s", attempt, max_attempts, error,
                    extra={"topic": topic, "event_id": str(event.event_id), "attempt": attempt, "error": error},
                )
                if attempt < max_attempts:
                    metrics.events_consumed.labels(topic, self.group_id, "retried").inc()
                    await asyncio.sleep(self.runtime.settings.consumer_retry_backoff_s * 2 ** (attempt - 1))
                attempt += 1
        await self._dead_letter(msg, topic, error, attempts=min(attempt, max_attempts))

    def _parse(self, contract: type[E], body: bytes) -> E:
        try:
            event = contract.model_validate_json(body)
        except ValidationError as exc:
            raise PermanentEventError(f"not a valid {contract.TOPIC} event: {exc}") from exc
        if not self.runtime.api_keys.knows_tenant(event.tenant_id):
            raise PermanentEventError(f"unknown tenant {event.tenant_id!r}: no agency of this platform")
        return event

    async def replay(self, topic: str, body: bytes) -> str:
        """Handle a dead-lettered message once more, after its cause was fixed; raises when it fails again."""
        contract, handler = self._handlers[topic]
        outcome = await self.process(self._parse(contract, body), handler)
        self.runtime.metrics.events_consumed.labels(topic, self.group_id, "replayed").inc()
        return outcome

    @property
    def topics(self) -> list[str]:
        return list(self._handlers)

    def handles_topic(self, topic: str) -> bool:
        return topic in self._handlers

    async def process(self, event: E, handler: Handler[E]) -> str:
        """Apply the handler and record the event in the inbox, atomically. Returns the outcome label."""
        inbox = self.runtime.inbox

        async def work(uow: UnitOfWork) -> None:
            await inbox.claim(uow.session, self.group_id, event)
            await handler(event, uow)

        try:
            await self.runtime.transaction(work)
        except AlreadyProcessed:
            return "duplicate"
        return "processed"

    async def _dead_letter(self, msg: KafkaMessage, topic: str, error: str, attempts: int) -> None:
        raw = msg.raw_message
        headers = {k: v for k, v in (msg.headers or {}).items() if isinstance(v, str)}
        headers.update(
            {
                "dlq-error": error[:4000],
                "dlq-consumer-group": self.group_id,
                "dlq-attempts": str(attempts),
                "dlq-original-topic": topic,
                "dlq-original-partition": str(getattr(raw, "partition", "")),
                "dlq-original-offset": str(getattr(raw, "offset", "")),
            }
        )
        key = getattr(raw, "key", None)
        try:
            await self.runtime.broker.publish(msg.body, topic=dlq_topic(topic), key=key, headers=headers)
            tenant_id, event_id = _envelope_of(msg.body, headers)
            await self.runtime.dead_letters.record(
                group_id=self.group_id, topic=topic, partition=headers["dlq-original-partition"],
                offset=headers["dlq-original-offset"], key=key, body=msg.body, headers=headers, error=error,
                attempts=attempts, tenant_id=tenant_id, event_id=event_id)
        except Exception:
            log.exception("dead-letter publish failed; the message will be redelivered", extra={"topic": topic})
            await asyncio.sleep(1.0)
            await msg.nack()
            return
        self.runtime.metrics.events_consumed.labels(topic, self.group_id, "dead_lettered").inc()
        log.error(
            "event moved to the dead-letter topic %s: %s", dlq_topic(topic), error[:500],
            extra={"topic": topic, "dlq_topic": dlq_topic(topic), "group": self.group_id, "error": error[:500]},
        )
        await msg.ack()


class _RewindAfterBrokerLoss(ConsumerRebalanceListener):
    def __init__(self, owner: EventConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked) -> None:
        pass

    async def on_partitions_assigned(self, assigned) -> None:
        if assigned and self.owner.rewinding:
            await self.owner._subscriber.consumer.seek_to_beginning(*assigned)
            log.warning("read again from the beginning after the broker lost its data",
                        extra={"group": self.owner.group_id, "partitions": len(assigned)})


# Connection refused, reset, timed out, no primary: the database, not the event. (A write conflict is transient too,
# but with_transaction already retries those.)
_DATABASE_UNREACHABLE = (ConnectionFailure, ServerSelectionTimeoutError, NetworkTimeout)


def _raw_body(message: KafkaMessage) -> bytes:
    """The subscriber's decoder: the bytes as they came, decoded by :meth:`EventConsumer.deliver` itself."""
    return message.body


def _envelope_of(body: bytes, headers: dict[str, str]) -> tuple[str | None, str | None]:
    """A dead letter's agency and event id, from its envelope if it parses that far, else from its headers."""
    try:
        envelope = json.loads(body)
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict):
        envelope = {}

    def field(name: str) -> str | None:
        value = envelope.get(name)
        return value if isinstance(value, str) and value else headers.get(name)

    return field("tenant_id"), field("event_id")
