"""Composition root of the feedback service: settings in, a runnable FastAPI app out."""
from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from feedback.adapters.repository import ensure_indexes
from feedback.entrypoints import api, consumers
from feedback.service_layer.unit_of_work import FeedbackUnitOfWork
from trip_shared.config import ServiceSettings
from trip_shared.runtime import ServiceRuntime


def create_app(settings: ServiceSettings | None = None, *, tracer_provider: TracerProvider | None = None) -> FastAPI:
    settings = settings or ServiceSettings.from_env("feedback")
    runtime = ServiceRuntime(settings, uow_class=FeedbackUnitOfWork, tracer_provider=tracer_provider)
    runtime.on_startup(lambda: ensure_indexes(runtime.store.db))
    consumers.register(runtime)
    return runtime.create_app(
        title="Feedback service",
        description="Post-trip ratings and comments from travellers.",
        routers=[api.router],
    )
