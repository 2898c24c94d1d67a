"""What notify tells Prometheus: deliveries by status and channel (read at each scrape), the time from the event
that asked for a message to its send (observed as each goes), and whether the mail server takes mail. The same
counts are on /readyz."""
from __future__ import annotations

from datetime import datetime

from prometheus_client import Gauge, Histogram

from notify.adapters.repository import WATCHED_STATUSES
from notify.domain.model import CHANNELS, Notification
from notify.service_layer.dispatcher import Dispatcher
from trip_shared.runtime import ServiceRuntime

# Seconds from what asked for a message to its send: an event handled at once is sent within a second or two; a
# backlog or a mail server outage shows in the upper buckets.
TIME_TO_SEND_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)


def register(runtime: ServiceRuntime, dispatcher: Dispatcher) -> None:
    metrics = runtime.metrics
    by_status = metrics.figures(
        "notifications", "Notifications waiting, being sent or failed for good, by status and channel",
        ["status", "channel"], always=[(status, channel) for status in WATCHED_STATUSES for channel in CHANNELS])
    smtp_up = Gauge("smtp_up", "1 while the mail server accepts connections", registry=metrics.registry)
    time_to_send = Histogram(
        "notification_time_to_send_seconds", "From the event (or clock) that asked for a message to its send, "
        "by channel", ["channel"], buckets=TIME_TO_SEND_BUCKETS, registry=metrics.registry)

    def sent(notification: Notification, now: datetime) -> None:
        asked_at = notification.requested_at or notification.created_at
        time_to_send.labels(notification.channel).observe(max(0.0, (now - asked_at).total_seconds()))

    dispatcher.on_sent = sent

    async def delivery_report() -> dict:
        counts = await dispatcher.queue.counts()
        by_status.replace(counts)
        smtp_up.set(1 if dispatcher.channel.up else 0)
        totals = {status: sum(n for (counted, _), n in counts.items() if counted == status)
                  for status in WATCHED_STATUSES}
        return {"smtp": dispatcher.channel.as_dict(), **totals}

    runtime.report_on_readiness("deliveries", delivery_report)
    metrics.before_scrape(delivery_report)
