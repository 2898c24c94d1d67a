"""Debian's Prometheus scrapes the running platform with deploy/prometheus's rules: every metric the rules name is
there for real, every rule evaluates without error, a poison message raises the dead-letter alert, and every panel
of every Grafana dashboard (deploy/grafana/dashboards) gets data."""
from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml
from aiokafka import AIOKafkaProducer

from trip_shared.embedded import free_port
from trip_shared.testing.polling import eventually

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
RULES = DEPLOY / "prometheus" / "rules" / "trip-desk.rules.yml"
SERVICES = ("customers", "itinerary", "booking", "notify", "feedback")
# Words of PromQL that are not metric names.
PROMQL_WORDS = {"sum", "max", "min", "by", "rate", "increase", "histogram_quantile", "and", "or", "unless",
                "min_over_time", "max_over_time", "without", "le", "job", "instance", "route", "group", "topic",
                "outcome", "status", "channel", "within", "severity", "kind"}


def rule_metric_names() -> set[str]:
    """The metric names the rules' expressions read (not the series the recording rules make)."""
    groups = yaml.safe_load(RULES.read_text())["groups"]
    recorded = {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}
    names = set()
    for group in groups:
        for rule in group["rules"]:
            expression = re.sub(r'"[^"]*"', '""', rule["expr"])  # no words from label values
            expression = re.sub(r"\[[^\]]*\]", "", expression)  # nor from ranges
            names |= {word for word in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expression)
                      if word not in PROMQL_WORDS and word not in recorded}
    return names


@pytest.fixture(scope="module")
def prometheus(stack, tmp_path_factory):
    executable = shutil.which("prometheus")
    assert executable, "prometheus is missing: `make test` installs Debian's prometheus package"
    directory = tmp_path_factory.mktemp("prometheus")
    config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"}, "rule_files": [str(RULES)],
              "scrape_configs": [{"job_name": name, "static_configs": [
                  {"targets": [stack.service_url(name).removeprefix("http://")]}]} for name in SERVICES]}
    (directory / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    process = subprocess.Popen([executable, f"--config.file={directory / 'prometheus.yml'}",
                                f"--storage.tsdb.path={directory / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=open(directory / "prometheus.log", "w"))
    url = f"http://127.0.0.1:{port}"
    try:
        eventually(lambda: _ready(url), timeout=30, message=f"Prometheus ready (log: {directory / 'prometheus.log'})")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def query(url: str, promql: str) -> list[dict]:
    answer = httpx.get(f"{url}/api/v1/query", params={"query": promql}, timeout=10).json()
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


async def publish_poison(bootstrap: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait("customer.created", b"\xff not an event", key=b"poison")
    finally:
        await producer.stop()


def test_prometheus_finds_every_metric_the_rules_read_and_the_dead_letter_alert_fires(prometheus, api, stack):
    eventually(lambda: sorted(r["metric"]["job"] for r in query(prometheus, "up == 1")) == sorted(SERVICES),
               timeout=30)
    customer = api.ok("POST", "customers", "/v1/customers", 201, json={
        "first_name": "Prom", "last_name": "Etheus", "email": "prometheus-check@example.com"})
    trip = api.ok("POST", "itinerary", "/v1/itineraries", 201, json={
        "title": "Watched trip", "start_date": "2027-06-01", "end_date": "2027-06-05"})
    eventually(lambda: api.request("POST", "itinerary", f"/v1/itineraries/{trip['id']}/customers",
                                   json={"customer_id": customer["id"]}).status_code == 201, timeout=30)
    asyncio.run(publish_poison(stack.kafka_bootstrap))

    missing = rule_metric_names()
    assert {"outbox_oldest_pending_age_seconds", "kafka_consumer_lag", "smtp_up", "up"} <= missing, \
        "the rules' metric names are read from their expressions"
    deadline = time.monotonic() + 60
    while missing and time.monotonic() < deadline:
        missing = {name for name in missing if not query(prometheus, f'count({{__name__="{name}"}})')}
        time.sleep(1)
    assert not missing, f"named by the rules but not exported by any service: {sorted(missing)}"

    def dead_letter_alert():
        return query(prometheus, 'ALERTS{alertname="TripDeskDeadLettersGrowing", topic="customer.created"}')

    # Each service whose group could not read it says so (each at its own scrape and rule evaluation).
    eventually(lambda: {alert["metric"]["job"] for alert in dead_letter_alert()} >= {"itinerary", "notify"},
               timeout=60, message="TripDeskDeadLettersGrowing for itinerary and notify")
    rules = httpx.get(f"{prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
    evaluated = [rule for group in rules for rule in group["rules"]]
    assert len(evaluated) == sum(len(group["rules"]) for group in yaml.safe_load(RULES.read_text())["groups"])
    assert [rule["name"] for rule in evaluated if rule["health"] != "ok"] == [], "every rule evaluates"
    assert query(prometheus, "job:http_requests:rate5m"), "the recording rules record"
    trips_in_inquiry = query(prometheus, 'max(trips{stage="inquiry"})')
    assert trips_in_inquiry and float(trips_in_inquiry[0]["value"][1]) >= 1, "itinerary counts the trip just made"
    sent = query(prometheus, 'sum(notification_time_to_send_seconds_count{channel="email"})')
    assert sent and float(sent[0]["value"][1]) >= 1, "notify timed the POC's e-mail from the event to its send"
    # A rate needs two scrapes of the series the first send made.
    eventually(lambda: query(prometheus, "channel:notification_time_to_send_seconds:p95_15m"), timeout=30)

    # Every panel's every query, for each value of the dashboard's variable, returns series.
    empty = []
    for path in sorted((DEPLOY / "grafana" / "dashboards").glob("*.json")):
        dashboard = json.loads(path.read_text())
        variables = dashboard["templating"]["list"]
        values = [option["value"] for option in variables[0]["options"]] if variables else [None]
        for value in values:
            for panel in dashboard["panels"]:
                for target in panel["targets"]:
                    expression = target["expr"].replace("$__rate_interval", "1m")
                    if value is not None:
                        expression = expression.replace(f"${variables[0]['name']}", value)
                    if not query(prometheus, expression):
                        empty.append(f"{path.name} / {panel['title']}{f' ({value})' if value else ''}: {expression}")
    assert empty == [], "panels without data:\n" + "\n".join(empty)
