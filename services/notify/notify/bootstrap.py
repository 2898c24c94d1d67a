"""Composition root of the notify service: settings in, a runnable FastAPI app out."""
from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from notify.adapters.repository import NOTIFICATIONS, DeliveryQueue, ensure_indexes
from notify.adapters.smtp import SmtpMailer
from notify.adapters.webhooks import WebhookSender
from notify.entrypoints import api, consumers
from notify.service_layer.dispatcher import DeliveryGauges, Dispatcher
from notify.service_layer.services import NotifyHandlers
from notify.service_layer.unit_of_work import NotifyUnitOfWork
from trip_shared.config import ServiceSettings
from trip_shared.runtime import ServiceRuntime


def create_app(settings: ServiceSettings | None = None, *, tracer_provider: TracerProvider | None = None,
               sweep_interval_s: float = 1.0) -> FastAPI:
    settings = settings or ServiceSettings.from_env("notify")
    runtime = ServiceRuntime(settings, uow_class=NotifyUnitOfWork, tracer_provider=tracer_provider)
    dispatcher = Dispatcher(DeliveryQueue(runtime.store.db[NOTIFICATIONS]),
                            SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_sender),
                            tracer_provider=runtime.tracer_provider, sweep_interval_s=sweep_interval_s,
                            webhooks=WebhookSender(settings.supplier_secret_key))
    runtime.on_startup(lambda: ensure_indexes(runtime.store.db))
    runtime.run_periodically(dispatcher.sweep, dispatcher.sweep_interval_s, "notification-sweep")
    consumers.register(runtime, NotifyHandlers(dispatcher, runtime.agencies))
    app = runtime.create_app(
        title="Notify service",
        description="E-mails each trip's Points of Contact and records every delivery.",
        routers=[api.router],
    )
    app.state.dispatcher = dispatcher
    deliveries = DeliveryGauges(runtime.metrics.registry)

    async def delivery_report() -> dict:
        counts = await dispatcher.queue.counts()
        deliveries.update(counts, dispatcher.channel.up)
        return {"smtp": dispatcher.channel.as_dict(), **counts}

    runtime.report_on_readiness("deliveries", delivery_report)
    runtime.metrics.before_scrape(delivery_report)
    return app
