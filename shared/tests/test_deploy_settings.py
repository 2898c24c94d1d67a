"""deploy/compose.yaml runs every service in production mode, with its secret and public address from outside."""
import re
from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose.yaml"
SERVICES = ("customers", "itinerary", "booking", "notify", "feedback")


def test_every_service_runs_in_production_mode_with_a_mounted_secret_and_a_required_public_address():
    compose = yaml.safe_load(COMPOSE.read_text())
    assert compose["secrets"]["link_signing_secret"]["file"] == "./secrets/link-signing-secret"
    assert compose["secrets"]["supplier_secret_key"]["file"] == "./secrets/supplier-secret-key"
    for name in SERVICES:
        service = compose["services"][name]
        environment = service["environment"]
        assert environment["TRIP_DESK_ENV"] == "production", name
        assert "LINK_SIGNING_SECRET" not in environment, "the secret is mounted, never written in the file"
        assert environment["LINK_SIGNING_SECRET_FILE"] == "/run/secrets/link_signing_secret"
        assert "link_signing_secret" in service["secrets"]
        assert environment["SUPPLIER_SECRET_KEY_FILE"] == "/run/secrets/supplier_secret_key"
        assert "supplier_secret_key" in service["secrets"]
        assert environment["PUBLIC_BASE_URL"].startswith(f"${{{name.upper()}_PUBLIC_URL:?"), \
            "compose refuses to start without the address (no default that would e-mail links to 0.0.0.0)"


def test_the_compose_file_follows_the_compose_specification_and_refers_only_to_what_exists():
    from compose_spec import PyOptions

    # Parsed as Docker Compose does, with the YAML merge keys (<<: *service) applied; unknown keys, wrong types and
    # unknown conditions are refused.
    spec = PyOptions(apply_merge=True).from_yaml(COMPOSE.read_text()).to_dict()
    compose = yaml.safe_load(COMPOSE.read_text())
    assert set(spec["services"]) == set(compose["services"])
    secrets, deploy = set(compose["secrets"]), COMPOSE.parent
    for name, service in spec["services"].items():
        for secret in service.get("secrets") or []:
            assert (secret if isinstance(secret, str) else secret["source"]) in secrets, (name, secret)
        for needed in service.get("depends_on") or {}:
            assert needed in compose["services"], (name, needed)
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith("./"):
                assert (deploy / source).exists(), f"{name} mounts {source}, which deploy/ does not have"


def test_the_image_is_built_from_the_packages_alone():
    root = COMPOSE.parents[1]
    ignored = (root / ".dockerignore").read_text().split()
    for private in (".venv", "var", ".git", "deploy/secrets"):
        assert private in ignored, f"{private} would be sent to the image build"
    for line in (root / "deploy" / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            source = line.split()[1]
            assert (root / source).exists() and source.rstrip("/") not in ignored, line


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())  # PyYAML applies the merge keys (<<: *kafka) as compose does


def test_kafka_is_three_kraft_nodes_so_losing_one_loses_no_event_and_stops_no_writer():
    services = _compose()["services"]
    brokers = {name: service for name, service in services.items() if re.fullmatch(r"kafka-\d", name)}
    assert len(brokers) == 3
    voters = {f"{env['KAFKA_NODE_ID']}@{name}:9093" for name, env in
              ((name, broker["environment"]) for name, broker in brokers.items())}
    for name, broker in brokers.items():
        env = broker["environment"]
        assert set(env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")) == voters, name
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        assert env["CLUSTER_ID"] == brokers["kafka-1"]["environment"]["CLUSTER_ID"], "one cluster"
        assert (int(env["KAFKA_DEFAULT_REPLICATION_FACTOR"]), int(env["KAFKA_MIN_INSYNC_REPLICAS"]),
                int(env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"])) == (3, 2, 3), name
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert broker["volumes"] == [f"{name}-data:/var/lib/kafka/data"], "each broker keeps its own log"
    assert len({broker["environment"]["KAFKA_NODE_ID"] for broker in brokers.values()}) == 3
    topics = services["kafka-topics"]["environment"]
    assert (topics["REPLICATION"], topics["MIN_INSYNC_REPLICAS"]) == ("3", "2")
    every_broker = {f"{name}:9092" for name in brokers}
    assert set(topics["KAFKA_BOOTSTRAP_SERVERS"].split(",")) == every_broker
    for name in SERVICES:
        assert set(services[name]["environment"]["KAFKA_BOOTSTRAP_SERVERS"].split(",")) == every_broker, name


def test_the_topic_script_creates_each_topic_and_its_dead_letter_twin_replicated_with_two_in_sync(tmp_path):
    import subprocess

    from trip_shared.contracts.registry import COMPACTED_TOPIC_CONFIG, TOPICS, all_topic_names

    calls = tmp_path / "calls"
    recorder = tmp_path / "kafka-topics.sh"  # kafka-topics.sh's command line, as the script gives it
    recorder.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    recorder.chmod(0o755)
    subprocess.run(["bash", str(COMPOSE.parent / "kafka-topics.sh")], check=True, timeout=60, env={
        "PATH": "/usr/bin:/bin", "KAFKA_BOOTSTRAP_SERVERS": "kafka-1:9092", "KAFKA_TOPICS_BIN": str(recorder),
        "REPLICATION": "3"})
    created = {}
    for line in calls.read_text().splitlines():
        words = line.split()
        created[words[words.index("--topic") + 1]] = line
    assert set(created) == set(all_topic_names())
    for topic, line in created.items():
        assert "--create --if-not-exists" in line and "--replication-factor 3" in line, topic
        assert "--config min.insync.replicas=2" in line, "two of three replicas by default with replication 3"
    assert "retention.ms=604800000" in created["customer.created"], "personal data leaves Kafka after 7 days"
    assert "config retention.ms" not in created["agency.profile_changed"], "compacted instead: the latest profile stays"
    for spec in TOPICS:
        if spec.compacted:  # the settings the services create it with, too
            settings = dict(re.findall(r"--config ([a-z.]+)=(\S+)", created[spec.name]))
            assert {name: settings.get(name) for name in COMPACTED_TOPIC_CONFIG} == COMPACTED_TOPIC_CONFIG
            assert "retention.ms" not in settings
            assert (f"{spec.name}.dlq" in created) == spec.consumed, "a twin only where a group reads it"


def test_mongodb_is_a_three_member_replica_set_the_services_reach_by_every_member():
    services = _compose()["services"]
    members = sorted(name for name in services if re.fullmatch(r"mongodb-\d", name))
    assert len(members) == 3
    script = (COMPOSE.parent / "mongodb-replica-set.js").read_text()
    assert sorted(re.findall(r'host: "([^"]+):27017"', script)) == members, "the set initiated is compose's"
    assert services["mongodb-init"]["volumes"] == ["./mongodb-replica-set.js:/mongodb-replica-set.js:ro"]
    for name in SERVICES:
        url = services[name]["environment"]["MONGODB_URL"]
        hosts = url.removeprefix("mongodb://").split("/")[0].split(",")
        assert sorted(host.split(":")[0] for host in hosts) == members and "replicaSet=rs0" in url, name
        assert services[name]["depends_on"]["mongodb-init"] == {"condition": "service_completed_successfully"}


def test_spans_go_through_the_collector_to_jaeger():
    services = _compose()["services"]
    for name in SERVICES:
        assert services[name]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318", name
    collector = yaml.safe_load((COMPOSE.parent / "otel-collector.yaml").read_text())
    assert collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    [pipeline] = collector["service"]["pipelines"].values()
    assert pipeline["receivers"] == ["otlp"] and "batch" in pipeline["processors"]
    [exporter] = pipeline["exporters"]
    assert collector["exporters"][exporter]["endpoint"] == "jaeger:4317"
    assert services["jaeger"]["environment"]["COLLECTOR_OTLP_ENABLED"] == "true"


def test_the_ops_console_reaches_every_service_where_compose_runs_it_and_links_traces_to_jaeger():
    services = _compose()["services"]
    console = services["ops-console"]
    assert console["command"] == ["trip_shared.ops_console"] and console["image"] == services["customers"]["image"]
    for name in SERVICES:
        port = services[name]["environment"]["SERVICE_PORT"]
        assert console["environment"][f"{name.upper()}_URL"] == f"http://{name}:{port}", name
    assert console["environment"]["TRACE_UI_URL"].endswith("http://localhost:16686}")
    assert "16686:16686" in services["jaeger"]["ports"]
    assert "OPS_CONSOLE_SECURE_COOKIE" not in console["environment"], "the cookie stays Secure outside make up"
