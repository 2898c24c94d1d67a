"""Notices a Kafka that came back empty, and brings the service back in step with it.

A broker that loses its data (the embedded Tansu keeps everything in memory; a rebuilt cluster) leaves clients
connected and reporting nothing wrong, while acknowledged events are gone: e-mails never sent, read models behind
forever. Every few seconds the watch reads the cluster's identity and its topics. A new cluster id, or a topic the
platform uses gone missing, means the broker lost what it held. Then the service:

1. goes not-ready (``/readyz`` says why);
2. re-creates every topic and its ``.dlq`` twin (unless ``KAFKA_CREATE_TOPICS=false``: then it stays not-ready,
   naming the missing topics, until whoever owns them creates them);
3. restarts its consumers, their groups rewound to the beginning of the new logs (a consumer that lived through the
   restart may have committed its old positions there, which would skip every new message), so they re-join and
   read everything the new broker has;
4. puts back what its outbox published within ``KAFKA_RECOVERY_REPUBLISH_S`` — consumers are idempotent, so what
   they had handled is a duplicate and what was lost is handled now, once;
5. is ready again.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from aiokafka.admin import AIOKafkaAdminClient

log = logging.getLogger(__name__)


class BrokerWatch:
    def __init__(self, bootstrap: str, topics: Sequence[str], *,
                 create_topics: Callable[[], Awaitable[object]] | None,
                 republish_since: Callable[[datetime], Awaitable[int]],
                 restart_consumers: Callable[[], Awaitable[None]], republish_window: timedelta,
                 on_recovery: Callable[[], None] | None = None) -> None:
        self.bootstrap = bootstrap
        self.topics = frozenset(topics)
        self._create_topics = create_topics
        self._republish_since = republish_since
        self._restart_consumers = restart_consumers
        self.republish_window = republish_window
        self._on_recovery = on_recovery
        self.cluster_id: str | None = None
        self.missing: frozenset[str] = frozenset()
        self.problem: str | None = None  # set while the service is not in step with the broker
        self.recoveries = 0
        self._admin: AIOKafkaAdminClient | None = None

    async def _observe(self) -> tuple[str, set[str]]:
        if self._admin is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000)
            await asyncio.wait_for(admin.start(), 10)
            self._admin = admin
        try:
            cluster = await asyncio.wait_for(self._admin.describe_cluster(), 10)
            topics = await asyncio.wait_for(self._admin.list_topics(), 10)
        except Exception:
            await self.close()  # a fresh client next time: this one may be stuck on the old connection
            raise
        return cluster["cluster_id"], set(topics)

    async def check(self) -> bool:
        """One look at the broker; recovers if it lost its data. Returns whether the service is in step.

        The identity first seen (at start) is the one to keep in step with."""
        cluster_id, present = await self._observe()
        if self.cluster_id is None:
            self.cluster_id = cluster_id
        missing = frozenset(self.topics - present)
        if cluster_id == self.cluster_id and not missing and self.problem is None:
            return True
        reason = (f"the Kafka cluster changed identity ({self.cluster_id} → {cluster_id})"
                  if cluster_id != self.cluster_id else f"{len(missing)} topic(s) are missing, e.g. "
                  f"{sorted(missing)[0]}" if missing else self.problem)
        if self.problem is None:
            log.error("Kafka lost its data: %s; recovering", reason)
        self.problem = f"recovering: {reason}"
        self.missing = missing
        if missing:
            if self._create_topics is None:
                self.problem = (f"waiting for the topics to be created (KAFKA_CREATE_TOPICS=false): "
                                f"{', '.join(sorted(missing)[:5])}{' …' if len(missing) > 5 else ''}")
                return False
            await self._create_topics()
        await self._restart_consumers()
        republished = await self._republish_since(datetime.now(UTC) - self.republish_window)
        self.cluster_id, self.missing, self.problem = cluster_id, frozenset(), None
        self.recoveries += 1
        if self._on_recovery:
            self._on_recovery()
        log.warning("back in step with Kafka: topics re-created, %d published event(s) put back, consumers "
                    "restarted", republished, extra={"republished": republished})
        return True

    async def close(self) -> None:
        if self._admin is not None:
            admin, self._admin = self._admin, None
            try:
                await admin.close()
            except Exception:  # already broken: nothing to release
                log.debug("closing the Kafka admin client failed", exc_info=True)
