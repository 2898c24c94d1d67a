"""Everything a service needs from the platform, built once per process by the service's bootstrap.

A service's bootstrap creates a :class:`ServiceRuntime`, registers its consumers on ``runtime.consumer(group)``, and
asks :meth:`ServiceRuntime.create_app` for its FastAPI app. The app's lifespan connects MongoDB, creates indexes and
topics, starts the Kafka broker and the outbox relay, and stops them in reverse order.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TypeVar

import pymongo
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider

from trip_shared import deadline
from trip_shared.agency import AgencyDirectory, AgencyProfiles
from trip_shared.config import ServiceSettings
from trip_shared.contracts.registry import all_topic_names, topic_configs
from trip_shared.messaging.broker import create_broker, publish_raw
from trip_shared.messaging.broker_watch import BrokerWatch
from trip_shared.messaging.consumer import EventConsumer
from trip_shared.messaging.dead_letters import DeadLetters
from trip_shared.messaging.inbox import Inbox
from trip_shared.messaging.outbox import Outbox, OutboxRelay
from trip_shared.messaging.state_topics import StateTopicRebuild
from trip_shared.mongo import MongoStore
from trip_shared.retention import SWEEP_INTERVAL_S, RetentionSweeper
from trip_shared.telemetry import create_tracer_provider, install_global_tracer_provider, instrument_pymongo
from trip_shared.unit_of_work import UnitOfWork
from trip_shared.web import idempotency, ops
from trip_shared.web.auth import ApiKeyRegistry
from trip_shared.web.docs import install_offline_docs
from trip_shared.web.edge import FailureLimiter, HttpEdge, redacted_path
from trip_shared.web.idempotency import IdempotencyKeys
from trip_shared.web.metrics import ServiceMetrics
from trip_shared.web.problems import install_problem_handlers

log = logging.getLogger(__name__)
T = TypeVar("T")
Hook = Callable[[], Awaitable[None]]


class UnsafeSettings(RuntimeError):
    """Settings that must not serve real clients."""


class ServiceRuntime:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        uow_class: type[UnitOfWork] = UnitOfWork,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        if settings.environment == "production" and settings.production_problems():
            raise UnsafeSettings("Refusing to start in production mode (TRIP_DESK_ENV=production): "
                                 + "; ".join(settings.production_problems()) + ".")
        self.settings = settings
        self.tracer_provider = tracer_provider or create_tracer_provider(settings.service_name, settings.otlp_endpoint)
        if tracer_provider is None:
            install_global_tracer_provider(self.tracer_provider)
        instrument_pymongo(self.tracer_provider)
        self.metrics = ServiceMetrics(settings.service_name)
        self.api_keys = ApiKeyRegistry.from_settings(settings)
        self.failure_limiter = FailureLimiter(settings.auth_failures_per_minute)
        self.store = MongoStore(settings.mongodb_url, settings.database_name)
        # Who each agency is, on what its clients and suppliers read (trip_shared.agency).
        self.agencies = AgencyDirectory(self.store.db, AgencyProfiles.from_settings(settings))
        self.broker = create_broker(settings, self.tracer_provider)
        self.outbox = Outbox(self.store.db)
        self.inbox = Inbox(self.store.db)
        self.dead_letters = DeadLetters(self.store.db)
        # A reservation older than any request can run belongs to a process that died.
        self.idempotency_keys = IdempotencyKeys(self.store.db,
                                                stale_after=timedelta(seconds=settings.request_timeout_s + 5))
        self.relay = OutboxRelay(
            self.outbox,
            lambda topic, key, body, headers: publish_raw(self.broker, topic, key, body, headers),
            tracer_provider=self.tracer_provider,
            poll_interval_s=settings.outbox_poll_interval_s,
            on_cycle=self.metrics.record_relay_cycle,
        )
        self.uow_class = uow_class
        self.retention = RetentionSweeper([self.outbox.expiry(), self.inbox.expiry(), self.idempotency_keys.expiry()])

        async def refresh_backlog() -> None:  # counted when Prometheus asks, not on every relay cycle
            self.metrics.record_backlog(await self.outbox.backlog())

        self.metrics.before_scrape(refresh_backlog)

        async def refresh_consumers() -> None:
            lags = {}
            for consumer in self._consumers:
                lags.update({(consumer.group_id, topic, partition): lag
                             for (topic, partition), lag in (await consumer.lag()).items()})
            self.metrics.record_consumer_lag(lags)
            self.metrics.record_dead_letters(await self.dead_letters.open_by_topic())

        self.metrics.before_scrape(refresh_consumers)
        self.broker_watch = BrokerWatch(
            settings.kafka_bootstrap_servers, all_topic_names(),
            create_topics=self._ensure_topics if settings.kafka_create_topics else None,
            republish_since=self.outbox.republish_since, restart_consumers=self._restart_consumers,
            republish_window=timedelta(seconds=settings.kafka_recovery_republish_s),
            on_recovery=self.metrics.kafka_recoveries.inc,
        ) if settings.kafka_watch_interval_s > 0 else None
        self._startup_hooks: list[Hook] = []
        self._shutdown_hooks: list[Hook] = []
        self._background_loops: list[tuple[Callable[[], Awaitable[None]], str]] = []
        self._background: list[asyncio.Task] = []
        self._consumers: list[EventConsumer] = []
        self._rebuilds: list[StateTopicRebuild] = []
        self._readiness_reports: list[tuple[str, Callable[[], Awaitable[dict]]]] = []
        if self.broker_watch:
            self.run_periodically(self.broker_watch.check, settings.kafka_watch_interval_s, "kafka-watch")
        self.run_periodically(self.retention.sweep, SWEEP_INTERVAL_S, "retention-sweep")

    # --- use cases -------------------------------------------------------------------------------------------

    async def transaction(self, work: Callable[[UnitOfWork], Awaitable[T]], *, read_only: bool = False) -> T:
        """Run ``work`` in one transaction; its emitted events go to the outbox in that same transaction.

        ``read_only`` work runs outside any transaction: each read sees the latest committed data, and nothing
        may be written. On the embedded server a transaction holds a lock across every round trip it makes, so a
        read that needs no snapshot keeps it short for the writers."""
        if read_only:
            with pymongo.timeout(deadline.remaining_s()):
                return await work(self.uow_class(self.store.db, None))
        committed: list[UnitOfWork] = []

        async def attempt(session) -> T:
            uow = self.uow_class(self.store.db, session)
            result = await work(uow)
            if uow.events:
                await self.outbox.stage(session, uow.events)
            if uow.wrote:
                await idempotency.mark_committed_in(session)
            committed[:] = [uow]
            return result

        # Inside a request, the transaction gets what is left of the request's deadline: past it, it is aborted.
        with pymongo.timeout(deadline.remaining_s()):
            result = await self.store.run_in_transaction(attempt)
        uow = committed[0]
        if uow.wrote:
            deadline.note_commit()
        if uow.events:
            self.relay.nudge()
        for callback in uow.after_commit:
            try:
                await callback()
            except Exception:  # post-commit work is best-effort; its own retry loop picks it up later
                log.exception("after-commit callback failed")
        return result

    def consumer_of(self, group_id: str, topic: str) -> EventConsumer | None:
        return next((consumer for consumer in self._consumers
                     if consumer.group_id == group_id and consumer.handles_topic(topic)), None)

    @property
    def consumer_groups(self) -> list[str]:
        return list(self.topics_by_group)

    @property
    def topics_by_group(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for consumer in self._consumers:
            groups.setdefault(consumer.group_id, []).extend(consumer.topics)
        return groups

    def rebuild_from_state_topic(self, contract, apply, forget=None) -> None:
        """Before the consumers start, build a read model from ``contract``'s compacted state topic when this
        database never was (trip_shared.messaging.state_topics). ``apply(state, uow)``: as the change event's
        handler; ``forget(tenant_id, key, uow)``: a tombstone's."""
        if self.settings.read_model_rebuild:
            self._rebuilds.append(StateTopicRebuild(self, contract, apply, forget))

    def consumer(self, group_id: str) -> EventConsumer:
        consumer = EventConsumer(self, group_id)
        self._consumers.append(consumer)
        return consumer

    # --- lifecycle -------------------------------------------------------------------------------------------

    def on_startup(self, hook: Hook) -> None:
        """Run before the broker starts consuming (indexes, caches)."""
        self._startup_hooks.append(hook)

    def on_shutdown(self, hook: Hook) -> None:
        self._shutdown_hooks.append(hook)

    def run_in_background(self, loop: Callable[[], Awaitable[None]], name: str) -> None:
        """Start a long-running task once the broker runs; cancelled at shutdown."""
        self._background_loops.append((loop, name))

    def run_periodically(self, step: Callable[[], Awaitable[object]], interval_s: float, name: str) -> None:
        """Run ``step`` every ``interval_s`` in the background. A failed step is logged and retried next time:
        the loop must outlive a database or SMTP hiccup."""
        async def loop() -> None:
            while True:
                try:
                    await step()
                except Exception:
                    log.exception("%s failed; retrying in %s s", name, interval_s)
                await asyncio.sleep(interval_s)

        self.run_in_background(loop, name)

    def report_on_readiness(self, name: str, report: Callable[[], Awaitable[dict]]) -> None:
        """Add a section of the service's own to ``/readyz`` (it informs; it does not make the service unready)."""
        self._readiness_reports.append((name, report))

    async def readiness(self) -> dict:
        mongo_ok = await self.store.ping()
        try:
            kafka_ok = bool(await self.broker.ping(timeout=2.0))
        except Exception:
            kafka_ok = False
        in_step = self.broker_watch is None or self.broker_watch.problem is None
        kafka = ("ok" if in_step else self.broker_watch.problem) if kafka_ok else "unreachable"
        report: dict = {"mongodb": "ok" if mongo_ok else "unreachable", "kafka": kafka}
        if mongo_ok:
            backlog = await self.outbox.backlog()
            report["outbox"] = backlog.as_dict()
            report["dead_letters_open"] = await self.dead_letters.count_open()
            if backlog.parked:
                # Still ready: the other keys publish. But a person has to decide about these (/v1/ops/outbox).
                report["attention"] = [f"{backlog.parked} outbox event(s) parked, {backlog.held} held behind them: "
                                       f"{backlog.parked_error}"]
        if mongo_ok:
            for name, section in self._readiness_reports:
                report[name] = await section()
        report["status"] = "ready" if mongo_ok and kafka_ok and in_step else "not-ready"
        return report

    async def _ensure_topics(self) -> None:
        if not self.settings.kafka_create_topics:
            return
        from trip_shared.embedded import ensure_topics

        await ensure_topics(self.settings.kafka_bootstrap_servers, all_topic_names(),
                            self.settings.kafka_topic_partitions, configs=topic_configs())

    async def _restart_consumers(self) -> None:
        """Leave the old broker's groups and join the new one's, reading its topics from the beginning."""
        try:
            await asyncio.wait_for(self.broker.stop(), timeout=30)
        except Exception:  # a client confused by the restart may not stop cleanly; it is replaced anyway
            log.warning("stopping the Kafka clients after the broker lost its data failed", exc_info=True)
        for consumer in self._consumers:
            consumer.rewind_on_next_assignments()
        await self.broker.start()
        self.relay.nudge()

    @asynccontextmanager
    async def lifespan(self, app: FastAPI):
        await self.outbox.ensure_indexes()
        await self.dead_letters.ensure_indexes()
        await self.retention.ensure_indexes()
        for hook in self._startup_hooks:
            await hook()
        await self._ensure_topics()
        for rebuild in self._rebuilds:  # after the topics exist, before anything is consumed
            await rebuild.run_if_never_built()
        await self.broker.start()
        self.relay.start()
        if self.broker_watch:
            try:
                await self.broker_watch.check()  # the identity to keep in step with
            except Exception:
                log.warning("could not read Kafka's identity at start; the watch retries", exc_info=True)
        self._background = [asyncio.create_task(loop(), name=name) for loop, name in self._background_loops]
        log.info("service started", extra={"port": self.settings.port})
        try:
            yield
        finally:
            # Each step of a shutdown gets a bound: a stop that hangs (a task stuck on a dead connection) is logged
            # with what it awaits and left behind, instead of keeping the process, or a test run, alive forever.
            for task in self._background:
                task.cancel()
            await _bounded("background tasks", asyncio.gather(*self._background, return_exceptions=True),
                           self._background)
            self._background.clear()
            for hook in reversed(self._shutdown_hooks):
                await _bounded("a shutdown hook", hook())
            await _bounded("the outbox relay", self.relay.stop(), [self.relay._task] if self.relay._task else [])
            if self.broker_watch:
                await _bounded("the Kafka watch", self.broker_watch.close())
            await _bounded("the Kafka broker", self.broker.stop())
            await _bounded("MongoDB", self.store.close())
            log.info("service stopped")

    def create_app(self, *, title: str, description: str, routers: Sequence[APIRouter],
                   tags: Iterable[dict] = ()) -> FastAPI:
        app = FastAPI(title=title, description=description, version="1.0.0", lifespan=self.lifespan,
                      openapi_tags=list(tags), docs_url=None, redoc_url=None)
        install_offline_docs(app)
        app.state.runtime = self
        for consumer in self._consumers:
            consumer.subscribe()
        install_problem_handlers(app)
        # Nothing reaches a route (or its body parser) without crossing the edge; the metrics, added after it and
        # so wrapped around it, also count the requests the edge refused.
        app.add_middleware(HttpEdge, api_keys=lambda: self.api_keys, max_body_bytes=self.settings.http_max_body_bytes,
                           request_timeout_s=self.settings.request_timeout_s, failure_limiter=self.failure_limiter,
                           idempotency_keys=self.idempotency_keys)
        self.metrics.install(app)

        @app.get("/healthz", tags=["operations"])
        async def healthz() -> dict:
            """Liveness: the process answers."""
            return {"status": "ok", "service": self.settings.service_name}

        @app.get("/readyz", tags=["operations"], responses={
            503: {"description": "Not ready: MongoDB or Kafka unreachable, or Kafka lost its data and the service "
                                 "is catching up. The body says which."}})
        async def readyz() -> JSONResponse:
            """Readiness: MongoDB and Kafka reachable; also reports the outbox backlog."""
            report = await self.readiness()
            return JSONResponse(report, status_code=200 if report["status"] == "ready" else 503)

        for router in (*routers, ops.router):
            app.include_router(router)
        _document_api(app)
        FastAPIInstrumentor.instrument_app(app, tracer_provider=self.tracer_provider,
                                           excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"],
                                           server_request_hook=_redact_request)
        return app


SHUTDOWN_STEP_TIMEOUT_S = 20.0


async def _bounded(what: str, step: Awaitable, tasks: Sequence[asyncio.Task] = ()) -> None:
    try:
        await asyncio.wait_for(step, SHUTDOWN_STEP_TIMEOUT_S)
    except TimeoutError:
        stuck = [task for task in tasks if not task.done()]
        awaiting = "; ".join(f"{task.get_name()} at {_where(task)}" for task in stuck)
        log.error("stopping %s took over %s s; going on without it%s", what, SHUTDOWN_STEP_TIMEOUT_S,
                  f" ({awaiting})" if awaiting else "")
    except Exception:
        log.exception("stopping %s failed; going on", what)


def _where(task: asyncio.Task) -> str:
    """The chain of awaits a task is suspended in (the innermost last), e.g. ``drain:371 > backlog:230 > …``."""
    places, awaited = [], task.get_coro()
    while awaited is not None and getattr(awaited, "cr_frame", None) is not None:
        frame = awaited.cr_frame
        places.append(f"{frame.f_code.co_name}:{frame.f_lineno}")
        awaited = getattr(awaited, "cr_await", None)
    return " > ".join(places[-6:]) or "?"


READS = ("get", "head")


def _document_api(app: FastAPI) -> None:
    """What the edge adds to every /v1 operation, in its OpenAPI: the API key it requires (a Bearer token), the
    ``Idempotency-Key`` every POST honours; and of the errors every route shares, only those it can answer: no
    409 from a read, no 412 where no If-Match is taken."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        schema.setdefault("components", {})["securitySchemes"] = {"ApiKey": {
            "type": "http", "scheme": "bearer",
            "description": "An agency's API key: `Authorization: Bearer <key>`. Each key belongs to one agency and "
                           "carries scopes such as `itineraries:write` (README, API keys)."}}
        for template, operations in schema["paths"].items():
            if not template.startswith("/v1"):
                continue
            for method, operation in operations.items():
                operation["security"] = [{"ApiKey": []}]
                parameters = operation.setdefault("parameters", [])
                if method == "post":
                    parameters.append({
                        "name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH},
                        "description": "Send the same key when you retry: the request takes effect once and the "
                                       "retry gets the first response. The same key with another body is a 422."})
                responses = operation["responses"]
                if method in READS:
                    responses.pop("409", None)
                if not any(parameter["name"] == "If-Match" for parameter in parameters):
                    responses.pop("412", None)
        return schema

    app.openapi = openapi


_URL_ATTRIBUTES = ("http.url", "http.target", "url.full", "url.path")


def _redact_request(span, scope: dict) -> None:
    """Spans keep the path only: query strings carry search terms (names, e-mails, phones), and the token of a
    signed link is a credential."""
    if not span.is_recording():
        return
    path = scope.get("path", "")
    safe_path = redacted_path(path)
    if not scope.get("query_string") and safe_path == path:
        return
    query = "?[redacted]" if scope.get("query_string") else ""
    origin = f"{scope.get('scheme', 'http')}://{scope.get('server', ('', ''))[0]}"
    values = {"http.url": f"{origin}{safe_path}{query}", "url.full": f"{origin}{safe_path}{query}",
              "http.target": f"{safe_path}{query}", "url.path": safe_path}
    recorded = getattr(span, "attributes", None) or {}
    for name in _URL_ATTRIBUTES:
        if name in recorded or name == "http.url":
            span.set_attribute(name, values[name])
    if "url.query" in recorded:
        span.set_attribute("url.query", "[redacted]")


def serve(create_app: Callable[[ServiceSettings], FastAPI], service_name: str) -> None:
    """Entry point body of every service's ``__main__``."""
    import uvicorn

    from trip_shared.telemetry import configure_logging

    settings = ServiceSettings.from_env(service_name)
    configure_logging(service_name, settings.log_level)
    try:
        app = create_app(settings)
    except UnsafeSettings as refusal:
        log.critical("%s", refusal)
        raise SystemExit(2) from None
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, timeout_graceful_shutdown=20)
