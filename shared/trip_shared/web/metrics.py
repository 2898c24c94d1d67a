"""Prometheus metrics, one registry per service instance."""
from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

log = logging.getLogger(__name__)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Figures:
    """A gauge family set whole from the database at each scrape: a label set no longer counted drops out, and
    those in ``always`` read 0 rather than missing, so a rule or a panel sees the first one appear."""

    def __init__(self, gauge: Gauge, labelled: bool, always: Iterable[tuple[str, ...]] = ()) -> None:
        self.gauge = gauge
        self.labelled = labelled
        self.always = tuple(always)

    def replace(self, values: Mapping[tuple[str, ...], float]) -> None:
        if not self.labelled:
            self.gauge.set(values.get((), 0))
            return
        self.gauge.clear()  # no await until every value is set: a concurrent scrape never sees it half done
        for labels in self.always:
            self.gauge.labels(*labels).set(0)
        for labels, value in values.items():
            self.gauge.labels(*labels).set(value)


class ServiceMetrics:
    def __init__(self, service_name: str) -> None:
        self.registry = CollectorRegistry()
        self._before_scrape: list[Callable[[], Awaitable[None]]] = []
        self.service_name = service_name
        self.http_requests = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"],
                                     registry=self.registry)
        self.http_latency = Histogram("http_request_duration_seconds", "HTTP request latency", ["method", "route"],
                                      registry=self.registry)
        self.outbox_pending = Gauge("outbox_pending_events", "Events written but not yet published",
                                    registry=self.registry)
        self.outbox_oldest_age = Gauge("outbox_oldest_pending_age_seconds", "Age of the oldest unpublished event",
                                       registry=self.registry)
        self.outbox_parked = Gauge("outbox_parked_events", "Events Kafka refused, waiting for an operator",
                                   registry=self.registry)
        self.outbox_held = Gauge("outbox_held_events", "Events waiting behind a parked event of the same key",
                                 registry=self.registry)
        self.outbox_published = Counter("outbox_published_total", "Events published by the relay",
                                        registry=self.registry)
        self.outbox_failures = Counter("outbox_publish_failures_total", "Failed publish attempts",
                                       registry=self.registry)
        self.kafka_recoveries = Counter("kafka_recoveries_total", "Times Kafka had lost its data and the service "
                                        "re-created topics, republished and restarted its consumers",
                                        registry=self.registry)
        self.events_consumed = Counter("events_consumed_total", "Consumed events by outcome",
                                       ["topic", "group", "outcome"], registry=self.registry)
        self.consumer_lag = self.figures("kafka_consumer_lag", "Records on the broker the group has not yet taken, "
                                         "per assigned partition", ["group", "topic", "partition"])
        self.dead_letters_open = self.figures("dead_letters_open", "Dead-lettered events waiting for an operator",
                                              ["group", "topic"])

    def figures(self, name: str, documentation: str, labels: Iterable[str] = (),
                always: Iterable[tuple[str, ...]] = ()) -> Figures:
        """A gauge of this service's own records, replaced whole before each scrape (see ``before_scrape``)."""
        labels = list(labels)
        return Figures(Gauge(name, documentation, labels, registry=self.registry), bool(labels), always)

    def record_relay_cycle(self, published: int, failed: int) -> None:
        self.outbox_published.inc(published)
        self.outbox_failures.inc(failed)

    def record_backlog(self, backlog) -> None:
        self.outbox_pending.set(backlog.pending)
        self.outbox_oldest_age.set(backlog.oldest_pending_age_s)
        self.outbox_parked.set(backlog.parked)
        self.outbox_held.set(backlog.held)

    def record_consumer_lag(self, lags: dict[tuple[str, str, int], int]) -> None:
        """Replace every partition's lag: a partition this process no longer holds drops out."""
        self.consumer_lag.replace({(group, topic, str(partition)): lag
                                   for (group, topic, partition), lag in lags.items()})

    def record_dead_letters(self, open_by_topic: dict[tuple[str, str], int]) -> None:
        self.dead_letters_open.replace(open_by_topic)

    def install(self, app: FastAPI) -> None:
        @app.middleware("http")
        async def measure(request: Request, call_next):
            started = time.perf_counter()
            status = 500
            try:
                response = await call_next(request)
                status = response.status_code
                return response
            finally:
                # Label values come from a fixed set: a client can send any method and any path.
                route = request.scope.get("route")
                template = getattr(route, "path", "unmatched")
                method = request.method if request.method in KNOWN_METHODS else "OTHER"
                self.http_requests.labels(method, template, str(status)).inc()
                self.http_latency.labels(method, template).observe(time.perf_counter() - started)

        @app.get("/metrics", include_in_schema=False)
        async def metrics() -> Response:
            for refresh in self._before_scrape:
                try:
                    await refresh()
                except Exception:  # a gauge left at its last value beats no metrics at all
                    log.warning("could not refresh a gauge before the scrape", exc_info=True)
            return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    def before_scrape(self, refresh: Callable[[], Awaitable[None]]) -> None:
        """Refresh gauges that are read from the database when Prometheus asks, not on a timer."""
        self._before_scrape.append(refresh)
