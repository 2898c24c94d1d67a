"""Composition root of the notify service: settings in, a runnable FastAPI app out."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from notify.adapters.message_links import MessageLinks
from notify.adapters.repository import (
    CHANGE_DIGESTS,
    FINAL_DOCUMENTS,
    NOTIFICATIONS,
    TRIPS,
    ActiveTrips,
    Attachments,
    DeliveryQueue,
    DueAnnouncements,
    DueDigests,
    UnacknowledgedUrgent,
    ensure_indexes,
)
from notify.adapters.sms import SmsSender
from notify.adapters.smtp import SmtpMailer
from notify.adapters.webhooks import WebhookSender
from notify.entrypoints import api, callbacks, consumers, gauges, pages, trip_updates
from notify.service_layer import services
from notify.service_layer.dispatcher import Dispatcher
from notify.service_layer.services import DigestTiming, NotifyHandlers
from notify.service_layer.unit_of_work import NotifyUnitOfWork
from trip_shared.config import ServiceSettings
from trip_shared.runtime import ServiceRuntime
from trip_shared.web.signed_links import LinkSigner


def create_app(settings: ServiceSettings | None = None, *, tracer_provider: TracerProvider | None = None,
               sweep_interval_s: float = 1.0) -> FastAPI:
    settings = settings or ServiceSettings.from_env("notify")
    runtime = ServiceRuntime(settings, uow_class=NotifyUnitOfWork, tracer_provider=tracer_provider)
    attachments = Attachments(runtime.store.db[FINAL_DOCUMENTS])
    runtime.retention.expiries.append(attachments.expiry())
    mailer = SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_sender)
    runtime.on_shutdown(lambda: asyncio.to_thread(mailer.close))
    dispatcher = Dispatcher(DeliveryQueue(runtime.store.db[NOTIFICATIONS]), mailer,
                            tracer_provider=runtime.tracer_provider, sweep_interval_s=sweep_interval_s,
                            webhooks=WebhookSender(settings.supplier_secret_key),
                            sms=SmsSender(settings.sms_api_url, settings.sms_account_sid, settings.sms_auth_token,
                                          settings.sms_from) if settings.sms_account_sid else None,
                            callback_base_url=settings.base_url, attachments=attachments)
    runtime.on_startup(lambda: ensure_indexes(runtime.store.db))
    runtime.run_periodically(dispatcher.sweep, dispatcher.sweep_interval_s, "notification-sweep")
    message_links = MessageLinks(LinkSigner(settings.link_signing_secret), settings.base_url,
                                 settings.itinerary_public_url, settings.feedback_public_url)
    handlers = NotifyHandlers(dispatcher, runtime.agencies,
                              DigestTiming(timedelta(seconds=settings.change_digest_quiet_s),
                                           timedelta(seconds=settings.change_digest_max_wait_s),
                                           timedelta(seconds=settings.urgent_ack_timeout_s)),
                              message_links)
    consumers.register(runtime, handlers)
    unread = UnacknowledgedUrgent(runtime.store.db[NOTIFICATIONS])
    runtime.run_periodically(lambda: services.escalate_unacknowledged(runtime.transaction, unread, handlers),
                             dispatcher.sweep_interval_s, "urgent-escalation")
    active_trips = ActiveTrips(runtime.store.db[TRIPS])
    runtime.run_periodically(lambda: services.send_due_reminders(runtime.transaction, active_trips, handlers),
                             settings.reminder_check_interval_s, "reminders")
    due_digests = DueDigests(runtime.store.db[CHANGE_DIGESTS])
    runtime.run_periodically(lambda: services.send_due_digests(runtime.transaction, due_digests, handlers),
                             dispatcher.sweep_interval_s, "change-digests")
    announcements = DueAnnouncements(runtime.store.db[NOTIFICATIONS])
    runtime.run_periodically(lambda: services.announce_delivery_problems(runtime.transaction, announcements),
                             dispatcher.sweep_interval_s, "delivery-problems")
    app = runtime.create_app(
        title="Notify service",
        description="Tells each trip's clients, suppliers and planners what they need to know, by e-mail, text "
                    "message or webhook, and records every delivery.",
        routers=[api.router, pages.router, callbacks.router, trip_updates.router],
    )
    app.state.dispatcher = dispatcher
    app.state.handlers = handlers
    app.state.message_links = message_links
    gauges.register(runtime, dispatcher)
    return app
