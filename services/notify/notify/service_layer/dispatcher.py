"""Delivering notifications: claim, send over SMTP, record the outcome, retry later on failure.

Right after a consumer commits new notifications they are sent within the consumer's own span, so the trace runs
from the planner's HTTP request to the SMTP send. A background sweep sends whatever is left (SMTP was down, or the
process died between claim and send: the lease expires and the notification is claimed again), re-attaching the
trace context stored with each notification.
"""
from __future__ import annotations

import logging

from opentelemetry import propagate, trace

from notify.adapters.repository import DeliveryQueue, from_document
from notify.adapters.smtp import SmtpMailer

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, queue: DeliveryQueue, mailer: SmtpMailer, tracer_provider=None,
                 sweep_interval_s: float = 1.0) -> None:
        self.queue = queue
        self.mailer = mailer
        self.sweep_interval_s = sweep_interval_s
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)

    async def send_now(self, notification_ids: list[str]) -> None:
        """Send these at once, in the current trace (called after the creating transaction commits)."""
        for notification_id in notification_ids:
            claimed = await self.queue.claim(notification_id)
            if claimed:
                await self._deliver(claimed, reattach=False)

    async def sweep(self) -> int:
        sent = 0
        while (claimed := await self.queue.claim()) is not None:
            await self._deliver(claimed, reattach=True)
            sent += 1
        return sent

    async def _deliver(self, document: dict, reattach: bool) -> None:
        notification = from_document(document)
        parent = propagate.extract(notification.trace_context or {}) if reattach else None
        attributes = {"notification.id": notification.id, "notification.kind": notification.kind,
                      "messaging.system": "smtp"}
        with (self._tracer.start_as_current_span("smtp send", context=parent, attributes=attributes)
              if reattach else self._tracer.start_as_current_span("smtp send", attributes=attributes)) as span:
            try:
                message_id = await self.mailer.send(
                    notification_id=notification.id, recipient=notification.recipient or "",
                    subject=notification.subject, body=notification.body,
                    headers={"X-Notification-Id": notification.id,
                             **({"X-Trip-Id": notification.itinerary_id} if notification.itinerary_id else {})},
                )
            except Exception as exc:  # SMTP down, refused, timed out: keep it, count it, try again later
                notification.failed_attempt(f"{type(exc).__name__}: {exc}")
                await self.queue.mark_failed(notification)
                span.record_exception(exc)
                span.set_status(trace.Status(trace.StatusCode.ERROR, type(exc).__name__))
                log.warning("notification not sent (attempt %d): %s", notification.attempts, type(exc).__name__,
                            extra={"notification_id": notification.id, "status": notification.status})
                return
            await self.queue.mark_sent(notification.id, message_id)
            log.info("notification sent", extra={"notification_id": notification.id, "kind": notification.kind})


