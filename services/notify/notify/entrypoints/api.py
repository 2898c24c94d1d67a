"""HTTP API of the notify service: every delivery, with its status, for support and for the planner."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from notify.domain.channels import listed_facts
from notify.domain.email_html import html_body
from notify.domain.model import attached_file_names
from notify.domain.preferences import OPTIONAL_KINDS
from notify.domain.subscriptions import EVERY_KIND, SUBSCRIBABLE_KINDS
from notify.service_layer import services
from trip_shared.errors import DomainError, NotFoundError
from trip_shared.telemetry import trace_id_of
from trip_shared.web.auth import Principal, require, v1_router
from trip_shared.web.fields import Line, Text
from trip_shared.web.sse import event_stream
from trip_shared.webhooks import endpoint_secret

router = v1_router(tags=["notifications"])

StatusFilter = Literal["pending", "sending", "sent", "delivered", "bounced", "failed", "waiting_for_contact",
                       "no_address", "cancelled", "opted_out"]


class NotificationOut(BaseModel):
    id: str
    kind: str
    channel: Literal["email", "webhook", "sms"] = "email"
    audience: Literal["client", "supplier", "agency", "platform"] = "client"
    itinerary_id: str | None
    customer_id: str
    recipient: str | None
    language: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    sent_at: datetime | None
    acknowledged_at: datetime | None = Field(None, description="When the client confirmed reading urgent news.")
    escalated_at: datetime | None = Field(None, description="When the planner was told it was not read in time.")
    resend_of: str | None = Field(None, description="The notification this one sends again.")
    source_event_id: str | None = Field(None, description="The event (or clock) that asked for it.")
    trace_id: str | None = Field(None, description="The trace it was asked for in: the request and events before.")

    @classmethod
    def of(cls, document: dict) -> NotificationOut:
        return cls(id=document["_id"], channel=document.get("channel") or "email",
                   audience=document.get("audience") or "client",
                   resend_of=(document.get("details") or {}).get("resend_of"),
                   trace_id=trace_id_of(document.get("trace_context")),
                   **{name: document.get(name) for name in cls.model_fields
                      if name not in ("id", "channel", "audience", "resend_of", "trace_id")})


class NotificationList(BaseModel):
    items: list[NotificationOut]


@router.get("/notifications", response_model=NotificationList)
async def list_notifications(request: Request, itinerary_id: str | None = Query(None, max_length=100),
                             customer_id: str | None = Query(None, max_length=100),
                             status: StatusFilter | None = None,
                             kind: str | None = Query(None, max_length=50, pattern=r"^[a-z0-9_]+$"),
                             channel: Literal["email", "webhook", "sms"] | None = None,
                             created_from: datetime | None = Query(None, description="Created at or after."),
                             created_to: datetime | None = Query(None, description="Created before."),
                             limit: int = Query(50, ge=1, le=200),
                             principal: Principal = require("notifications:read")) -> NotificationList:
    """The agency's deliveries, newest first, filtered by trip, customer, status, kind, channel and period."""
    if created_from and created_to and created_to <= created_from:
        raise DomainError("created_to must be after created_from.", code="invalid-period")
    filters = {name: value for name, value in
               (("itinerary_id", itinerary_id), ("customer_id", customer_id), ("status", status), ("kind", kind),
                ("channel", channel)) if value}
    period = {op: moment for op, moment in (("$gte", created_from), ("$lt", created_to)) if moment}
    if period:
        filters["created_at"] = period
    found = await services.list_notifications(request.app.state.runtime.transaction, principal.tenant_id, filters,
                                              limit)
    return NotificationList(items=[NotificationOut.of(doc) for doc in found])


@router.get("/notifications/{notification_id}", response_model=NotificationOut)
async def get_notification(notification_id: str, request: Request,
                           principal: Principal = require("notifications:read")) -> NotificationOut:
    return NotificationOut.of(await services.get_notification(request.app.state.runtime.transaction,
                                                              principal.tenant_id, notification_id))


@router.post("/notifications/{notification_id}/retry", response_model=NotificationOut)
async def retry_notification(notification_id: str, request: Request,
                             principal: Principal = require("notifications:write")) -> NotificationOut:
    document = await services.retry_notification(request.app.state.runtime.transaction,
                                                 request.app.state.dispatcher, principal.tenant_id, notification_id)
    return NotificationOut.of(document)


@router.post("/notifications/{notification_id}/resend", response_model=NotificationOut, status_code=201)
async def resend_notification(notification_id: str, request: Request,
                              principal: Principal = require("notifications:write")) -> NotificationOut:
    """Send a sent (or failed, or bounced) message again as a new delivery, recorded with ``resend_of``: a
    client's goes to where they can be reached now. Give an ``Idempotency-Key`` so a retried request resends
    once."""
    document = await services.resend_notification(request.app.state.runtime.transaction,
                                                  request.app.state.handlers, principal.tenant_id, notification_id)
    return NotificationOut.of(document)


class MailReportOut(BaseModel):
    notification_id: str
    status: Literal["bounced", "delivered"]
    recorded: bool = Field(description="False when it matches no message of this agency sent with that Message-ID "
                                       "(or its fate was already known).")


class MailReportsOut(BaseModel):
    items: list[MailReportOut]


@router.post("/inbound/mail-reports", response_model=MailReportsOut, tags=["notifications"],
             openapi_extra={"requestBody": {"required": True, "content": {
                 media_type: {"schema": {"type": "string", "maxLength": 262144}}
                 for media_type in ("message/rfc822", "text/plain")}}})
async def inbound_mail_report(request: Request,
                              principal: Principal = require("notifications:write")) -> MailReportsOut:
    """The agency's mail gateway posts each delivery status notification (RFC 3464) that comes back to the
    sender's address, as the raw message: a bounce moves the e-mail it answers to ``bounced`` (urgent news then
    escalates at once, and a client's trip message shows on the trip as undelivered); ``delivered`` when success
    was reported. 422 ``not-a-delivery-report`` for anything else."""
    reports = await services.record_mail_reports(request.app.state.runtime.transaction,
                                                 request.app.state.dispatcher, principal.tenant_id,
                                                 await request.body())
    return MailReportsOut(items=[MailReportOut(**report) for report in reports])


class MessagePreviewOut(BaseModel):
    kind: str
    customer_id: str
    channel: Literal["email", "sms"]
    recipient: str | None = Field(description="Where it would go; null when nothing reaches the customer.")
    status: str = Field(description="What would become of it: pending (it would go), no_address, opted_out, "
                                    "waiting_for_contact.")
    language: str
    subject: str
    text: str = Field(description="The plain-text part (or the text message), exactly as it would go.")
    html: str | None = Field(description="The HTML part of an e-mail.")
    due_at: datetime | None = Field(None, description="When it is due: a reminder's time, a digest's.")
    attachments: list[str] = Field([], description="The files attached (the final itinerary's PDF and calendar).")


@router.get("/itineraries/{itinerary_id}/message-preview", response_model=MessagePreviewOut, tags=["preview"])
async def preview_message(
        itinerary_id: Annotated[str, Path(max_length=100)], request: Request,
        kind: Literal[services.PREVIEWABLE],  # type: ignore[valid-type]
        customer_id: str | None = Query(None, max_length=100, description="Default: the trip's first POC."),
        day: str | None = Query(None, max_length=10, pattern=r"^\d{4}-\d{2}-\d{2}$",
                                description="For a day_summary: the day summarised."),
        principal: Principal = require("notifications:read")) -> MessagePreviewOut:
    """The message of ``kind`` this trip's client would get now — the changes and confirmations waiting in its
    digest, a reminder as scheduled — by their channel, in their language, with the agency's contacts: nothing
    is sent or recorded. 404 ``nothing-to-tell`` when there is no such message to send."""
    preview = await services.preview_message(request.app.state.runtime.transaction, request.app.state.handlers,
                                             principal.tenant_id, itinerary_id, kind, customer_id, day)
    message = preview.notification
    return MessagePreviewOut(
        kind=message.kind, customer_id=message.customer_id, channel="sms" if message.channel == "sms" else "email",
        recipient=message.recipient, status=message.status, language=message.language, subject=message.subject,
        text=message.body, due_at=preview.due_at, attachments=attached_file_names(message.details, message.language),
        html=None if message.channel == "sms" else html_body(message.body, message.language, message.subject))


class WebhookEndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"url": "https://crm.agency.example/hooks/trip-desk", "kinds": ["trip_changes", "booking_lost"],
         "description": "CRM timeline"}]})
    url: Annotated[str, StringConstraints(max_length=500)] = Field(
        description="https:// (http:// only to this machine); each message is POSTed here as signed JSON.")
    kinds: list[Annotated[str, StringConstraints(max_length=50)]] = Field(
        min_length=1, max_length=30, description="Kinds of message to receive, or [\"*\"] for every kind.")
    description: Annotated[Line, StringConstraints(max_length=200)] | None = None


class WebhookEndpointOut(BaseModel):
    id: str
    url: str
    kinds: list[str]
    description: str | None
    secret_generation: int
    created_at: datetime
    secret: str | None = Field(None, description="Shown once, when created or rotated: verify each delivery's "
                                                 "Trip-Desk-Signature with it.")

    @classmethod
    def of(cls, endpoint, secret: str | None = None) -> WebhookEndpointOut:
        return cls(secret=secret, **vars(endpoint))


class WebhookEndpointList(BaseModel):
    items: list[WebhookEndpointOut]
    subscribable_kinds: list[str]


def _shown_secret(request: Request, tenant_id: str, endpoint) -> str:
    return endpoint_secret(request.app.state.runtime.settings.supplier_secret_key, tenant_id, endpoint.id,
                           endpoint.secret_generation)


@router.post("/webhook-endpoints", response_model=WebhookEndpointOut, status_code=201, tags=["webhooks"])
async def add_webhook_endpoint(body: WebhookEndpointIn, request: Request,
                               principal: Principal = require("notifications:write")) -> WebhookEndpointOut:
    """Subscribe one of the agency's platforms to messages: from now on, each message of those kinds (to a client
    or to the planners' desk) is POSTed to it as JSON signed with its secret (``Trip-Desk-Timestamp``,
    ``Trip-Desk-Signature: v1=HMAC-SHA256(secret, "<timestamp>.<body>")``), retried with backoff until it
    answers 2xx, each delivery in the log (audience ``platform``)."""
    endpoint = await services.add_webhook_endpoint(request.app.state.runtime.transaction, principal.tenant_id,
                                                   body.url, body.kinds, body.description)
    return WebhookEndpointOut.of(endpoint, _shown_secret(request, principal.tenant_id, endpoint))


@router.get("/webhook-endpoints", response_model=WebhookEndpointList, tags=["webhooks"])
async def list_webhook_endpoints(request: Request,
                                 principal: Principal = require("notifications:read")) -> WebhookEndpointList:
    endpoints = await services.webhook_endpoints(request.app.state.runtime.transaction, principal.tenant_id)
    return WebhookEndpointList(items=[WebhookEndpointOut.of(endpoint) for endpoint in endpoints],
                               subscribable_kinds=[EVERY_KIND, *SUBSCRIBABLE_KINDS])


@router.post("/webhook-endpoints/{endpoint_id}/rotate-secret", response_model=WebhookEndpointOut,
             tags=["webhooks"])
async def rotate_webhook_secret(endpoint_id: Annotated[str, Path(max_length=50)], request: Request,
                                principal: Principal = require("notifications:write")) -> WebhookEndpointOut:
    endpoint = await services.rotate_webhook_secret(request.app.state.runtime.transaction, principal.tenant_id,
                                                    endpoint_id)
    return WebhookEndpointOut.of(endpoint, _shown_secret(request, principal.tenant_id, endpoint))


@router.delete("/webhook-endpoints/{endpoint_id}", status_code=204, tags=["webhooks"])
async def remove_webhook_endpoint(endpoint_id: Annotated[str, Path(max_length=50)], request: Request,
                                  principal: Principal = require("notifications:write")) -> Response:
    await services.remove_webhook_endpoint(request.app.state.runtime.transaction, principal.tenant_id, endpoint_id)
    return Response(status_code=204)


Language = Literal["en", "zh-Hans"]
Cursor = Annotated[str | None, Query(max_length=200, description="Entries after this one's cursor.")]


class FeedEntryOut(BaseModel):
    id: str = Field(description="One piece of news, however many travellers it went to.")
    kind: str
    subject: str
    lines: list[str] = Field(description="What it says, item by item (each change, each service).")
    at: datetime
    at_label: str = Field(description="When, in the trip's zone, the zone named.")
    urgent: bool
    cursor: str

    @classmethod
    def of(cls, cursor: str, entry) -> FeedEntryOut:
        return cls(cursor=cursor, **vars(entry))


class FeedOut(BaseModel):
    items: list[FeedEntryOut] = Field(description="Oldest first.")
    cursor: str | None = Field(description="Give it as after= (or Last-Event-ID) for what comes next.")


@router.get("/itineraries/{itinerary_id}/feed", response_model=FeedOut, tags=["feed"])
async def trip_feed(itinerary_id: Annotated[str, Path(max_length=100)], request: Request,
                    lang: Language = "en", after: Cursor = None,
                    principal: Principal = require("notifications:read")) -> FeedOut:
    """The trip's news as its travellers see it in the app: what every one of them was told, once each, in
    ``lang``, nothing personal. The newest 50, or those after a cursor."""
    entries = await services.trip_feed(request.app.state.runtime.transaction, request.app.state.runtime.agencies,
                                       principal.tenant_id, itinerary_id, lang, after)
    return FeedOut(items=[FeedEntryOut.of(cursor, entry) for cursor, entry in entries],
                   cursor=entries[-1][0] if entries else after)


@router.get("/itineraries/{itinerary_id}/feed/events", tags=["feed"],
            response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}})
async def trip_feed_events(itinerary_id: Annotated[str, Path(max_length=100)], request: Request,
                           lang: Language = "en", principal: Principal = require("notifications:read")):
    """The same feed, live (server-sent events): each new entry as ``event: entry`` with its cursor as ``id``;
    reconnecting with ``Last-Event-ID`` (or ``after=``) misses nothing."""
    return await feed_stream(request, principal.tenant_id, itinerary_id, lang)


async def feed_stream(request: Request, tenant_id: str, itinerary_id: str, language: str) -> StreamingResponse:
    runtime = request.app.state.runtime

    async def fetch_after(cursor: str | None) -> list[tuple[str, dict]]:
        entries = await services.trip_feed(runtime.transaction, runtime.agencies, tenant_id, itinerary_id,
                                           language, cursor)
        return [(c, FeedEntryOut.of(c, entry).model_dump(mode="json")) for c, entry in entries]

    return await event_stream(request, fetch_after)


class CustomerMessageOut(BaseModel):
    id: str
    kind: str
    itinerary_id: str | None
    channel: str
    status: str
    subject: str
    lines: list[str]
    created_at: datetime
    cursor: str


class CustomerMessagesOut(BaseModel):
    items: list[CustomerMessageOut] = Field(description="Oldest first.")
    cursor: str | None


@router.get("/customers/{customer_id}/feed", response_model=CustomerMessagesOut, tags=["feed"])
async def customer_feed(customer_id: Annotated[str, Path(max_length=100)], request: Request, after: Cursor = None,
                        principal: Principal = require("notifications:read")) -> CustomerMessagesOut:
    """Everything the customer was sent, across trips, with how each went: what support sees of their inbox."""
    found = await services.customer_messages(request.app.state.runtime.transaction, principal.tenant_id,
                                             customer_id, after)
    return CustomerMessagesOut(
        items=[CustomerMessageOut(id=d["_id"], kind=d["kind"], itinerary_id=d.get("itinerary_id"),
                                  channel=d.get("channel") or "email", status=d["status"], subject=d["subject"],
                                  lines=listed_facts(d["body"]), created_at=d["created_at"], cursor=cursor)
               for cursor, d in found],
        cursor=found[-1][0] if found else after)


Short = Annotated[Line, StringConstraints(max_length=200)]


Channel = Literal["email", "sms"]


class MessagePreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"opted_out": ["bookings_confirmed"], "channels": ["sms", "email"]}]})
    opted_out: list[Annotated[str, StringConstraints(max_length=50)]] = Field(
        max_length=20, description="Kinds of message the customer does not want; only optional kinds can be given.")
    channels: list[Channel] = Field(
        default=["email", "sms"], min_length=1, max_length=2,
        description="The channels the customer accepts, preferred first: each message goes by the first that "
                    "reaches them (an address, a mobile number), and urgent news not read in time by the next.")


class MessagePreferencesOut(BaseModel):
    customer_id: str
    opted_out: list[str]
    channels: list[Channel]
    optional_kinds: list[str] = Field(description="What a customer can switch off; the rest is essential.")

    @classmethod
    def of(cls, preferences) -> MessagePreferencesOut:
        return cls(customer_id=preferences.customer_id, opted_out=sorted(preferences.opted_out),
                   channels=preferences.channels, optional_kinds=sorted(OPTIONAL_KINDS))


@router.get("/customers/{customer_id}/message-preferences", response_model=MessagePreferencesOut,
            tags=["preferences"])
async def get_message_preferences(customer_id: Annotated[str, Path(max_length=100)], request: Request,
                                  principal: Principal = require("notifications:read")) -> MessagePreferencesOut:
    """Which kinds of message the customer stopped (by one click in a message, or through support)."""
    return MessagePreferencesOut.of(await services.message_preferences(request.app.state.runtime.transaction,
                                                                       principal.tenant_id, customer_id))


@router.put("/customers/{customer_id}/message-preferences", response_model=MessagePreferencesOut,
            tags=["preferences"])
async def put_message_preferences(customer_id: Annotated[str, Path(max_length=100)], body: MessagePreferencesIn,
                                  request: Request,
                                  principal: Principal = require("notifications:write")) -> MessagePreferencesOut:
    """Replace what the customer stopped and the channels they accept; an essential kind (trip changes,
    proposals…) is refused with 422."""
    return MessagePreferencesOut.of(await services.replace_message_preferences(
        request.app.state.runtime.transaction, principal.tenant_id, customer_id, body.opted_out, body.channels))


AGENCY_EXAMPLE = {
        "name": "Lotus & Maple Travel", "sender_email": "trips@lotusmaple.example",
        "reply_to": "care@lotusmaple.example", "signature": "Warm regards from the Lotus & Maple team",
        "support_phone": "+86 21 5555 0100", "support_email": "care@lotusmaple.example",
        "messaging": "WeChat: lotusmaple", "emergency_phone": "+86 21 5555 0199", "default_language": "zh-Hans",
        "timezone": "Asia/Shanghai", "quiet_hours_start": "22:00", "quiet_hours_end": "07:30"}


class AgencyProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [AGENCY_EXAMPLE]})
    name: Short = Field(min_length=1)
    sender_email: Short | None = None
    reply_to: Short | None = None
    signature: Annotated[Text, StringConstraints(max_length=500)] | None = None
    support_phone: Short | None = None
    support_email: Short | None = None
    messaging: Short | None = None
    emergency_phone: Short | None = None
    default_language: Literal["en", "zh-Hans"] = "en"
    timezone: Short | None = None
    quiet_hours_start: Annotated[str, StringConstraints(max_length=5)] | None = None
    quiet_hours_end: Annotated[str, StringConstraints(max_length=5)] | None = None


class AgencyProfileOut(AgencyProfileIn):
    model_config = ConfigDict(json_schema_extra={"examples": [{**AGENCY_EXAMPLE, "version": 3}]})
    version: int = Field(description="0: not saved yet (what the AGENCY_PROFILES setting gives).")


@router.get("/agency", response_model=AgencyProfileOut, tags=["agency"])
async def get_agency(request: Request, principal: Principal = require("notifications:read")) -> AgencyProfileOut:
    """The agency's profile: its name and senders, support contacts, language, zone and quiet hours."""
    found = await services.get_agency_profile(request.app.state.runtime.transaction, principal.tenant_id,
                                              request.app.state.runtime.agencies)
    if found is None:
        raise NotFoundError("This agency has no profile yet: PUT one.", code="agency-profile-not-found")
    return AgencyProfileOut(**vars(found))


@router.put("/agency", response_model=AgencyProfileOut, tags=["agency"])
async def put_agency(body: AgencyProfileIn, request: Request,
                     principal: Principal = require("notifications:write")) -> AgencyProfileOut:
    """Replace the whole profile; every client message and deliverable carries it from now on."""
    saved = await services.save_agency_profile(request.app.state.runtime.transaction, principal.tenant_id,
                                               body.model_dump(), request.app.state.runtime.agencies)
    return AgencyProfileOut(**vars(saved))
