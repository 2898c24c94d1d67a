"""The platform as real processes on real brokers, driven over HTTP.

With a Docker engine, Kafka and MongoDB (a replica set) come from testcontainers; without one (as on CI here),
from the embedded Tansu and SecantusDB servers. Never a mock: the services are the ones ``make up`` runs.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest

from trip_shared.devstack import EmbeddedStack
from trip_shared.testing.maildir import unique
from trip_shared.testing.otlp_receiver import OtlpReceiver
from trip_shared.testing.platform import docker_available
from trip_shared.testing.proposals import approve_from_the_email
from trip_shared.web.auth import hash_key

OTHER_TENANT_KEY = "e2e-other-agency-key"
FUZZ_TENANT_KEY = "e2e-fuzz-agency-key"
README_TENANT_KEY = "e2e-readme-agency-key"
CONSOLE_TENANT_KEY = "e2e-console-agency-key"
# Where the console links trace ids in the e2e stack (the spans go to the ``traces`` receiver).
TRACE_UI_URL = "http://jaeger.e2e.test:16686"
APPROVED_TRIP_NOTE = "INTERNAL: upgrade owed by the hotel"


@contextmanager
def containers() -> Iterator[tuple[str, str]]:
    """Kafka and a one-node MongoDB replica set (transactions need one) from testcontainers."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs
    from testcontainers.kafka import KafkaContainer

    with KafkaContainer("confluentinc/cp-kafka:7.6.1").with_kraft() as kafka, \
            DockerContainer("mongo:7.0").with_command("--replSet rs0 --bind_ip_all").with_exposed_ports(27017) as mongo:
        wait_for_logs(mongo, "Waiting for connections", timeout=60)
        mongo.exec(["mongosh", "--quiet", "--eval",
                    "rs.initiate({_id: 'rs0', members: [{_id: 0, host: 'localhost:27017'}]})"])
        url = f"mongodb://{mongo.get_container_host_ip()}:{mongo.get_exposed_port(27017)}/?directConnection=true"
        yield kafka.get_bootstrap_server(), url


@pytest.fixture(scope="session")
def traces() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory, traces) -> Iterator[EmbeddedStack]:
    other_tenant = [{"name": "e2e-other", "tenant_id": "other-agency", "scopes": ["*"],
                     "key_sha256": hash_key(OTHER_TENANT_KEY)},
                    # Schemathesis gets an agency of its own: what it creates stays out of the other tests' way.
                    {"name": "e2e-fuzz", "tenant_id": "fuzz-agency", "scopes": ["*"],
                     "key_sha256": hash_key(FUZZ_TENANT_KEY)},
                    # And so does the README's hand-run flow, which can be run again and again.
                    {"name": "e2e-readme", "tenant_id": "readme-agency", "scopes": ["*"],
                     "key_sha256": hash_key(README_TENANT_KEY)},
                    # The ops console's test subscribes a webhook that refuses: no other test's messages go to it.
                    {"name": "e2e-console", "tenant_id": "console-agency", "scopes": ["*"],
                     "key_sha256": hash_key(CONSOLE_TENANT_KEY)}]
    # Changes to an approved trip wait for 5 quiet seconds, not 10 minutes, before their digest goes; reminders
    # are looked for every 2 seconds, not every minute; urgent news unread for 5 s, not 2 hours, is escalated.
    extra_env = {"OTEL_EXPORTER_OTLP_ENDPOINT": traces.endpoint, "API_KEYS": json.dumps(other_tenant),
                 "LOG_LEVEL": "INFO", "CHANGE_DIGEST_QUIET_S": "5", "REMINDER_CHECK_INTERVAL_S": "2",
                 "URGENT_ACK_TIMEOUT_S": "5", "TRACE_UI_URL": TRACE_UI_URL}
    with ExitStack() as resources:
        kafka = mongodb = None
        if docker_available():
            kafka, mongodb = resources.enter_context(containers())
        platform = EmbeddedStack(tmp_path_factory.mktemp("stack"), ports=None, extra_env=extra_env, ephemeral=True,
                                 kafka_bootstrap=kafka, mongodb_url=mongodb)
        resources.enter_context(platform)
        yield platform


class Api:
    """A thin HTTP client for one tenant that fails loudly with the server's problem details."""

    def __init__(self, stack: EmbeddedStack, key: str) -> None:
        self.stack = stack
        self.key = key
        self.http = httpx.Client(timeout=15, headers={"Authorization": f"Bearer {key}"})

    def url(self, service: str, path: str) -> str:
        return self.stack.service_url(service) + path

    def request(self, method: str, service: str, path: str, **kwargs) -> httpx.Response:
        return self.http.request(method, self.url(service, path), **kwargs)

    def ok(self, method: str, service: str, path: str, expected: int = 200, **kwargs) -> dict:
        response = self.request(method, service, path, **kwargs)
        assert response.status_code == expected, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else {}


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless (trip_shared.testing.browser)."""
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    from trip_shared.testing.browser import CHROMIUM, CHROMIUM_ARGS

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: `make test` installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def api(stack) -> Api:
    return Api(stack, stack.api_key)


@pytest.fixture(scope="session")
def other_agency(stack) -> Api:
    return Api(stack, OTHER_TENANT_KEY)


@pytest.fixture(scope="session")
def fuzz_agency(stack) -> str:
    return FUZZ_TENANT_KEY


@pytest.fixture(scope="session")
def readme_agency() -> str:
    return README_TENANT_KEY


@pytest.fixture(scope="session")
def console_agency(stack) -> Api:
    return Api(stack, CONSOLE_TENANT_KEY)


@pytest.fixture(scope="session")
def trace_ui_url() -> str:
    return TRACE_UI_URL


@pytest.fixture
def approved_trip(api, stack):
    """Makes a trip its two points of contact approved (see _approved_trip_with_two_pocs)."""
    return lambda: _approved_trip_with_two_pocs(api, stack)


def _approved_trip_with_two_pocs(api, stack) -> tuple[str, dict, dict]:
    """Two POCs (English and Chinese) on a trip they approved: a flight and a dinner, each with an internal note;
    the trip's id, its items and the POCs' addresses by language."""
    addresses = {"en": f"{unique('bo')}@example.com", "zh-Hans": f"{unique('mei')}@example.com"}
    ids = {}
    for language, email in addresses.items():
        ids[language] = api.ok("POST", "customers", "/v1/customers", 201, json={
            "first_name": "Mei" if language == "zh-Hans" else "Bo", "last_name": unique("Chen"), "email": email,
            "preferred_language": language})["id"]
    trip = api.ok("POST", "itinerary", "/v1/itineraries", 201, json={
        "title": unique("Kyoto in autumn "), "start_date": "2027-10-01", "end_date": "2027-10-04"})
    base = f"/v1/itineraries/{trip['id']}"
    for customer_id in ids.values():
        api.ok("POST", "itinerary", f"{base}/customers", 201, json={"customer_id": customer_id, "is_poc": True})
    items = {
        "flight": api.ok("POST", "itinerary", f"{base}/items", 201, json={
            "kind": "flight", "title": "BA5", "timezone": "Europe/London", "start": "2027-10-01T20:20",
            "end": "2027-10-02T16:15", "end_timezone": "Asia/Tokyo", "notes": APPROVED_TRIP_NOTE}),
        "dinner": api.ok("POST", "itinerary", f"{base}/items", 201, json={
            "kind": "dining", "title": "Kaiseki dinner", "timezone": "Asia/Tokyo", "start": "2027-10-03T19:00",
            "end": "2027-10-03T21:00", "location": {"address": "Gion, Kyoto"}, "notes": APPROVED_TRIP_NOTE}),
    }
    approve_from_the_email(api, stack.maildir, base, addresses["en"])
    assert api.ok("GET", "itinerary", base)["stage"] == "approved"
    return trip["id"], items, addresses
