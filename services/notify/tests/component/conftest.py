from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from notify.bootstrap import create_app
from trip_shared.embedded import free_port
from trip_shared.testing.service import component_settings, running_service


class Inbox:
    """A real SMTP server (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address):
        return [m for m in self.messages if m["To"] == address]

    @staticmethod
    def subject(message) -> str:
        return str(make_header(decode_header(message["Subject"])))


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def smtp(smtp_port):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield inbox
    controller.stop()


@pytest.fixture
def spans():
    return InMemorySpanExporter()


@pytest.fixture
async def service(mongodb_url, mongo_database_name, smtp_port, spans):
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    settings = component_settings("notify", mongodb_url, mongo_database_name, smtp_port=smtp_port)
    app = create_app(settings, tracer_provider=provider, sweep_interval_s=0.1)
    async with running_service(app) as running:
        yield running
