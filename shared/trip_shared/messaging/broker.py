"""The one way services build their Kafka broker."""
from __future__ import annotations

import logging

from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry.trace import TracerProvider

from trip_shared.config import ServiceSettings


def create_broker(settings: ServiceSettings, tracer_provider: TracerProvider | None) -> KafkaBroker:
    # acks="all": an event counts as published only once every in-sync replica has it. No idempotent producer:
    # Tansu lacks it, and consumers dedupe by event_id anyway.
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=settings.service_name,
        acks="all",
        enable_idempotence=False,
        request_timeout_ms=10_000,
        middlewares=[KafkaTelemetryMiddleware(tracer_provider=tracer_provider)],
        graceful_timeout=15.0,
        # FastStream's own logger writes coloured text to stdout; this one goes through the service's JSON lines.
        logger=logging.getLogger("trip_shared.messaging.faststream"),
    )


async def publish_raw(broker: KafkaBroker, topic: str, key: str, body: bytes | None, headers: dict[str, str]) -> None:
    """``body`` None is a tombstone (a keyed record with no value: FastStream sends it as such)."""
    await broker.publish(body, topic=topic, key=key.encode(), headers=headers)

