import pytest
from opentelemetry.sdk.trace import TracerProvider

from itinerary.bootstrap import create_app
from trip_shared.testing.service import component_settings, running_service


@pytest.fixture
async def service(mongodb_url, mongo_database_name):
    app = create_app(component_settings("itinerary", mongodb_url, mongo_database_name),
                     tracer_provider=TracerProvider())
    async with running_service(app) as running:
        yield running
