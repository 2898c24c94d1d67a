"""Pytest fixtures for real infrastructure, registered for every test run through the ``pytest11`` entry point.

``TEST_MONGODB_URL`` / ``TEST_KAFKA_BOOTSTRAP`` point the tests at servers you already run. Otherwise, with a
Docker engine and testcontainers installed, MongoDB (a one-node replica set) and Kafka come from containers; without
one, the embedded SecantusDB and Tansu are started once per session. Never a mock.
"""
from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator

import pytest

from trip_shared.testing.platform import docker_available


@pytest.fixture(scope="session")
def mongodb_url() -> Iterator[str]:
    if os.environ.get("TEST_MONGODB_URL"):
        yield os.environ["TEST_MONGODB_URL"]
        return
    if docker_available():
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs

        container = DockerContainer("mongo:7.0").with_command("--replSet rs0 --bind_ip_all").with_exposed_ports(27017)
        with container as mongo:
            wait_for_logs(mongo, "Waiting for connections", timeout=60)
            mongo.exec(["mongosh", "--quiet", "--eval",
                        "rs.initiate({_id: 'rs0', members: [{_id: 0, host: 'localhost:27017'}]})"])
            yield f"mongodb://{mongo.get_container_host_ip()}:{mongo.get_exposed_port(27017)}/?directConnection=true"
        return
    from trip_shared.embedded import start_mongodb

    server = start_mongodb(storage_path=":memory:", log_dir=tempfile.mkdtemp(prefix="test-mongo-"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    if os.environ.get("TEST_KAFKA_BOOTSTRAP"):
        yield os.environ["TEST_KAFKA_BOOTSTRAP"]
        return
    if docker_available():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("confluentinc/cp-kafka:7.6.1").with_kraft() as kafka:
            yield kafka.get_bootstrap_server()
        return
    from trip_shared.embedded import start_kafka

    server = start_kafka(log_dir=tempfile.mkdtemp(prefix="test-kafka-"))
    try:
        yield server.bootstrap
    finally:
        server.stop()


@pytest.fixture
def mongo_database_name() -> str:
    """A database of its own for each test, so tests never see each other's documents."""
    return f"t_{uuid.uuid4().hex[:12]}"


def _print_asyncio_tasks(signum, frame) -> None:  # pragma: no cover - a debugging aid
    """``kill -USR1 <pytest pid>``: every asyncio task's stack on stderr, to see what a stuck test awaits."""
    import asyncio
    import sys

    loop = asyncio._get_running_loop()
    print(f"\n=== asyncio tasks ({'no running loop' if loop is None else len(asyncio.all_tasks(loop))}) ===",
          file=sys.stderr)
    for task in asyncio.all_tasks(loop) if loop else ():
        task.print_stack(file=sys.stderr)
    sys.stderr.flush()


def pytest_configure(config) -> None:
    import signal

    if hasattr(signal, "SIGUSR1"):
        signal.signal(signal.SIGUSR1, _print_asyncio_tasks)


@pytest.fixture(scope="session")
def trip_desk():
    """The whole platform for another team's end-to-end tests (trip_shared.testing.platform): in containers when a
    Docker engine answers, else as processes on the embedded servers; ``TRIP_DESK_MODE`` (containers, embedded,
    auto) and ``TRIP_DESK_IMAGE`` choose."""
    from trip_shared.testing.platform import trip_desk_platform

    with trip_desk_platform(os.environ.get("TRIP_DESK_MODE", "auto")) as desk:
        yield desk
