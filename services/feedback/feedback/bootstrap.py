"""Composition root of the feedback service: settings in, a runnable FastAPI app out."""
from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from feedback.adapters.repository import INCIDENTS, KNOWN_TRIPS, SURVEYS, OverdueIncidents, SurveyWork, ensure_indexes
from feedback.entrypoints import (
    analytics,
    api,
    client_pages,
    complaints,
    consumers,
    gauges,
    incidents,
    operations,
    surveys,
)
from feedback.service_layer import services
from feedback.service_layer.unit_of_work import FeedbackUnitOfWork
from trip_shared.config import ServiceSettings
from trip_shared.runtime import ServiceRuntime
from trip_shared.web.signed_links import LinkSigner


def create_app(settings: ServiceSettings | None = None, *, tracer_provider: TracerProvider | None = None,
               escalation_check_interval_s: float = 5.0, survey_check_interval_s: float | None = None) -> FastAPI:
    settings = settings or ServiceSettings.from_env("feedback")
    runtime = ServiceRuntime(settings, uow_class=FeedbackUnitOfWork, tracer_provider=tracer_provider)
    runtime.on_startup(lambda: ensure_indexes(runtime.store.db))
    consumers.register(runtime)
    gauges.register(runtime)
    overdue = OverdueIncidents(runtime.store.db[INCIDENTS])
    runtime.run_periodically(lambda: services.escalate_overdue_incidents(runtime.transaction, overdue),
                             escalation_check_interval_s, "incident-escalation")
    survey_check_interval_s = survey_check_interval_s or settings.reminder_check_interval_s
    survey_work = SurveyWork(runtime.store.db[KNOWN_TRIPS], runtime.store.db[SURVEYS])
    runtime.run_periodically(lambda: services.issue_due_surveys(runtime.transaction, survey_work),
                             survey_check_interval_s, "surveys")
    runtime.run_periodically(lambda: services.remind_due_surveys(runtime.transaction, survey_work),
                             survey_check_interval_s, "survey-reminders")
    app = runtime.create_app(
        title="Feedback service",
        description="What happens on and after a trip: incidents and their resolution, complaints and what the "
                    "agency offers for them, the travellers' surveys, and ratings.",
        routers=[api.router, incidents.router, complaints.router, surveys.router, analytics.router, operations.router,
                 client_pages.router],
    )
    app.state.link_signer = LinkSigner(settings.link_signing_secret)
    return app
