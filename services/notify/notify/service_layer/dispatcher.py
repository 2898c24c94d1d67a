"""Delivering notifications: claim, send over SMTP, record the outcome, retry later on failure.

Right after a consumer commits new notifications they are sent within the consumer's own span, so the trace runs
from the planner's HTTP request to the SMTP send. A background sweep sends whatever is left (SMTP was down, or the
process died between claim and send: the lease expires and the notification is claimed again), re-attaching the
trace context stored with each notification.

The mail server being down is the channel's problem, not the messages': the dispatcher then stops sending, counts no
attempts, and probes the server with backoff; the moment it answers, everything waiting goes out. Only a server that
takes the connection and refuses a message counts against that message (and a permanent refusal fails it at once).
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from opentelemetry import propagate, trace

from notify.adapters.repository import Attachments, DeliveryQueue, from_document
from notify.adapters.sms import SmsFailed, SmsSender
from notify.adapters.smtp import ChannelUnavailable, MessageRefused, SmtpMailer
from notify.adapters.webhooks import WebhookFailed, WebhookSender
from notify.domain.email_html import html_body
from notify.domain.model import Notification
from trip_shared.clock import utc_now

log = logging.getLogger(__name__)

MAX_PROBE_INTERVAL_S = 30.0


@dataclass
class ChannelState:
    up: bool = True
    down_since: float | None = None  # time.time()
    last_error: str | None = None
    next_probe_at: float = 0.0  # time.monotonic()
    failed_probes: int = 0

    def as_dict(self) -> dict:
        return {"status": "ok" if self.up else "unreachable", "down_since": self.down_since,
                "last_error": self.last_error}


def email_headers(notification) -> dict[str, str]:
    headers = {"X-Notification-Id": notification.id}
    if notification.itinerary_id:
        headers["X-Trip-Id"] = notification.itinerary_id
    if url := notification.details.get("unsubscribe_url"):
        # RFC 8058: the mail client offers "unsubscribe" and POSTs List-Unsubscribe=One-Click to this address.
        headers["List-Unsubscribe"] = f"<{url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


# Deliveries in flight at once from one send_now: enough to overlap the servers' round trips, few enough that an
# SMTP server's per-client connection limit is never near.
SEND_CONCURRENCY = 4

# Channels that do not go through the mail server, so do not wait while it is down.
HTTP_CHANNELS = ["webhook", "sms"]


class Dispatcher:
    def __init__(self, queue: DeliveryQueue, mailer: SmtpMailer, tracer_provider=None,
                 sweep_interval_s: float = 1.0, webhooks: WebhookSender | None = None,
                 sms: SmsSender | None = None, callback_base_url: str = "",
                 attachments: Attachments | None = None,
                 on_sent: Callable[[Notification, datetime], None] | None = None) -> None:
        self.queue = queue
        self.on_sent = on_sent  # told of each message sent, and when (the time-to-send histogram)
        self.attachments = attachments
        self.mailer = mailer
        self.webhooks = webhooks
        self.sms = sms
        self.callback_base_url = callback_base_url.rstrip("/")
        self.sweep_interval_s = sweep_interval_s
        self.channel = ChannelState()
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)

    async def send_now(self, notification_ids: list[str], *,
                       requested_in: Mapping[str, contextvars.Context] | None = None) -> None:
        """Send these at once (called after the creating transaction commits), each in the trace it was asked for
        in (``requested_in``: the event's, when a batch of events is sent together), else the current one.

        A few at a time, each a round trip or more to its server: in order, except that one may overtake an
        earlier one to someone else, never one to the same recipient. Each is claimed only when a slot is free,
        so nothing waits on its lease while others go."""
        slots = asyncio.Semaphore(SEND_CONCURRENCY)
        last_to: dict[str, asyncio.Task] = {}
        sending: list[asyncio.Task] = []
        for notification_id in notification_ids:
            await slots.acquire()
            try:
                # While the mail server is down e-mails wait, pending (the sweep sends them when it is back); a
                # webhook or a text does not depend on it.
                claimed = await self.queue.claim(notification_id,
                                                 channels=None if self.channel.up else HTTP_CHANNELS)
            except BaseException:
                slots.release()
                raise
            if not claimed:
                slots.release()
                continue
            recipient = claimed.get("recipient") or claimed["_id"]
            task = asyncio.create_task(self._deliver_after(last_to.get(recipient), claimed, slots),
                                       context=(requested_in or {}).get(notification_id))
            last_to[recipient] = task
            sending.append(task)
        outcomes = await asyncio.gather(*sending, return_exceptions=True)
        if failure := next((outcome for outcome in outcomes if isinstance(outcome, BaseException)), None):
            raise failure

    async def _deliver_after(self, earlier: asyncio.Task | None, claimed: dict, slots: asyncio.Semaphore) -> None:
        try:
            if earlier is not None:
                await asyncio.wait([earlier])
            await self._deliver(claimed, reattach=False)
        finally:
            slots.release()

    async def sweep(self) -> int:
        sent = 0
        while (claimed := await self.queue.claim(channels=HTTP_CHANNELS)) is not None:  # their own endpoints' trouble
            await self._deliver(claimed, reattach=True)
            sent += 1
        if not self.channel.up and not await self._channel_back():
            return sent
        while self.channel.up and (claimed := await self.queue.claim()) is not None:
            await self._deliver(claimed, reattach=True)
            sent += 1
        return sent

    async def _channel_back(self) -> bool:
        if time.monotonic() < self.channel.next_probe_at:
            return False
        try:
            await self.mailer.probe()
        except ChannelUnavailable as exc:
            self._channel_failed(str(exc))
            return False
        log.warning("the mail server is back; sending what waited",
                    extra={"down_for_s": round(time.time() - (self.channel.down_since or time.time()), 1)})
        self.channel = ChannelState()
        return True

    def _channel_failed(self, error: str) -> None:
        channel = self.channel
        if channel.up:
            log.error("the mail server is unreachable; notifications wait without using up attempts",
                      extra={"error": error})
            channel.up, channel.down_since, channel.failed_probes = False, time.time(), 0
        channel.last_error = error[:500]
        channel.failed_probes += 1
        channel.next_probe_at = time.monotonic() + min(MAX_PROBE_INTERVAL_S, 0.5 * 2 ** channel.failed_probes)

    async def _deliver(self, document: dict, reattach: bool) -> None:
        notification = from_document(document)
        announced = bool(document.get("undeliverable_announced"))
        if notification.channel == "webhook":
            await self._post(notification, reattach, announced)
            return
        if notification.channel == "sms":
            await self._text(notification, reattach, announced)
            return
        parent = propagate.extract(notification.trace_context or {}) if reattach else None
        attributes = {"notification.id": notification.id, "notification.kind": notification.kind,
                      "messaging.system": "smtp"}
        with (self._tracer.start_as_current_span("smtp send", context=parent, attributes=attributes)
              if reattach else self._tracer.start_as_current_span("smtp send", attributes=attributes)) as span:
            try:
                message_id = await self.mailer.send(
                    notification_id=notification.id, recipient=notification.recipient or "",
                    subject=notification.subject, body=notification.body, sender=notification.sender,
                    reply_to=notification.reply_to, headers=email_headers(notification),
                    html=html_body(notification.body, notification.language, notification.subject),
                    attachments=await self._files_of(notification),
                )
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                if isinstance(exc, ChannelUnavailable):
                    notification.channel_unavailable(str(exc))
                    self._channel_failed(str(exc))
                elif isinstance(exc, MessageRefused) and exc.permanent:
                    notification.refused(error)
                else:  # refused for now, or something unexpected: it counts, and is tried again later
                    notification.failed_attempt(error)
                await self.queue.mark_failed(notification)
                span.record_exception(exc)
                span.set_status(trace.Status(trace.StatusCode.ERROR, type(exc).__name__))
                log.warning("notification not sent (attempt %d): %s", notification.attempts, type(exc).__name__,
                            extra={"notification_id": notification.id, "status": notification.status})
                return
            await self._sent(notification, message_id, announced)
            log.info("notification sent", extra={"notification_id": notification.id, "kind": notification.kind})

    async def _sent(self, notification, message_id: str, announced: bool) -> None:
        await self.queue.mark_sent(notification.id, message_id, announced_undeliverable=announced)
        if self.on_sent is not None:
            self.on_sent(notification, utc_now())

    async def _files_of(self, notification) -> list[tuple[str, str, bytes]]:
        """The files a message carries (the final itinerary's PDF and calendar), in its reader's language."""
        set_id = notification.details.get("documents_id")
        if not set_id or self.attachments is None:
            return []
        files = await self.attachments.files(notification.tenant_id, set_id, notification.language)
        if files is None:  # erased, or kept no longer: the message still goes, and its link leads to the trip
            log.warning("the documents to attach are gone; sending without them",
                        extra={"notification_id": notification.id})
        return files or []

    async def _post(self, notification, reattach: bool, announced: bool) -> None:
        """A webhook: one endpoint's trouble is that message's, retried with backoff; it stops no other delivery."""
        parent = propagate.extract(notification.trace_context or {}) if reattach else None
        attributes = {"notification.id": notification.id, "notification.kind": notification.kind,
                      "http.request.method": "POST"}
        with self._tracer.start_as_current_span("webhook send", context=parent, attributes=attributes) as span:
            try:
                if self.webhooks is None:
                    raise WebhookFailed("no webhook sender is configured", permanent=False)
                outcome = await self.webhooks.send(
                    tenant_id=notification.tenant_id, owner_id=notification.customer_id,
                    generation=int(notification.details.get("secret_generation") or 0),
                    url=notification.recipient or "", body=notification.body, notification_id=notification.id,
                    agency_endpoint=notification.audience == "platform")
            except WebhookFailed as exc:
                await self._not_taken(notification, str(exc), exc.permanent, span, "webhook")
                return
            await self._sent(notification, outcome, announced)
            log.info("webhook delivered", extra={"notification_id": notification.id, "kind": notification.kind})

    async def _not_taken(self, notification, error: str, permanent: bool, span, what: str) -> None:
        """An HTTP channel's endpoint did not take the message: failed at once when retrying cannot help, else
        an attempt, retried with backoff."""
        if permanent:
            notification.refused(error)
        else:
            notification.failed_attempt(error)
        await self.queue.mark_failed(notification)
        span.set_status(trace.Status(trace.StatusCode.ERROR, f"{what} not taken"))
        log.warning("%s not delivered (attempt %d)", what, notification.attempts,
                    extra={"notification_id": notification.id, "status": notification.status})

    def sms_report_url(self, notification_id: str) -> str:
        """Where the provider reports what became of the text: exactly this URL is what it signs."""
        return f"{self.callback_base_url}/callbacks/sms/{quote(notification_id, safe='')}"

    async def _text(self, notification, reattach: bool, announced: bool) -> None:
        """A text message: the provider's trouble (or a number it refuses) is that message's, retried with backoff
        unless retrying cannot help."""
        parent = propagate.extract(notification.trace_context or {}) if reattach else None
        attributes = {"notification.id": notification.id, "notification.kind": notification.kind,
                      "messaging.system": "sms"}
        with self._tracer.start_as_current_span("sms send", context=parent, attributes=attributes) as span:
            try:
                if self.sms is None:
                    raise SmsFailed("no SMS provider is configured (SMS_ACCOUNT_SID)", permanent=False)
                sid = await self.sms.send(to=notification.recipient or "", body=notification.body,
                                          status_callback=self.sms_report_url(notification.id)
                                          if self.callback_base_url else None)
            except SmsFailed as exc:
                await self._not_taken(notification, str(exc), exc.permanent, span, "text message")
                return
            await self._sent(notification, sid, announced)
            await self.queue.apply_early_report(notification.id)
            log.info("text message sent", extra={"notification_id": notification.id, "kind": notification.kind})
