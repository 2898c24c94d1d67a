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
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from aiokafka import ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import Topic
from faststream.kafka.annotations import KafkaMessage
from opentelemetry import propagate, trace
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

# How long a fetch for a batch waits for its first record; when none came, the framework sleeps as long again
# before the next fetch, so this bounds what batching adds to an idle consumer's latency.
BATCH_POLL_MS = 20

# The outcome label of events_consumed_total.
OUTCOMES = ("processed", "duplicate", "retried", "dead_lettered", "replayed", "waited_for_database")

E = TypeVar("E", bound=Event)
_occurred_at: ContextVar[datetime | None] = ContextVar("occurred_at_of_event_being_handled", default=None)
Handler = Callable[[E, "UnitOfWork"], Awaitable[None]]


def occurred_at_of_event_being_handled() -> datetime | None:
    """When the event now being handled happened (None outside a handler): what a handler's work is timed from,
    the way its spans join the event's trace."""
    return _occurred_at.get()


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
        self._tracer = trace.get_tracer(__name__, tracer_provider=runtime.tracer_provider)

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
            await self.deliver_batch(msg)

        consume.__name__ = f"{self.group_id}_consumer"
        # Every outcome exported from the start, at 0: Prometheus's increase() sees a series that appears already
        # at 1 as no increase, so the first dead letter of a topic would raise no alert.
        for topic in self._handlers:
            for outcome in OUTCOMES:
                self.runtime.metrics.events_consumed.labels(topic, self.group_id, outcome)
        self._subscriber = self.runtime.broker.subscriber(
            *[Topic(topic, num_partitions=settings.kafka_topic_partitions) for topic in self._handlers],
            batch=True,
            max_records=settings.kafka_consumer_batch_max,
            batch_timeout_ms=BATCH_POLL_MS,
            decoder=_raw_bodies,
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

    async def lag(self) -> dict[tuple[str, int], int]:
        """Per assigned (topic, partition): records on the broker this group has not yet taken for handling (the
        broker's high-water mark, as of the last fetch, less the consumer's position; a batch being handled counts
        as taken). Empty until the group has its assignment, and on the in-memory test broker."""
        kafka = getattr(self._subscriber, "consumer", None)
        if kafka is None:
            return {}
        lags = {}
        for partition in kafka.assignment():
            highwater = kafka.highwater(partition)
            if highwater is None:  # not fetched from yet
                continue
            try:
                position = await asyncio.wait_for(kafka.position(partition), timeout=1.0)
            except (TimeoutError, KafkaError):  # reassigned or resetting: the next scrape has it
                continue
            lags[(partition.topic, partition.partition)] = max(0, highwater - position)
        return lags

    def rewind_on_next_assignments(self, for_s: float = 60.0) -> None:
        """After the broker came back empty, read every partition assigned in the next minute from its beginning.

        The new logs start again at 0, while the group's committed positions may be the old logs' (a consumer that
        lived through the restart commits them there): the group would wait past every new message. Seeking on
        assignment needs no say over the group's offsets; the inbox makes re-reading what was handled harmless."""
        self._rewind_until = time.monotonic() + for_s

    @property
    def rewinding(self) -> bool:
        return time.monotonic() < self._rewind_until

    async def deliver_batch(self, msg: KafkaMessage) -> None:
        """Handle what one fetch brought, in order, then commit the positions once.

        All of it in one transaction when it can (one inbox write and one commit for the lot: what makes a backlog
        drain fast); when that fails for any reason (a duplicate, a failing handler, the database), each event on
        its own, with its own retries and dead-lettering, so one bad event never holds back or takes down the
        others. Nothing is acknowledged before it is handled: a crash in between redelivers, and the inbox makes
        that harmless."""
        raw = msg.raw_message
        records = tuple(raw) if isinstance(raw, tuple | list) else (raw,)
        events: list[tuple[object, type[Event], Handler, Event]] = []
        for record in records:
            contract, handler = self._handlers[record.topic]
            try:
                events.append((record, contract, handler, self._parse(contract, record.value)))
            except PermanentEventError as exc:
                if not await self._dead_letter(record, str(exc), attempts=1):
                    await msg.nack()
                    return
        blamed: tuple[int, Exception] | None = None
        if len(events) > 1:
            together, blamed = await self._process_together(events)
            if together:
                await msg.ack()
                return
        for index, (record, contract, handler, event) in enumerate(events):
            # The event whose handler failed in the batch has had its first attempt.
            earlier_failure = blamed[1] if blamed and blamed[0] == index else None
            if not await self.deliver(record, contract, handler, event, earlier_failure=earlier_failure):
                await msg.nack()
                return
        await msg.ack()

    async def _process_together(self, events: list[tuple[object, type[Event], Handler, Event]]
                                ) -> tuple[bool, tuple[int, Exception] | None]:
        """Every event's effects and inbox rows in one transaction. (False, nothing kept) if any part fails, with
        the event whose handler failed, if one did."""
        inbox = self.runtime.inbox
        blamed: list[tuple[int, Exception]] = []

        async def work(uow: UnitOfWork) -> None:
            blamed.clear()
            for index, (record, contract, handler, event) in enumerate(events):
                with self._handling(record, contract, event):
                    try:
                        await handler(event, uow)
                    except _DATABASE_UNREACHABLE:
                        raise
                    except Exception as exc:
                        blamed.append((index, exc))
                        raise
            await inbox.claim_all(uow.session, self.group_id, [event for *_, event in events])

        try:
            await self.runtime.transaction(work)
        except Exception as exc:  # each event on its own now, which tells them apart
            log.info("a batch of %d events failed together (%s); handling them one by one", len(events),
                     type(exc).__name__, extra={"group": self.group_id})
            return False, (blamed[0] if blamed else None)
        for _, contract, _, _ in events:
            self.runtime.metrics.events_consumed.labels(contract.TOPIC, self.group_id, "processed").inc()
        return True, None

    @contextmanager
    def _handling(self, record, contract: type[Event], event: Event) -> Iterator[None]:
        """A span per event under the trace it was published in, so a flow stays one trace when its events are
        handled in batches (the framework gives a batch a trace of its own, linked to its messages'); and the
        event's time, for what its handler starts (see ``occurred_at_of_event_being_handled``)."""
        carrier = {key: value.decode(errors="replace") for key, value in (record.headers or ())}
        token = _occurred_at.set(event.occurred_at)
        try:
            with self._tracer.start_as_current_span(
                    f"{contract.TOPIC} process", context=propagate.extract(carrier), kind=trace.SpanKind.CONSUMER,
                    attributes={"messaging.system": "kafka", "messaging.destination.name": contract.TOPIC,
                                "messaging.consumer.group.name": self.group_id,
                                "messaging.kafka.destination.partition": record.partition,
                                "messaging.kafka.message.offset": record.offset}):
                yield
        finally:
            _occurred_at.reset(token)

    async def deliver(self, record, contract: type[E], handler: Handler[E], event: E, *,
                      earlier_failure: Exception | None = None) -> bool:
        """One event with its retries; False when it could be neither handled nor dead-lettered (redeliver).
        ``earlier_failure``: how its first attempt (in a batch) failed."""
        metrics = self.runtime.metrics
        topic = contract.TOPIC
        max_attempts = max(1, self.runtime.settings.consumer_max_attempts)
        error = ""
        attempt = 1
        outage_waits = 0
        while attempt <= max_attempts:
            try:
                if earlier_failure is not None:  # the first attempt's outcome, judged like any other attempt's
                    failure, earlier_failure = earlier_failure, None
                    raise failure
                with self._handling(record, contract, event):
                    outcome = await self.process(event, handler)
                metrics.events_consumed.labels(topic, self.group_id, outcome).inc()
                return True
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
                error = _describe_failure(exc)
                log.warning(
                    "event handler failed (attempt %d of %d): %s", attempt, max_attempts, error,
                    extra={"topic": topic, "event_id": str(event.event_id), "attempt": attempt, "error": error},
                )
                if attempt < max_attempts:
                    metrics.events_consumed.labels(topic, self.group_id, "retried").inc()
                    await asyncio.sleep(self.runtime.settings.consumer_retry_backoff_s * 2 ** (attempt - 1))
                attempt += 1
        return await self._dead_letter(record, error, attempts=min(attempt, max_attempts))

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

    async def _dead_letter(self, record, error: str, attempts: int) -> bool:
        """Copy the record to ``<topic>.dlq`` with why, and record it; False if that failed (redeliver it)."""
        topic = record.topic
        headers = {key: value.decode() for key, value in (record.headers or ()) if _is_text(value)}
        headers.update(
            {
                "dlq-error": error[:4000],
                "dlq-consumer-group": self.group_id,
                "dlq-attempts": str(attempts),
                "dlq-original-topic": topic,
                "dlq-original-partition": str(record.partition),
                "dlq-original-offset": str(record.offset),
            }
        )
        key = record.key
        body = record.value or b""
        try:
            await self.runtime.broker.publish(body, topic=dlq_topic(topic), key=key, headers=headers)
            tenant_id, event_id = _envelope_of(body, headers)
            await self.runtime.dead_letters.record(
                group_id=self.group_id, topic=topic, partition=headers["dlq-original-partition"],
                offset=headers["dlq-original-offset"], key=key, body=body, headers=headers, error=error,
                attempts=attempts, tenant_id=tenant_id, event_id=event_id)
        except Exception:
            log.exception("dead-letter publish failed; the message will be redelivered", extra={"topic": topic})
            await asyncio.sleep(1.0)
            return False
        self.runtime.metrics.events_consumed.labels(topic, self.group_id, "dead_lettered").inc()
        log.error(
            "event moved to the dead-letter topic %s: %s", dlq_topic(topic), error[:500],
            extra={"topic": topic, "dlq_topic": dlq_topic(topic), "group": self.group_id, "error": error[:500]},
        )
        return True


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


def _raw_bodies(message: KafkaMessage) -> list[bytes]:
    """The subscriber's decoder: nothing decoded here; :meth:`EventConsumer.deliver_batch` parses each record's
    bytes itself, so a body that is not even JSON is dead-lettered with why instead of dropped by the framework."""
    return []


def _describe_failure(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(exc)).strip()


def _is_text(value: bytes | None) -> bool:
    try:
        (value or b"").decode()
        return True
    except UnicodeDecodeError:
        return False


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
