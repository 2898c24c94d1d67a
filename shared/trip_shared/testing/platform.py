"""Trip Desk for another team's end-to-end tests: one object (and the ``trip_desk`` pytest fixture) that starts the
whole platform and says where it is.

With a Docker engine (``mode="containers"``, the default when one answers) it runs what production runs: the
services' image ``trip-desk:<version>`` (build it with ``docker build -f deploy/Dockerfile -t trip-desk:0.1.0 .``
or set ``TRIP_DESK_IMAGE``), Apache Kafka (KRaft), a MongoDB replica set and Mailpit for the e-mails, on one
testcontainers network. Without one (``mode="embedded"``) it starts the same services as processes on the embedded
Tansu and SecantusDB servers, as ``make up`` does. Either way the test gets the five base URLs, an API key of one
agency with every scope, and where the e-mails land::

    def test_our_crm_sees_a_new_trip(trip_desk):
        api = trip_desk.client("itinerary")          # httpx.Client with the key
        trip = api.post("/v1/itineraries", json={...}).json()

Versioned with the ``trip-shared`` package (``PLATFORM_VERSION``): a fixture of version X starts the image of
version X, and the APIs it reaches are /v1 of that version.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import httpx

from trip_shared.config import DEFAULT_PORTS
from trip_shared.web.auth import hash_key

PLATFORM_VERSION = version("trip-shared")
SERVICES = ("customers", "itinerary", "booking", "notify", "feedback")
TENANT = "platform-test-agency"
# Known only to the platform started here, for the agency above.
API_KEY = "trip-desk-platform-test-key"
READY_TIMEOUT_S = 120.0


@dataclass
class TripDesk:
    """A running platform: where each service is, the agency's key, and where its e-mails go."""

    urls: dict[str, str]
    api_key: str
    tenant_id: str
    mode: str
    mail_api: str | None = None  # Mailpit's HTTP API (containers)
    maildir: Path | None = None  # the Maildir e-mails are written to (embedded)
    _clients: list[httpx.Client] = field(default_factory=list)

    def url(self, service: str) -> str:
        return self.urls[service]

    def client(self, service: str) -> httpx.Client:
        client = httpx.Client(base_url=self.urls[service], timeout=15,
                              headers={"Authorization": f"Bearer {self.api_key}"})
        self._clients.append(client)
        return client

    def emails_to(self, address: str) -> list[dict]:
        """The e-mails sent to ``address`` so far: ``{"subject", "text"}`` each."""
        if self.maildir is not None:
            from trip_shared.testing.maildir import mails_to, subject, text_of

            return [{"subject": subject(message), "text": text_of(message)}
                    for message in mails_to(self.maildir, address)]
        found = httpx.get(f"{self.mail_api}/api/v1/search", params={"query": f"to:{address}"}, timeout=10).json()
        return [{"subject": message["Subject"],
                 "text": httpx.get(f"{self.mail_api}/api/v1/message/{message['ID']}", timeout=10).json()["Text"]}
                for message in found.get("messages", [])]

    def close(self) -> None:
        for client in self._clients:
            client.close()


def docker_available() -> bool:
    """A Docker engine answers, and testcontainers is there to drive it."""
    if not shutil.which("docker"):
        return False
    try:
        import testcontainers  # noqa: F401
    except ImportError:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=15).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


# The agency the messages are signed by, with the support contacts every client message carries.
AGENCY = {"name": "Platform Test Travel", "support_phone": "+44 20 7946 0123", "support_email": "help@agency.example",
          "emergency_phone": "+44 20 7946 0999"}


def _api_keys() -> str:
    return json.dumps([{"name": "platform-test", "tenant_id": TENANT, "scopes": ["*"],
                        "key_sha256": hash_key(API_KEY)}])


@contextmanager
def trip_desk_platform(mode: str = "auto", image: str | None = None) -> Iterator[TripDesk]:
    """Start Trip Desk (``mode``: ``containers``, ``embedded`` or ``auto``) and stop it afterwards."""
    if mode == "auto":
        mode = "containers" if docker_available() else "embedded"
    if mode == "containers":
        with _containers(image or os.environ.get("TRIP_DESK_IMAGE") or f"trip-desk:{PLATFORM_VERSION}") as desk:
            yield desk
    elif mode == "embedded":
        with _embedded() as desk:
            yield desk
    else:
        raise ValueError(f"mode must be containers, embedded or auto, not {mode!r}")


@contextmanager
def _embedded() -> Iterator[TripDesk]:
    from trip_shared.devstack import EmbeddedStack

    with tempfile.TemporaryDirectory(prefix="trip-desk-") as folder, EmbeddedStack(
            folder, ports=None, ephemeral=True, tenants=(TENANT,), console=False,
            extra_env={"API_KEYS": _api_keys(), "AGENCY_PROFILES": json.dumps({TENANT: AGENCY})}) as stack:
        desk = TripDesk(urls={name: stack.service_url(name) for name in SERVICES}, api_key=API_KEY,
                        tenant_id=TENANT, mode="embedded", maildir=stack.maildir)
        try:
            yield desk
        finally:
            desk.close()


@contextmanager
def _containers(image: str) -> Iterator[TripDesk]:
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.network import Network
    from testcontainers.core.waiting_utils import wait_for_logs

    with ExitStack() as running:
        network = running.enter_context(Network())
        kafka = running.enter_context(KafkaContainer("confluentinc/cp-kafka:7.6.1").with_kraft()
                                      .with_network(network).with_network_aliases("kafka"))
        mongo = running.enter_context(DockerContainer("mongo:7.0").with_command("--replSet rs0 --bind_ip_all")
                                      .with_network(network).with_network_aliases("mongodb")
                                      .with_exposed_ports(27017))
        wait_for_logs(mongo, "Waiting for connections", timeout=60)
        mongo.exec(["mongosh", "--quiet", "--eval",
                    "rs.initiate({_id: 'rs0', members: [{_id: 0, host: 'mongodb:27017'}]})"])
        mail = running.enter_context(DockerContainer("axllent/mailpit:v1.21").with_network(network)
                                     .with_network_aliases("mailpit").with_exposed_ports(8025))
        shared_env = {
            "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "KAFKA_CREATE_TOPICS": "true",
            "MONGODB_URL": "mongodb://mongodb:27017/?replicaSet=rs0", "SMTP_HOST": "mailpit", "SMTP_PORT": "1025",
            "API_KEYS": _api_keys(), "AGENCY_PROFILES": json.dumps({TENANT: AGENCY}), "SERVICE_HOST": "0.0.0.0",
            "LOG_LEVEL": "INFO",
            **{f"{name.upper()}_PUBLIC_URL": f"http://{name}:{DEFAULT_PORTS[name]}" for name in SERVICES}}
        services = {}
        for name in SERVICES:
            port = DEFAULT_PORTS[name]
            container = DockerContainer(image).with_command(name).with_network(network) \
                .with_network_aliases(name).with_exposed_ports(port)
            for key, value in {**shared_env, "SERVICE_PORT": str(port), "MONGODB_DATABASE": name,
                               "PUBLIC_BASE_URL": f"http://{name}:{port}"}.items():
                container.with_env(key, value)
            services[name] = running.enter_context(container)
        urls = {name: f"http://{c.get_container_host_ip()}:{c.get_exposed_port(DEFAULT_PORTS[name])}"
                for name, c in services.items()}
        _wait_ready(urls)
        assert kafka  # started first: the services create the topics on it
        desk = TripDesk(urls=urls, api_key=API_KEY, tenant_id=TENANT, mode="containers",
                        mail_api=f"http://{mail.get_container_host_ip()}:{mail.get_exposed_port(8025)}")
        try:
            yield desk
        finally:
            desk.close()


def _wait_ready(urls: dict[str, str]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    waiting = dict(urls)
    while waiting:
        for name, url in list(waiting.items()):
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    del waiting[name]
            except httpx.TransportError:
                pass
        if waiting and time.monotonic() > deadline:
            raise RuntimeError(f"not ready within {READY_TIMEOUT_S:.0f} s: {sorted(waiting)}")
        time.sleep(0.5)
