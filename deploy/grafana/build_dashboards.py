"""Writes Trip Desk's Grafana dashboards (dashboards/*.json) from the panels below:
`python deploy/grafana/build_dashboards.py`.

Kept as code so every dashboard has the same shape and every query is in one reviewable place; a test checks that
the JSON files are what this writes, and (tests-e2e/test_prometheus.py) that every query returns data from the
running platform. The job label is the service's name (deploy/prometheus/prometheus.yml).
"""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVICE_JOBS = "customers|itinerary|booking|notify|feedback"

# (title, unit, [(legend, PromQL)]) per panel; two panels a row.
DASHBOARDS: dict[str, dict] = {
    "trip-desk-overview": {
        "title": "Trip Desk — platform overview",
        "panels": [
            ("Services up", "none", [("{{job}}", f'up{{job=~"{SERVICE_JOBS}"}}')]),
            ("Requests per second", "reqps",
             [("{{job}}", "sum by (job) (rate(http_requests_total[$__rate_interval]))")]),
            ("Server errors (5xx share)", "percentunit", [("{{job}}", "job:http_server_errors:ratio_rate5m")]),
            ("Slowest routes (p99)", "s",
             [("{{job}} {{route}}", "topk(10, job_route:http_request_duration_seconds:p99_5m)")]),
            ("Oldest unpublished event", "s", [("{{job}}", "max by (job) (outbox_oldest_pending_age_seconds)")]),
            ("Consumer lag", "none",
             [("{{job}} {{group}} {{topic}}", "sum by (job, group, topic) (kafka_consumer_lag)")]),
            ("Events consumed by outcome", "ops",
             [("{{outcome}}", "sum by (outcome) (rate(events_consumed_total[$__rate_interval]))")]),
            ("Dead letters waiting", "none", [("{{job}} {{topic}}", "sum by (job, topic) (dead_letters_open)")]),
            ("Alerts", "none", [("{{alertname}} {{alertstate}}", "count by (alertname, alertstate) (ALERTS)")]),
            ("Messages by status", "none", [("{{status}}", "sum by (status) (job_status:notifications:sum)")]),
            ("Trips by stage", "none", [("{{stage}}", "max by (stage) (trips)")]),
            ("Incidents not yet resolved", "none",
             [("{{severity}} {{status}}", "max by (severity, status) (incidents_open)")]),
        ],
    },
    "trip-desk-service": {
        "title": "Trip Desk — one service",
        "variable": ("job", SERVICE_JOBS.split("|")),
        "panels": [
            ("Requests by route and status", "reqps",
             [("{{route}} {{status}}",
               'sum by (route, status) (rate(http_requests_total{job="$job"}[$__rate_interval]))')]),
            ("Latency p99 by route", "s",
             [("{{route}}", 'histogram_quantile(0.99, sum by (route, le) '
                            '(rate(http_request_duration_seconds_bucket{job="$job"}[$__rate_interval])))')]),
            ("Outbox", "none", [("pending", 'outbox_pending_events{job="$job"}'),
                                ("parked", 'outbox_parked_events{job="$job"}'),
                                ("held", 'outbox_held_events{job="$job"}')]),
            ("Published per second", "ops",
             [("published", 'rate(outbox_published_total{job="$job"}[$__rate_interval])'),
              ("failed attempts", 'rate(outbox_publish_failures_total{job="$job"}[$__rate_interval])')]),
            ("Events consumed by topic and outcome", "ops",
             [("{{topic}} {{outcome}}",
               'sum by (topic, outcome) (rate(events_consumed_total{job="$job"}[$__rate_interval]))')]),
            ("Lag by partition", "none", [("{{topic}}/{{partition}}", 'kafka_consumer_lag{job="$job"}')]),
        ],
    },
    "trip-desk-trip-flow": {
        "title": "Trip Desk — the trip flow",
        "panels": [
            ("Customers linked to trips (requests/s)", "reqps",
             [("{{status}}", 'sum by (status) (rate(http_requests_total{job="itinerary", '
                             'route="/v1/itineraries/{itinerary_id}/customers", method="POST"}[$__rate_interval]))')]),
            ("Linking latency p99", "s",
             [("p99", 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{'
                      'job="itinerary", route="/v1/itineraries/{itinerary_id}/customers", method="POST"}'
                      '[$__rate_interval])))')]),
            ("customer.linked handled per group", "ops",
             [("{{group}}", 'sum by (group) (rate(events_consumed_total{topic="customer.linked", '
                            'outcome="processed"}[$__rate_interval]))')]),
            ("customer.linked lag per group", "none",
             [("{{group}}", 'sum by (group) (kafka_consumer_lag{topic="customer.linked"})')]),
            ("itinerary's outbox: oldest unpublished", "s",
             [("age", 'outbox_oldest_pending_age_seconds{job="itinerary"}')]),
            ("Messages waiting to go out", "none",
             [("{{status}}", 'job_status:notifications:sum{status=~"pending|sending"}')]),
            ("From the event to the message sent (p95)", "s",
             [("{{channel}}", "channel:notification_time_to_send_seconds:p95_15m")]),
        ],
    },
    "trip-desk-deliveries": {
        "title": "Trip Desk — deliveries",
        "panels": [
            ("Messages by status and channel", "none",
             [("{{status}} {{channel}}", "max by (status, channel) (notifications)")]),
            ("Mail server reachable", "none", [("smtp", "smtp_up")]),
            ("From the event to the message sent", "s",
             [("p50 {{channel}}", "histogram_quantile(0.5, sum by (channel, le) "
                                  "(rate(notification_time_to_send_seconds_bucket[$__rate_interval])))"),
              ("p95 {{channel}}", "channel:notification_time_to_send_seconds:p95_15m")]),
            ("Messages sent per second", "ops",
             [("{{channel}}", "sum by (channel) (rate(notification_time_to_send_seconds_count[$__rate_interval]))")]),
            ("Failed for good in the last 30 min", "none",
             [("failed", 'job_status:notifications:sum{status="failed"} - '
                         'min_over_time(job_status:notifications:sum{status="failed"}[30m])')]),
            ("Waiting for a customer's address", "none",
             [("waiting", 'job_status:notifications:sum{status="waiting_for_contact"}')]),
            ("notify's lag by topic", "none", [("{{topic}}", 'sum by (topic) (kafka_consumer_lag{job="notify"})')]),
            ("notify's events by outcome", "ops",
             [("{{outcome}}", 'sum by (outcome) (rate(events_consumed_total{job="notify"}[$__rate_interval]))')]),
        ],
    },
    "trip-desk-booking-readiness": {
        "title": "Trip Desk — booking readiness",
        "panels": [
            ("Unconfirmed close to the service", "none",
             [("within {{within}}", "max by (within) (bookings_unconfirmed_before_service)")]),
            ("Waiting for the supplier, by how long", "none",
             [("{{age}}", "sum by (age) (max without (instance) (bookings_awaiting_supplier))")]),
            ("Waiting for the supplier, by what is asked", "none",
             [("{{status}}", "sum by (status) (max without (instance) (bookings_awaiting_supplier))")]),
            ("Chased or escalated", "none", [("late", "max(bookings_late)")]),
            ("Trips by stage", "none", [("{{stage}}", "max by (stage) (trips)")]),
            ("Incidents nobody acknowledged in time", "none",
             [("{{severity}}", "max by (severity) (incidents_unacknowledged_overdue)")]),
            ("Incidents not yet resolved", "none",
             [("{{severity}} {{status}}", "max by (severity, status) (incidents_open)")]),
            ("Survey response rate (surveys of the last 30 days)", "percentunit",
             [("{{kind}}", "kind:survey_response:ratio")]),
        ],
    },
}


def dashboard(uid: str, spec: dict) -> dict:
    panels = []
    for index, (title, unit, targets) in enumerate(spec["panels"]):
        panels.append({
            "id": index + 1, "type": "timeseries", "title": title,
            "datasource": {"type": "prometheus", "uid": "prometheus"},
            "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{"refId": chr(ord("A") + number), "expr": expr, "legendFormat": legend,
                         "datasource": {"type": "prometheus", "uid": "prometheus"}}
                        for number, (legend, expr) in enumerate(targets)],
        })
    variables = []
    if "variable" in spec:
        name, values = spec["variable"]
        variables.append({"name": name, "type": "custom", "query": ",".join(values),
                          "current": {"text": values[0], "value": values[0]},
                          "options": [{"text": value, "value": value, "selected": value == values[0]}
                                      for value in values]})
    return {"uid": uid, "title": spec["title"], "tags": ["trip-desk"], "timezone": "utc", "schemaVersion": 39,
            "refresh": "30s", "time": {"from": "now-1h", "to": "now"}, "templating": {"list": variables},
            "panels": panels}


def rendered() -> dict[str, str]:
    return {f"{uid}.json": json.dumps(dashboard(uid, spec), indent=2, ensure_ascii=False) + "\n"
            for uid, spec in DASHBOARDS.items()}


if __name__ == "__main__":
    for name, text in rendered().items():
        (HERE / "dashboards" / name).write_text(text)
        print(f"wrote deploy/grafana/dashboards/{name}")
