"""Use cases of the notify service: keep the read models current and turn trip events into notifications."""
from __future__ import annotations

import contextvars
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from opentelemetry import propagate

from notify.adapters.message_links import MessageLinks
from notify.adapters.repository import (
    ActiveTrips,
    DueAnnouncements,
    DueDigests,
    UnacknowledgedUrgent,
    from_document,
)
from notify.domain import booking_news, bounces, channels, feed, reminders, subscriptions, trip_changes
from notify.domain.agency import AgencyProfileRecord
from notify.domain.model import Contact, Notification, Trip, notification_id
from notify.domain.preferences import OPTIONAL_KINDS, MessagePreferences
from notify.domain.subscriptions import WebhookEndpoint
from notify.service_layer.dispatcher import Dispatcher
from notify.service_layer.unit_of_work import NotifyUnitOfWork
from trip_shared.agency import AgencyDirectory, AgencyProfile, AgencyProfiles, record_agency_profile
from trip_shared.clock import utc_now
from trip_shared.contracts.agency import AgencyProfileChanged, AgencyProfileData
from trip_shared.contracts.booking import (
    BookingAmendmentRequested,
    BookingCancellationRequested,
    BookingCancelled,
    BookingConfirmed,
    BookingDeclined,
    BookingEscalated,
    BookingRequested,
    BookingSupplierReminded,
)
from trip_shared.contracts.customers import (
    CustomerCreated,
    CustomerDeactivated,
    CustomerDeleted,
    CustomerErased,
    CustomersMerged,
    CustomerSnapshot,
    CustomerState,
    CustomerUpdated,
    EmailConfirmationRequested,
    ProfileLinkIssued,
)
from trip_shared.contracts.feedback import (
    ComplaintRecorded,
    ComplaintState,
    ComplaintUpdated,
    IncidentEscalated,
    SurveyIssued,
    SurveyReminderDue,
)
from trip_shared.contracts.itinerary import (
    CustomerLinked,
    CustomerUnlinked,
    FinalDocumentsIssued,
    ItineraryChanged,
    ItineraryCreated,
    ItineraryState,
    ItinerarySummary,
    PocChanged,
    ProposalAnswered,
    ProposalSent,
)
from trip_shared.contracts.notify import (
    AgreementAnswer,
    ChangeAgreementAnswered,
    DeliveryProblem,
    NotificationRecovered,
    NotificationUndeliverable,
    UrgentMessage,
    UrgentMessageAcknowledged,
    UrgentMessageSent,
)
from trip_shared.errors import DomainError, NotFoundError
from trip_shared.local_time import instant_label, span_label, trip_zone
from trip_shared.messaging.consumer import occurred_at_of_event_being_handled
from trip_shared.privacy import confirm_erasure

Transaction = Callable[[Callable[[NotifyUnitOfWork], Awaitable]], Awaitable]


class NothingToTell(NotFoundError):
    code = "nothing-to-tell"
    title = "Nothing to tell"


def _contact(snapshot: CustomerSnapshot) -> Contact:
    return Contact(customer_id=snapshot.customer_id, first_name=snapshot.first_name, last_name=snapshot.last_name,
                   emails=list(snapshot.emails), preferred_language=snapshot.preferred_language,
                   status=snapshot.status, phones=list(snapshot.phones), home_timezone=snapshot.home_timezone)


def _trip(summary: ItinerarySummary) -> Trip:
    return Trip(itinerary_id=summary.itinerary_id, title=summary.title, start_date=summary.start_date,
                end_date=summary.end_date, stage=summary.stage,
                travellers=None if summary.travellers is None else [t.customer_id for t in summary.travellers],
                items=None if summary.items is None else [item.model_dump(mode="json") for item in summary.items])


@dataclass(frozen=True)
class DigestTiming:
    quiet: timedelta = timedelta(minutes=10)
    max_wait: timedelta = timedelta(hours=1)
    acknowledge_within: timedelta = timedelta(hours=2)  # urgent news unread by then goes to the planner

URGENT_KINDS = ("booking_lost",)
# The final itinerary's files stay for resends until this long after the trip ends.
FINAL_DOCUMENTS_KEPT = timedelta(days=90)


class NotifyHandlers:
    """Consumers' handlers; ``dispatcher`` sends what they create once their transaction has committed."""

    def __init__(self, dispatcher: Dispatcher, agencies: AgencyDirectory | None = None,
                 digests: DigestTiming | None = None, links: MessageLinks | None = None) -> None:
        self.dispatcher = dispatcher
        self.links = links
        self.agencies = agencies or AgencyDirectory(None, AgencyProfiles({}))
        self.digests = digests or DigestTiming()
        self.sms_available = dispatcher.sms is not None

    async def _agency(self, tenant_id: str) -> AgencyProfile | None:
        return await self.agencies.for_tenant(tenant_id)

    async def _tell_desk(self, uow: NotifyUnitOfWork, tenant_id: str, kind: str, source_id: str,
                         itinerary_id: str, details: dict, address: str | None, subject: str, body: str, *,
                         recipient_key: str = "agency", trace_context: dict | None = None,
                         about: str | list[str] | None = None) -> list[str]:
        """A message for the planners (internal: it may carry what clients never see), once per source and kind;
        without a desk address it stays visible in the delivery log as no_address. ``about``: the customer (or
        customers) it tells of, whose erasure scrubs it too. The ids to send."""
        if about:
            details = {**details, "about_customer": about}
        notification = Notification(
            id=notification_id(source_id, recipient_key, kind), tenant_id=tenant_id, kind=kind,
            itinerary_id=itinerary_id, customer_id="agency", source_event_id=source_id,
            trace_context=trace_context if trace_context is not None else _current_trace(), audience="agency",
            details=details)
        notification.address_internal(address, subject, body)
        return await self._record(uow, notification)

    async def _desk(self, tenant_id: str) -> str | None:
        """Where the planners read what is for them: the agency's reply-to, else its support address."""
        agency = await self._agency(tenant_id)
        return (agency.reply_to or agency.support_email) if agency else None

    async def _agency_zone(self, tenant_id: str) -> str:
        """The agency's own zone (UTC when it names none): for its desk, and for a trip that names none."""
        agency = await self._agency(tenant_id)
        return (agency.timezone if agency else None) or "UTC"

    async def _reminder_hours(self, tenant_id: str) -> dict:
        """The agency's quiet hours, and its zone for a trip that names none: how reminders are scheduled."""
        agency = await self._agency(tenant_id)
        return {"quiet_start": agency.quiet_hours_start if agency else None,
                "quiet_end": agency.quiet_hours_end if agency else None,
                "fallback_zone": await self._agency_zone(tenant_id)}

    def _send_after_commit(self, uow: NotifyUnitOfWork, ids: list[str]) -> None:
        """Once committed, send these with everything else the unit of work recorded, in one go (a batch of
        events is one unit of work: its messages overlap, rather than wait for each other's servers), each in the
        trace of the event it was recorded for."""
        if not ids:
            return
        if not uow.to_send:
            uow.on_commit(lambda: self.dispatcher.send_now(list(uow.to_send), requested_in=uow.to_send))
        requested_in = contextvars.copy_context()
        uow.to_send.update((notification_id, requested_in) for notification_id in ids)

    async def _record(self, uow: NotifyUnitOfWork, notification: Notification) -> list[str]:
        """Record a new message (a redelivered event's is already there: nothing then) and, for each of the
        agency's endpoints subscribed to its kind, a signed copy to post; the ids of what is to go now."""
        notification.requested_at = occurred_at_of_event_being_handled() or notification.created_at
        if not await uow.notifications(notification.tenant_id).add(notification):
            return []
        if notification.escalate_at is not None and notification.itinerary_id:
            uow.emit(UrgentMessageSent(**_urgent(notification.tenant_id, {
                "_id": notification.id, **{name: getattr(notification, name) for name in URGENT_FIELDS}}, 1)))
        to_send = [notification.id] if notification.status == "pending" else []
        if notification.audience not in ("client", "agency"):
            return to_send
        for endpoint in await uow.webhook_endpoints(notification.tenant_id).listed():
            if not endpoint.wants(notification.kind):
                continue
            copy = Notification(
                id=f"{notification.id}:hook:{endpoint.id}", tenant_id=notification.tenant_id, kind=notification.kind,
                itinerary_id=notification.itinerary_id, customer_id=endpoint.id,
                source_event_id=notification.source_event_id, trace_context=notification.trace_context,
                details={"secret_generation": endpoint.secret_generation, "message_id": notification.id},
                status="pending", recipient=endpoint.url, language=notification.language, audience="platform",
                channel="webhook", subject=f"{notification.kind} {notification.id}",
                body=subscriptions.platform_payload(notification, notification.tenant_id),
                requested_at=notification.requested_at)
            if await uow.notifications(notification.tenant_id).add(copy):
                to_send.append(copy.id)
        return to_send

    async def _address(self, uow: NotifyUnitOfWork, notification: Notification, contact: Contact | None,
                       trip: Trip | None, channel: str | None = None) -> None:
        """Address a client message by the channels its recipient accepts, first the one they prefer."""
        preferences = await uow.message_preferences(notification.tenant_id).get(notification.customer_id)
        trip_url = self.links.trip_url(notification.tenant_id, trip.itinerary_id, trip.end_date) \
            if self.links is not None and trip is not None and trip.itinerary_id else None
        notification.address(contact, trip, await self._agency(notification.tenant_id),
                             accepted=preferences.channels, sms_available=self.sms_available, channel=channel,
                             trip_url=trip_url)

    async def record_contact(self, event: CustomerCreated | CustomerUpdated | CustomerDeactivated | CustomerState,
                             uow: NotifyUnitOfWork) -> None:
        contact = _contact(event.data)
        models = uow.read_models(event.tenant_id)
        if not await models.apply_contact(contact, event.aggregate_version):
            return
        # Notifications that were waiting for this customer's details (or an e-mail address) can go now.
        repository = uow.notifications(event.tenant_id)
        released = []
        for notification in await repository.awaiting_contact(contact.customer_id):
            trip, _ = await models.trip(notification.itinerary_id)
            await self._address(uow, notification, contact, trip or Trip(notification.itinerary_id, ""))
            await repository.replace(notification)
            if notification.status == "pending":
                released.append(notification.id)
        self._send_after_commit(uow, released)

    async def customers_merged(self, event: CustomersMerged, uow: NotifyUnitOfWork) -> None:
        survivor = event.data.survivor
        models = uow.read_models(event.tenant_id)
        await models.forget_contact(event.data.merged_customer_id)
        await models.apply_contact(_contact(survivor), event.aggregate_version)
        await uow.notifications(event.tenant_id).cancel_undelivered(
            event.data.merged_customer_id, f"customer merged into {survivor.customer_id}")

    async def customer_erased(self, event: CustomerErased, uow: NotifyUnitOfWork) -> None:
        customer_id = event.data.customer_id
        await uow.read_models(event.tenant_id).forget_contact(customer_id)
        documents = await uow.final_documents(event.tenant_id).forget_customer(customer_id)
        await uow.message_preferences(event.tenant_id).forget(customer_id)
        notifications = uow.notifications(event.tenant_id)
        await notifications.cancel_undelivered(customer_id, "customer erased")
        scrubbed = await notifications.scrub(customer_id)
        confirm_erasure(uow, event, "notify", ["contact details", f"{scrubbed} notification(s): recipient and text",
                                               f"{documents} final itinerary document set(s) naming them"])

    async def forget_contact_copy(self, tenant_id: str, customer_id: str, uow: NotifyUnitOfWork) -> None:
        """A tombstone on the state topic: the customer is gone (their own events did the rest when they
        happened)."""
        await uow.read_models(tenant_id).forget_contact(customer_id)

    async def profile_link_issued(self, event: ProfileLinkIssued, uow: NotifyUnitOfWork) -> None:
        notification = Notification(
            id=notification_id(str(event.event_id), event.data.customer_id, "profile_form"), tenant_id=event.tenant_id,
            kind="profile_form", itinerary_id=None, customer_id=event.data.customer_id,
            source_event_id=str(event.event_id), trace_context=_current_trace(),
            details={"url": event.data.url, "expires_at": event.data.expires_at.isoformat()})
        await self._address(uow, notification, await uow.read_models(event.tenant_id).contact(event.data.customer_id),
                            None)
        self._send_after_commit(uow, await self._record(uow, notification))

    async def email_confirmation_requested(self, event: EmailConfirmationRequested, uow: NotifyUnitOfWork) -> None:
        """The confirmation goes to the new address itself: whoever reads it there is who confirms it."""
        data = event.data
        notification = Notification(
            id=notification_id(str(event.event_id), data.customer_id, "email_confirmation"),
            tenant_id=event.tenant_id, kind="email_confirmation", itinerary_id=None, customer_id=data.customer_id,
            source_event_id=str(event.event_id), trace_context=_current_trace(),
            details={"url": data.url, "expires_at": data.expires_at.isoformat(), "to_address": data.email})
        await self._address(uow, notification, await uow.read_models(event.tenant_id).contact(data.customer_id), None)
        self._send_after_commit(uow, await self._record(uow, notification))

    async def customer_deleted(self, event: CustomerDeleted, uow: NotifyUnitOfWork) -> None:
        await uow.read_models(event.tenant_id).forget_contact(event.data.customer_id)
        await uow.message_preferences(event.tenant_id).forget(event.data.customer_id)
        await uow.notifications(event.tenant_id).cancel_undelivered(event.data.customer_id, "customer deleted")

    async def rebuild_trip(self, state: ItineraryState, uow: NotifyUnitOfWork) -> None:
        """A trip's copy, with its members, from the state topic: nobody is told anything (nothing changed)."""
        await uow.read_models(state.tenant_id).apply_trip(_trip(state.data.itinerary), state.aggregate_version,
                                                          [member.model_dump() for member in state.data.customers])

    async def record_trip(self, event: ItineraryCreated | ItineraryChanged, uow: NotifyUnitOfWork) -> None:
        await uow.read_models(event.tenant_id).apply_trip(_trip(event.data), event.aggregate_version)

    # --- changes after approval ----------------------------------------------------------------------------------

    async def itinerary_changed(self, event: ItineraryChanged, uow: NotifyUnitOfWork) -> None:
        """A change to an approved trip is its client's news: it joins the trip's open digest, or, when it cannot
        wait (a cancellation, something within 48 hours), goes at once with whatever the digest already held."""
        await self.record_trip(event, uow)
        data = event.data
        found = trip_changes.changes_in([change.model_dump(mode="json") for change in event.changes],
                                        [item.model_dump(mode="json") for item in data.items or []], data.stage)
        if not found:
            return
        if event.disruption is not None:
            disrupted = next((item.model_dump(mode="json") for item in data.items or []
                              if item.item_id == event.disruption.item_id), None)
            found.insert(0, trip_changes.disruption_change(event.disruption.incident_id, disrupted,
                                                           event.disruption.kind, event.disruption.delay_minutes))
        if event.agreement is not None:
            await self._ask_agreement(uow, event, [change.as_dict() for change in found])
            return
        now = utc_now()
        digest_id = await self._join_digest(uow, event, "changes", [change.as_dict() for change in found], now)
        if any(trip_changes.is_urgent(change, data.stage, now) for change in found):
            await self.tell_digest(uow, event.tenant_id, digest_id, urgent=True)

    async def _ask_agreement(self, uow: NotifyUnitOfWork, event: ItineraryChanged, changes: list[dict]) -> None:
        """A change the clients must agree to is asked at once, of each point of contact with their own link; it
        is not told again in the digest."""
        asked = event.agreement
        await uow.agreements(event.tenant_id).add(asked.agreement_id, event.data.itinerary_id, changes,
                                                  asked.reason)
        trip, members = await uow.read_models(event.tenant_id).trip(event.data.itinerary_id)
        for customer_id in [member["customer_id"] for member in members if member["is_poc"]]:
            url = self.links.agreement_url(event.tenant_id, asked.agreement_id, customer_id) if self.links else ""
            await self._notify(uow, event.tenant_id, str(event.event_id), _current_trace(), "change_agreement",
                               [customer_id], trip or _trip(event.data),
                               {"changes": changes, "reason": asked.reason, "agreement_id": asked.agreement_id,
                                "url": url})

    async def answer_agreement(self, uow: NotifyUnitOfWork, tenant_id: str, agreement_id: str, customer_id: str,
                               answer: str) -> dict:
        """A point of contact's answer (the latest counts), announced so the trip records it; a request for a call
        goes to the planners' desk at once."""
        agreements = uow.agreements(tenant_id)
        agreement = await agreements.get(agreement_id)
        if agreement is None:
            raise NotFoundError("This change is no longer waiting for an answer.", code="agreement-not-found")
        now = utc_now()
        version = await agreements.answer(agreement_id, customer_id, answer, now)
        uow.emit(ChangeAgreementAnswered(
            tenant_id=tenant_id, aggregate_id=f"{agreement_id}:{customer_id}", aggregate_version=version,
            trip_id=agreement["itinerary_id"], producer="notify",
            data=AgreementAnswer(agreement_id=agreement_id, itinerary_id=agreement["itinerary_id"],
                                 customer_id=customer_id, answer=answer, answered_at=now)))
        if answer == "call_me":
            contact = await uow.read_models(tenant_id).contact(customer_id)
            who = contact.full_name if contact else customer_id
            trip, _ = await uow.read_models(tenant_id).trip(agreement["itinerary_id"])
            lines = [line for change in agreement["changes"]
                     if (line := trip_changes.describe(trip_changes.TripChange.of(change), "en",
                                                       trip.title if trip else ""))]
            self._send_after_commit(uow, await self._tell_desk(
                uow, tenant_id, "call_requested", f"{agreement_id}:{version}", agreement["itinerary_id"],
                {"agreement_id": agreement_id, "customer_id": customer_id}, await self._desk(tenant_id),
                f"Please call {who}",
                f"{who} asked to be called before agreeing to this change to the trip "
                f"{trip.title if trip else agreement['itinerary_id']}:\n"
                + "\n".join(f"  - {line}" for line in lines) + f"\n\nTrip: {agreement['itinerary_id']}\n",
                recipient_key=customer_id))
        return agreement

    async def _join_digest(self, uow: NotifyUnitOfWork, event, topic: str, entries: list[dict],
                           now: datetime) -> str:
        """Add to the trip's open digest on ``topic`` (one is opened if none is), due once the trip is quiet."""
        itinerary_id = event.data.itinerary_id
        digests = uow.change_digests(event.tenant_id)
        entries = [{**entry, "event_id": str(event.event_id), "at": now} for entry in entries]
        fields = {"last_change_at": now, "trace_context": _current_trace()}
        if topic == "changes":
            fields |= {"stage": event.data.stage,
                       "travellers": [traveller.customer_id for traveller in event.data.travellers or []]}
        digest = await digests.open_for(itinerary_id, topic)
        due = trip_changes.digest_due(digest["opened_at"] if digest else now, now, self.digests.quiet,
                                      self.digests.max_wait)
        if digest and await digests.append(digest["_id"], entries, {**fields, "due_at": due}):
            return digest["_id"]
        digest_id = f"{topic}:{itinerary_id}:{event.event_id}"
        await digests.add({"_id": digest_id, "itinerary_id": itinerary_id, "topic": topic, "status": "open",
                           "opened_at": now, "due_at": due, "changes": entries, **fields})
        return digest_id

    async def tell_digest(self, uow: NotifyUnitOfWork, tenant_id: str, digest_id: str, *,
                          urgent: bool = False) -> None:
        """Send a trip's digest: one message per recipient, several changes to one thing netted (a change undone
        says nothing). The points of contact hear it; urgent news goes to every traveller with an address too,
        since it concerns whoever is on the way. Until notify knows the trip's POCs it waits for them."""
        digests = uow.change_digests(tenant_id)
        digest = await digests.get(digest_id)
        if digest is None or digest["status"] != "open":
            return
        models = uow.read_models(tenant_id)
        trip, members = await models.trip(digest["itinerary_id"])
        recipients = await self._recipients(models, members, digest.get("travellers") if urgent else None)
        if trip is None or not recipients:
            await digests.postpone(digest_id, utc_now() + self.digests.quiet)
            return
        kind, details = await self._digest_message(models, trip, digest, urgent)
        if details is None:
            await digests.close(digest_id, "nothing_to_tell", [], utc_now())
            return
        if await digests.close(digest_id, "sent", recipients, utc_now()):
            await self._notify(uow, tenant_id, digest_id, digest.get("trace_context") or {}, kind, recipients, trip,
                               details)

    async def _digest_message(self, models, trip: Trip, digest: dict, urgent: bool = False) -> tuple[str, dict | None]:
        """The kind and details of the message a digest makes (its changes netted: a change undone says nothing);
        None for details when it has nothing left to tell."""
        netted = trip_changes.net([trip_changes.TripChange.of(entry) for entry in digest.get("changes", [])])
        if digest.get("topic") == "bookings":
            kind, details = "bookings_confirmed", await self._confirmations(models, trip, netted)
        else:
            kind, details = "trip_changes", {"changes": [change.as_dict() for change in netted], "urgent": urgent}
        return kind, details if details.get("changes") or details.get("confirmed") else None

    @staticmethod
    async def _confirmations(models, trip: Trip, netted: list[trip_changes.TripChange]) -> dict:
        """The services confirmed since the last digest that still are, and how many of the trip's are."""
        bookings = await models.bookings(trip.itinerary_id)
        holding = {booking_id for booking_id, known in bookings.items() if known["status"] in booking_news.HOLDING}
        required = trip.required_items
        confirmed_items = {known["item_id"] for booking_id, known in bookings.items() if booking_id in holding}
        return {"confirmed": [change.after for change in netted if change.key.removeprefix("bookings.") in holding],
                "confirmed_count": len(confirmed_items & set(required)), "required_count": len(required)}

    async def membership_changed(self, event: CustomerLinked | CustomerUnlinked | PocChanged,
                                 uow: NotifyUnitOfWork) -> None:
        data = event.data
        models = uow.read_models(event.tenant_id)
        members = [member.model_dump() for member in data.customers]
        current = await models.apply_trip(_trip(data.itinerary), event.aggregate_version, members)
        trip = _trip(data.itinerary)
        # A merge moves an existing POC onto their surviving record: the same person, nothing new to tell them.
        if event.event_type == CustomerUnlinked.TOPIC or not data.is_poc or data.reason == "customers_merged":
            return
        if not current:
            # A later change already arrived: only tell them if they are still a POC now.
            _, now_members = await models.trip(data.itinerary.itinerary_id)
            if not any(m["customer_id"] == data.customer_id and m["is_poc"] for m in now_members):
                return
        await self._notify(uow, event.tenant_id, str(event.event_id), _current_trace(), "poc_assigned",
                           [data.customer_id], trip)

    async def proposal_sent(self, event: ProposalSent, uow: NotifyUnitOfWork) -> None:
        """Each POC gets their own link: it answers the proposal as them, so it is never sent to anyone else."""
        data = event.data
        trip = _trip(data.itinerary)
        options = [{"title": o.title, "prices": o.prices} for o in data.options]
        for recipient in data.recipients:
            await self._notify(uow, event.tenant_id, str(event.event_id), _current_trace(), "proposal",
                               [recipient.customer_id], trip,
                               {"url": recipient.url, "expires_at": recipient.expires_at.isoformat(),
                                "options": options, "message": data.message})

    async def final_documents_issued(self, event: FinalDocumentsIssued, uow: NotifyUnitOfWork) -> None:
        """The final itinerary goes to each point of contact with its PDF and calendar attached, in their language;
        the files are kept once, for every copy and resend."""
        data = event.data
        trip = _trip(data.itinerary)
        await uow.read_models(event.tenant_id).apply_trip(trip, event.aggregate_version)
        set_id = str(event.event_id)
        travellers = data.itinerary.travellers or []
        keep_until = (datetime.combine(trip.end_date, time(), UTC) if trip.end_date else utc_now()) \
            + FINAL_DOCUMENTS_KEPT
        files: dict[str, list[str]] = {}
        for document in data.documents:
            files.setdefault(document.language, []).append(document.filename)
        message = {"documents_id": set_id, "reason": data.reason, "note": data.note, "files": files,
                   "left_out": data.left_out, "version": event.aggregate_version}
        await uow.final_documents(event.tenant_id).add(
            set_id, trip.itinerary_id, [document.model_dump() for document in data.documents],
            [traveller.customer_id for traveller in travellers], keep_until, message, event.occurred_at)
        pocs = [traveller.customer_id for traveller in travellers if traveller.is_poc]
        await self._notify(uow, event.tenant_id, set_id, _current_trace(), "final_itinerary", pocs, trip, message)

    async def proposal_answered(self, event: ProposalAnswered, uow: NotifyUnitOfWork) -> None:
        """Every POC hears the answer, so a co-traveller knows the trip was approved (or is being reworked)."""
        data = event.data
        _, members = await uow.read_models(event.tenant_id).trip(data.itinerary.itinerary_id)
        pocs = [member["customer_id"] for member in members if member["is_poc"]] or [data.customer_id]
        await self._notify(uow, event.tenant_id, str(event.event_id), _current_trace(), "proposal_answered", pocs,
                           _trip(data.itinerary), data.model_dump(include={"outcome", "option_title", "comment"}))

    async def supplier_and_status(self, event: BookingRequested | BookingAmendmentRequested
                                  | BookingCancellationRequested, uow: NotifyUnitOfWork) -> None:
        await self.booking_changed(event, uow)
        await self.supplier_message(event, uow)

    async def supplier_message(self, event: BookingRequested | BookingAmendmentRequested
                               | BookingCancellationRequested | BookingSupplierReminded,
                               uow: NotifyUnitOfWork) -> None:
        """A request, amendment, cancellation or reminder the supplier must get: e-mailed with its answer link, or
        posted to a webhook supplier's endpoint, signed, with where to call back."""
        message = event.to_supplier
        if message is None:
            return
        kind = f"supplier_{message.kind}"
        notification = Notification(
            id=notification_id(str(event.event_id), message.supplier_id, kind), tenant_id=event.tenant_id,
            kind=kind, itinerary_id=event.data.itinerary_id, customer_id=message.supplier_id,
            source_event_id=str(event.event_id), trace_context=_current_trace(),
            details={"booking_id": event.data.booking_id, "round": event.data.round,
                     "secret_generation": message.secret_generation})
        notification.address_supplier(event.data.model_dump(mode="json"), message.model_dump(mode="json"),
                                      await self._agency(event.tenant_id))
        self._send_after_commit(uow, await self._record(uow, notification))

    async def booking_escalated(self, event: BookingEscalated, uow: NotifyUnitOfWork) -> None:
        """The planners' desk hears of a supplier that never answered."""
        data = event.data
        service = data.service
        when = span_label(service.start, service.end, service.timezone, service.end_timezone, "en") if service \
            else ""
        self._send_after_commit(uow, await self._tell_desk(
            uow, event.tenant_id, "booking_escalated", str(event.event_id), data.itinerary_id,
            {"booking_id": data.booking_id}, event.escalation.notify_email,
            f"No answer from {data.vendor_name}: {service.title if service else data.booking_id}",
            f"{event.escalation.reason}\n\nService: {service.title if service else ''} · {when}\n"
            f"Booking: {data.booking_id} (trip {data.itinerary_id})\n"))

    async def incident_escalated(self, event: IncidentEscalated, uow: NotifyUnitOfWork) -> None:
        """Nobody acknowledged an incident in time: the planners' desk hears of it at once, with the staff's own
        account."""
        data = event.data
        when = f"{data.occurred_local.replace('T', ' ')} ({data.timezone})"
        self._send_after_commit(uow, await self._tell_desk(
            uow, event.tenant_id, "incident_escalated", str(event.event_id), data.itinerary_id,
            {"incident_id": data.incident_id}, await self._desk(event.tenant_id),
            f"Unacknowledged {data.severity} incident: {data.summary}",
            f"{event.reason}\n\nWhat happened: {data.summary}\nWhen: {when}\n"
            + (f"Account: {data.description}\n" if data.description else "")
            + f"Kind: {data.kind.replace('_', ' ')} · severity {data.severity} · trip {data.itinerary_id}\n"
            f"Incident: {data.incident_id}\n", about=data.travellers))

    async def complaint_recorded(self, event: ComplaintRecorded, uow: NotifyUnitOfWork) -> None:
        """The complainant hears at once that it reached the agency and when they will hear back; a complaint the
        client sent themselves (their page, a survey) also reaches the planners' desk."""
        data = event.data
        trip = await self._trip(uow, event.tenant_id, data.itinerary_id)
        await self._notify(uow, event.tenant_id, str(event.event_id), _current_trace(), "complaint_received",
                           [data.complainant], trip, await self._complaint_details(event.tenant_id, data, trip,
                                                                                   data.due_at))
        if data.source == "staff":
            return  # who took it down knows
        self._send_after_commit(uow, await self._tell_desk(
            uow, event.tenant_id, "complaint_new", str(event.event_id), data.itinerary_id,
            {"complaint_id": data.complaint_id}, await self._desk(event.tenant_id),
            f"New complaint from a client ({data.source}): {trip.title}",
            f"A traveller on \"{trip.title}\" complained through "
            f"{'their trip page' if data.source == 'client' else 'a survey'}.\n"
            f"An offer is owed by {await self._desk_time(event.tenant_id, data.due_at)}.\n\n"
            f"Read it and answer: GET /v1/complaints/{data.complaint_id} (feedback)\nTrip: {data.itinerary_id}\n",
            about=data.complainant))

    async def complaint_updated(self, event: ComplaintUpdated, uow: NotifyUnitOfWork) -> None:
        """An offer goes to the complainant at once, with their link to accept it or ask for more; an offer the
        client turned down goes back to the planners' desk with the client's reason."""
        data = event.data
        if event.change == "proposed" and data.offer is not None:
            trip = await self._trip(uow, event.tenant_id, data.itinerary_id)
            details = await self._complaint_details(event.tenant_id, data, trip, data.answer_by)
            await self._notify(uow, event.tenant_id, str(event.event_id), _current_trace(), "complaint_offer",
                               [data.complainant], trip, {**details, "offer": data.offer.model_dump()})
        elif event.change == "escalated":
            trip = await self._trip(uow, event.tenant_id, data.itinerary_id)
            self._send_after_commit(uow, await self._tell_desk(
                uow, event.tenant_id, "complaint_escalated", str(event.event_id), data.itinerary_id,
                {"complaint_id": data.complaint_id}, await self._desk(event.tenant_id),
                f"Complaint escalated by the client: {trip.title}",
                f"The client turned down the offer ({data.offer.remedy if data.offer else '—'}) and wrote:\n\n"
                f"{data.escalation_reason or ''}\n\nA better offer is owed by "
                f"{await self._desk_time(event.tenant_id, data.due_at)}. Owner: {data.owner or '—'}.\n"
                f"Complaint: {data.complaint_id} · trip {data.itinerary_id}\n", about=data.complainant))

    async def survey_invitation(self, event: SurveyIssued | SurveyReminderDue, uow: NotifyUnitOfWork) -> None:
        """Each traveller asked gets their own link (it answers as them), in their language; the reminder, only
        those who have not answered."""
        data = event.data
        kind = "survey" if isinstance(event, SurveyIssued) else "survey_reminder"
        trip = await self._trip(uow, event.tenant_id, data.itinerary_id)
        zone = await self._zone(event.tenant_id, trip)
        for customer_id in data.respondents:
            url = self.links.survey_url(event.tenant_id, data.survey_id, customer_id) if self.links else None
            if url is None:
                continue  # nowhere to answer: FEEDBACK_PUBLIC_URL is not set
            await self._notify(uow, event.tenant_id, str(event.event_id), _current_trace(), kind, [customer_id],
                               trip, {"survey_id": data.survey_id, "survey_kind": data.kind, "url": url,
                                      "closes_at": data.closes_at.isoformat(), "zone": zone})

    async def _desk_time(self, tenant_id: str, instant: datetime | None) -> str:
        """A deadline as the planners read it: in the agency's own zone, named."""
        return instant_label(instant, await self._agency_zone(tenant_id), "en") if instant else "—"

    async def _trip(self, uow: NotifyUnitOfWork, tenant_id: str, itinerary_id: str) -> Trip:
        trip, _ = await uow.read_models(tenant_id).trip(itinerary_id)
        return trip or Trip(itinerary_id, "")

    async def _zone(self, tenant_id: str, trip: Trip, item_id: str | None = None) -> str:
        """Where a deadline told to a traveller is given: the item it concerns, else where the trip is."""
        return trip_zone(trip.items or [], item_id, utc_now(), await self._agency_zone(tenant_id))

    async def _complaint_details(self, tenant_id: str, data: ComplaintState, trip: Trip,
                                 deadline: datetime | None) -> dict:
        """The deadline in the zone of the place the complaint concerns, named; the client's language; their
        link."""
        zone = await self._zone(tenant_id, trip, data.item_id)
        return {"complaint_id": data.complaint_id, "language": data.language,
                "when": instant_label(deadline, zone, data.language) if deadline else "",
                "url": self.links.complaint_url(tenant_id, data.complaint_id) if self.links else None}

    async def booking_confirmed(self, event: BookingConfirmed, uow: NotifyUnitOfWork) -> None:
        """A confirmation joins the trip's booking digest ("9 of 12 services are confirmed")."""
        data = event.data
        await uow.read_models(event.tenant_id).record_booking(data.itinerary_id, data.booking_id, data.item_id,
                                                              "confirmed", event.aggregate_version)
        await self._join_digest(uow, event, "bookings",
                                [booking_news.confirmed_entry(data.model_dump(mode="json"))], utc_now())

    async def booking_changed(self, event: BookingRequested | BookingDeclined | BookingCancelled
                              | BookingAmendmentRequested | BookingCancellationRequested,
                              uow: NotifyUnitOfWork) -> None:
        """Keep each booking's status; a service the client was counting on that falls through (a confirmed
        booking declined on amendment, or cancelled while its item is still on the trip) is told at once."""
        data = event.data
        models = uow.read_models(event.tenant_id)
        before = await models.record_booking(data.itinerary_id, data.booking_id, data.item_id, data.status,
                                             event.aggregate_version)
        if before not in booking_news.HOLDING or data.status not in ("declined", "cancelled"):
            return
        trip, members = await models.trip(data.itinerary_id)
        if trip is None or (data.status == "cancelled" and data.item_id not in trip.item_ids):
            return  # the item left the trip: the client heard that from the change itself
        recipients = await self._recipients(models, members, trip.travellers or [])
        service = booking_news.confirmed_entry(data.model_dump(mode="json"))["after"]
        await self._notify(uow, event.tenant_id, str(event.event_id), _current_trace(), "booking_lost", recipients,
                           trip, {"service": service})

    async def _notify(self, uow: NotifyUnitOfWork, tenant_id: str, source_event_id: str, trace_context: dict,
                      kind: str, customer_ids: list[str], trip: Trip, details: dict | None = None) -> None:
        """Record one notification per customer (deterministic ids) and send the addressable ones after commit."""
        models = uow.read_models(tenant_id)
        to_send = []
        for customer_id in customer_ids:
            notification = Notification(
                id=notification_id(source_event_id, customer_id, kind), tenant_id=tenant_id, kind=kind,
                itinerary_id=trip.itinerary_id, customer_id=customer_id, source_event_id=source_event_id,
                trace_context=trace_context, details=details or {},
            )
            await self._address(uow, notification, await models.contact(customer_id), trip)
            await self._honour_preferences(uow, notification)
            if self.links is not None and (kind in URGENT_KINDS or notification.details.get("urgent")):
                notification.ask_acknowledgement(self.links.acknowledgement_url(tenant_id, notification.id),
                                                 self.digests.acknowledge_within)
            to_send += await self._record(uow, notification)
        self._send_after_commit(uow, to_send)


    async def remind(self, uow: NotifyUnitOfWork, tenant_id: str, itinerary_id: str, now: datetime) -> int:
        """Send whatever reminder is due for this trip to each of its POCs and travellers with an address, at their
        own time: before departure in the zone they live in (when known), during the trip where it has them."""
        models = uow.read_models(tenant_id)
        trip, members = await models.trip(itinerary_id)
        if trip is None or trip.stage not in reminders.REMINDER_STAGES:
            return 0
        hours = await self._reminder_hours(tenant_id)
        sent = 0
        for customer_id in await self._recipients(models, members, trip.travellers or []):
            contact = await models.contact(customer_id)
            for reminder in reminders.due_reminders(trip.items or [], trip.stage, now, **hours,
                                                    home_zone=contact.home_timezone if contact else None):
                done = f"{reminder.kind}:{reminder.key}"
                # "kind:key" alone: sent to everyone at once, as reminders went before they were per recipient.
                if done in trip.reminded or f"{done}:{customer_id}" in trip.reminded:
                    continue
                await self._notify(uow, tenant_id, f"{itinerary_id}:{reminder.key}", _current_trace(),
                                   reminder.kind, [customer_id], trip, reminder.details)
                await models.reminded(itinerary_id, f"{done}:{customer_id}")
                sent += 1
        return sent

    async def escalate(self, uow: NotifyUnitOfWork, tenant_id: str, urgent_id: str, now: datetime) -> None:
        """Urgent news its client has not confirmed reading (or that never reached them): the planner hears of
        it, with what was said and to whom, so they can call."""
        repository = uow.notifications(tenant_id)
        document = await repository.get(urgent_id)
        if document is None or not await repository.take_escalation(urgent_id, now):
            return
        urgent = from_document(document)
        address = await self._desk(tenant_id)
        contact = await uow.read_models(tenant_id).contact(urgent.customer_id)
        who = contact.full_name if contact else urgent.customer_id
        state = {"sent": "was sent but not confirmed as read"}.get(urgent.status, f"is {urgent.status}")
        to_send = await self._tell_desk(
            uow, tenant_id, "urgent_unacknowledged", urgent.id, urgent.itinerary_id,
            {"notification_id": urgent.id}, address, f"Not read: \"{urgent.subject}\" to {who}",
            f"An urgent message to {who} ({urgent.recipient or 'no address'}) {state} "
            f"since {urgent.created_at:%Y-%m-%d %H:%M} UTC. Please call them.\n\n"
            f"Trip: {urgent.itinerary_id}\nMessage: {urgent.id}\n\n{urgent.body}",
            trace_context=urgent.trace_context)
        to_send += await self._fallback(uow, urgent, contact)
        self._send_after_commit(uow, to_send)

    async def _fallback(self, uow: NotifyUnitOfWork, urgent: Notification, contact: Contact | None) -> list[str]:
        """The same urgent news again by the client's next channel (an SMS after the e-mail), with the same "I have
        read this" link; the ids of what is to be sent."""
        if contact is None or urgent.audience != "client":
            return []
        preferences = await uow.message_preferences(urgent.tenant_id).get(urgent.customer_id)
        channel = channels.fallback_channel(urgent.channel, contact, preferences.channels, self.sms_available)
        if channel is None:
            return []
        trip, _ = await uow.read_models(urgent.tenant_id).trip(urgent.itinerary_id or "")
        again = Notification(id=f"{urgent.id}:{channel}", tenant_id=urgent.tenant_id, kind=urgent.kind,
                             itinerary_id=urgent.itinerary_id, customer_id=urgent.customer_id,
                             source_event_id=urgent.source_event_id, trace_context=urgent.trace_context,
                             details={k: v for k, v in urgent.details.items() if k != "acknowledgement_url"})
        await self._address(uow, again, contact, trip, channel=channel)
        if url := urgent.details.get("acknowledgement_url"):
            again.carry_acknowledgement_link(url)
        return await self._record(uow, again)

    async def _recipients(self, models, members: list[dict], travellers: list[str] | None) -> list[str]:
        """The trip's POCs, and with ``travellers`` every one of them with an address too (news that concerns whoever
        is on the way)."""
        recipients = [member["customer_id"] for member in members if member["is_poc"]]
        for customer_id in travellers or []:
            contact = await models.contact(customer_id)
            if customer_id not in recipients and contact is not None and any(
                    channels.reaches(contact, channel, self.sms_available) for channel in channels.CHANNELS):
                recipients.append(customer_id)
        return recipients

    async def preview_details(self, uow: NotifyUnitOfWork, tenant_id: str, trip: Trip, kind: str,
                              day: str | None, home_zone: str | None = None) -> tuple[dict, datetime | None]:
        """What a message of ``kind`` would say about ``trip`` now: the changes and confirmations waiting in its
        digests, the reminder as scheduled for a traveller living in ``home_zone``."""
        if kind == "poc_assigned":
            return {}, None
        if kind == "final_itinerary":
            latest = await uow.final_documents(tenant_id).latest_message(trip.itinerary_id)
            if latest is None:
                raise NothingToTell("No final itinerary has been issued for this trip (or it is past its "
                                    "retention).")
            return latest, None
        if kind in ("trip_changes", "bookings_confirmed"):
            topic = "changes" if kind == "trip_changes" else "bookings"
            digest = await uow.change_digests(tenant_id).open_for(trip.itinerary_id, topic)
            _, details = await self._digest_message(uow.read_models(tenant_id), trip, digest or {"topic": topic})
            if details is None:
                raise NothingToTell("Nothing is waiting to be told: no change (or confirmation) since the last "
                                    "message.")
            return details, digest["due_at"]
        hours = await self._reminder_hours(tenant_id)
        planned = [reminder for reminder in reminders.schedule(trip.items or [], **hours, home_zone=home_zone)
                   if reminder.kind == kind and (day is None or reminder.key == day)]
        if not planned:
            raise NothingToTell("This trip has no such reminder: it needs timed items (and, for a day summary, "
                                "items on that day after the first).")
        return planned[0].details, planned[0].due_at

    async def _honour_preferences(self, uow: NotifyUnitOfWork, notification: Notification) -> None:
        """A kind the client stopped is recorded as opted out; one they may stop says how, in one click."""
        if notification.kind not in OPTIONAL_KINDS or notification.status in ("waiting_for_contact", "cancelled"):
            return
        preferences = await uow.message_preferences(notification.tenant_id).get(notification.customer_id)
        if not preferences.allows(notification.kind):
            notification.opted_out()
        elif self.links is not None and notification.status == "pending":
            notification.offer_unsubscribe(self.links.unsubscribe_url(notification.tenant_id,
                                                                      notification.customer_id, notification.kind))


URGENT_FIELDS = ("itinerary_id", "customer_id", "kind", "subject", "status", "escalate_at", "acknowledged_at")


def _urgent(tenant_id: str, document: dict, version: int) -> dict:
    """The envelope of an urgent message's announcement (sent: version 1, read: 2), from its stored fields."""
    return {"tenant_id": tenant_id, "aggregate_id": document["_id"], "aggregate_version": version,
            "trip_id": document["itinerary_id"], "producer": "notify",
            "data": UrgentMessage(notification_id=document["_id"],
                                  **{name: document.get(name) for name in URGENT_FIELDS})}


def _current_trace() -> dict[str, str]:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


async def send_due_digests(transaction: Transaction, due: DueDigests, handlers: NotifyHandlers,
                           now: datetime | None = None) -> int:
    """Send every digest whose trip has been quiet long enough, each in its own transaction."""
    sent = 0
    for digest in await due.due(now or utc_now()):
        await transaction(lambda uow, digest=digest: handlers.tell_digest(uow, digest["tenant_id"], digest["_id"]))
        sent += 1
    return sent


async def send_due_reminders(transaction: Transaction, trips: ActiveTrips, handlers: NotifyHandlers,
                             now: datetime | None = None) -> int:
    """The reminder clock: every trip that may have one due, each in its own transaction."""
    now, sent = now or utc_now(), 0
    for trip in await trips.listed(reminders.REMINDER_STAGES):
        sent += await transaction(lambda uow, trip=trip: handlers.remind(uow, trip["tenant_id"], trip["_id"], now))
    return sent


async def escalate_unacknowledged(transaction: Transaction, due: UnacknowledgedUrgent, handlers: NotifyHandlers,
                                  now: datetime | None = None) -> int:
    now = now or utc_now()
    found = await due.due(now)
    for document in found:
        await transaction(lambda uow, d=document: handlers.escalate(uow, d["tenant_id"], d["_id"], now))
    return len(found)


async def announce_delivery_problems(transaction: Transaction, due: DueAnnouncements) -> int:
    """Tell the trip (its planner) of each client message that cannot reach them, and of each that did after all."""
    found = await due.due()
    for document in found:
        await transaction(lambda uow, d=document: announce_delivery(uow, d["tenant_id"], d["_id"]))
    return len(found)


async def announce_delivery(uow: NotifyUnitOfWork, tenant_id: str, notification_id: str) -> None:
    repository = uow.notifications(tenant_id)
    document = await repository.take_announcement(notification_id)
    if document is None:
        return
    notification, announced = from_document(document), bool(document.get("undeliverable_announced"))
    if notification.undeliverable and not announced:
        contract = NotificationUndeliverable
    elif announced and notification.status in ("sent", "delivered"):
        contract = NotificationRecovered
    else:
        return
    version = int(document.get("announcements") or 0) + 1
    problem = DeliveryProblem(
        notification_id=notification.id, itinerary_id=notification.itinerary_id or "",
        customer_id=notification.customer_id, kind=notification.kind,
        channel="sms" if notification.channel == "sms" else "email", subject=notification.subject,
        reason=notification.status if notification.undeliverable else (document.get("undeliverable_reason")
                                                                         or "failed"),
        error=notification.last_error)
    uow.emit(contract(tenant_id=tenant_id, aggregate_id=notification.id, aggregate_version=version,
                      trip_id=notification.itinerary_id, producer="notify", data=problem))
    await repository.announced(notification.id, contract is NotificationUndeliverable, version,
                               notification.status if notification.undeliverable else None)


async def record_mail_reports(transaction: Transaction, dispatcher: Dispatcher, tenant_id: str,
                              raw: bytes) -> list[dict]:
    """A mail server's delivery report on the agency's messages: each bounce (or delivery) it names moves the
    notification it answers, matched by id and Message-ID; what matches nothing of this agency changes nothing."""
    outcomes = []
    for report in bounces.parse_report(raw):
        document = await transaction(lambda uow, r=report: uow.notifications(tenant_id).get(r.notification_id),
                                     read_only=True)
        moved = bool(document) and document.get("message_id") == report.message_id and \
            await dispatcher.queue.record_report(report.notification_id, report.message_id, report.status,
                                                 f"the mail server reports {report.detail}" if report.status ==
                                                 "bounced" else None, utc_now())
        outcomes.append({"notification_id": report.notification_id, "status": report.status, "recorded": moved})
    return outcomes


async def agreement_to_answer(transaction: Transaction, tenant_id: str, agreement_id: str,
                              customer_id: str) -> tuple[dict, Trip | None, str]:
    """What the client is asked to agree to, the trip, and their language, for the answer page."""
    async def work(uow: NotifyUnitOfWork):
        agreement = await uow.agreements(tenant_id).get(agreement_id)
        if agreement is None:
            raise NotFoundError("This change is no longer waiting for an answer.", code="agreement-not-found")
        trip, _ = await uow.read_models(tenant_id).trip(agreement["itinerary_id"])
        contact = await uow.read_models(tenant_id).contact(customer_id)
        return agreement, trip, contact.preferred_language if contact else "en"

    return await transaction(work, read_only=True)


async def answer_agreement(transaction: Transaction, handlers: NotifyHandlers, tenant_id: str, agreement_id: str,
                           customer_id: str, answer: str) -> None:
    await transaction(lambda uow: handlers.answer_agreement(uow, tenant_id, agreement_id, customer_id, answer))


async def acknowledge(transaction: Transaction, tenant_id: str, notification_id: str) -> dict:
    """The client confirmed reading an urgent message (from its link); the subject, for the page."""
    async def work(uow: NotifyUnitOfWork) -> dict:
        repository = uow.notifications(tenant_id)
        document = await repository.get(notification_id)
        if document is None:
            raise NotFoundError("This message no longer exists.", code="notification-not-found")
        now = utc_now()
        if await repository.acknowledge(notification_id, now) and document.get("itinerary_id"):
            uow.emit(UrgentMessageAcknowledged(**_urgent(tenant_id, {**document, "acknowledged_at": now}, 2)))
        return document

    return await transaction(work)


async def list_notifications(transaction: Transaction, tenant_id: str, filters: dict, limit: int) -> list[dict]:
    async def work(uow: NotifyUnitOfWork):
        return await uow.notifications(tenant_id).search(filters, limit)

    return await transaction(work)


async def get_notification(transaction: Transaction, tenant_id: str, notification_id: str) -> dict:
    async def work(uow: NotifyUnitOfWork):
        return await uow.notifications(tenant_id).get(notification_id)

    found = await transaction(work)
    if found is None:
        raise NotFoundError(f"No notification {notification_id}.", code="notification-not-found")
    return found


async def retry_notification(transaction: Transaction, dispatcher: Dispatcher, tenant_id: str,
                             notification_id: str) -> dict:
    async def work(uow: NotifyUnitOfWork):
        repository = uow.notifications(tenant_id)
        document = await repository.get(notification_id)
        if document is None:
            raise NotFoundError(f"No notification {notification_id}.", code="notification-not-found")
        notification = from_document(document)
        notification.retry()
        await repository.replace(notification)
        uow.on_commit(lambda: dispatcher.send_now([notification_id]))

    await transaction(work)
    return await get_notification(transaction, tenant_id, notification_id)


async def record_sms_report(transaction: Transaction, dispatcher: Dispatcher, notification_id: str,
                            url: str, params: dict[str, str], signature: str | None) -> bool:
    """The SMS provider's delivery report for one text; False when it is not genuinely the provider's."""
    if dispatcher.sms is None or not dispatcher.sms.report_is_genuine(url, params, signature):
        return False
    status = channels.REPORTED.get(params.get("MessageStatus", ""))
    if status is None:
        return True  # queued, sending, sent: the log already says sent
    error = f"the provider reports {params['MessageStatus']} (error {params['ErrorCode']})" \
        if params.get("ErrorCode") else None
    await dispatcher.queue.record_report(notification_id, params.get("MessageSid", ""), status, error, utc_now())
    return True


async def resend_notification(transaction: Transaction, handlers: NotifyHandlers, tenant_id: str,
                              notification_id: str) -> dict:
    """Send a message again as a new delivery: a client's to where they can be reached now, in today's words (the
    agency's current contacts), with the same links; a supplier's or the agency's exactly as it was."""
    async def work(uow: NotifyUnitOfWork) -> str:
        repository = uow.notifications(tenant_id)
        document = await repository.get(notification_id)
        if document is None:
            raise NotFoundError(f"No notification {notification_id}.", code="notification-not-found")
        original = from_document(document)
        number = await repository.count_resend(notification_id, int(document.get("resends") or 0))
        again = original.resent_as(f"{notification_id}:resend:{number}")
        if original.audience == "client":
            models = uow.read_models(tenant_id)
            trip, _ = await models.trip(original.itinerary_id or "")
            await handlers._address(uow, again, await models.contact(original.customer_id),
                                    trip or Trip(original.itinerary_id or "", ""), channel=original.channel)
            await handlers._honour_preferences(uow, again)
            if url := original.details.get("acknowledgement_url"):
                again.carry_acknowledgement_link(url)
        handlers._send_after_commit(uow, await handlers._record(uow, again))
        return again.id

    return await get_notification(transaction, tenant_id, await transaction(work))


PREVIEWABLE = ("poc_assigned", "trip_changes", "bookings_confirmed", "final_itinerary", *reminders.KINDS)


@dataclass(frozen=True)
class Preview:
    notification: Notification
    due_at: datetime | None = None  # a reminder's time


async def preview_message(transaction: Transaction, handlers: NotifyHandlers, tenant_id: str, itinerary_id: str,
                          kind: str, customer_id: str | None = None, day: str | None = None) -> Preview:
    """The message of ``kind`` this trip's client would get now, exactly as it would go (channel, address,
    words, links), without sending or recording anything."""
    async def work(uow: NotifyUnitOfWork) -> Preview:
        models = uow.read_models(tenant_id)
        trip, members = await models.trip(itinerary_id)
        if trip is None:
            raise NotFoundError("Notify does not know this trip (yet).", code="trip-not-found")
        on_trip = {member["customer_id"] for member in members} | set(trip.travellers or [])
        recipient = customer_id or next((m["customer_id"] for m in members if m["is_poc"]), None)
        if recipient is None or recipient not in on_trip:
            raise NotFoundError("Name a customer on this trip (it has no point of contact yet)."
                                if recipient is None else f"Customer {recipient} is not on this trip.",
                                code="not-on-trip")
        contact = await models.contact(recipient)
        details, due_at = await handlers.preview_details(uow, tenant_id, trip, kind, day,
                                                         contact.home_timezone if contact else None)
        notification = Notification(id=f"preview:{kind}:{itinerary_id}:{recipient}", tenant_id=tenant_id,
                                    kind=kind, itinerary_id=itinerary_id, customer_id=recipient,
                                    source_event_id="preview", trace_context={}, details=details)
        await handlers._address(uow, notification, contact, trip)
        await handlers._honour_preferences(uow, notification)
        if handlers.links is not None and details.get("urgent"):
            notification.ask_acknowledgement(handlers.links.acknowledgement_url(tenant_id, notification.id),
                                             handlers.digests.acknowledge_within)
        return Preview(notification, due_at)

    return await transaction(work, read_only=True)


# --- the in-app feed --------------------------------------------------------------------------------------------

def feed_cursor(document: dict) -> str:
    return f"{document['created_at'].isoformat()}|{document['_id']}"


def _after(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    at, _, last_id = cursor.partition("|")
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise DomainError("This cursor was not given by this feed.", code="invalid-cursor") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)), last_id


async def trip_feed(transaction: Transaction, agencies: AgencyDirectory, tenant_id: str, itinerary_id: str,
                    language: str, cursor: str | None = None, limit: int = 50) -> list[tuple[str, feed.FeedEntry]]:
    """The trip's shared news, oldest first, once per piece of news, each with the cursor to follow from."""
    after = _after(cursor)

    async def work(uow: NotifyUnitOfWork):
        trip, _ = await uow.read_models(tenant_id).trip(itinerary_id)
        if trip is None:
            raise NotFoundError("Notify does not know this trip (yet).", code="trip-not-found")
        found = await uow.notifications(tenant_id).messages(
            {"itinerary_id": itinerary_id, "kind": {"$in": list(feed.TRIP_WIDE_KINDS)}}, after, limit)
        return trip, found

    trip, found = await transaction(work, read_only=True)
    agency = await agencies.for_tenant(tenant_id)
    zone = feed.trip_zone(trip, agency.timezone if agency else None)
    # One entry per piece of news, placed (and its cursor taken) at its last copy, so that following from any
    # entry's cursor brings no copy of what was already shown.
    latest: dict[str, tuple[int, str, feed.FeedEntry]] = {}
    for position, document in enumerate(found):
        entry = latest[key][2] if (key := f"{document['kind']}:{document['source_event_id']}") in latest else \
            feed.feed_entry(document["kind"], document["source_event_id"], document.get("details") or {}, trip,
                            language, document["created_at"], zone)
        latest[key] = (position, feed_cursor(document), entry)
    return [(cursor, entry) for _, cursor, entry in sorted(latest.values(), key=lambda placed: placed[0])]


async def customer_messages(transaction: Transaction, tenant_id: str, customer_id: str, cursor: str | None = None,
                            limit: int = 50) -> list[tuple[str, dict]]:
    """Everything sent to one customer, across trips, oldest first (the support desk's view of their inbox)."""
    found = await transaction(lambda uow: uow.notifications(tenant_id).messages(
        {"customer_id": customer_id}, _after(cursor), limit), read_only=True)
    return [(feed_cursor(document), document) for document in found]


# --- the agency's own platforms, subscribed to its messages ----------------------------------------------------

async def add_webhook_endpoint(transaction: Transaction, tenant_id: str, url: str, kinds: list[str],
                               description: str | None) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(id="whe_" + secrets.token_hex(8), url=url, kinds=list(dict.fromkeys(kinds)),
                               description=description)
    await transaction(lambda uow: uow.webhook_endpoints(tenant_id).save(endpoint))
    return endpoint


async def webhook_endpoints(transaction: Transaction, tenant_id: str) -> list[WebhookEndpoint]:
    return await transaction(lambda uow: uow.webhook_endpoints(tenant_id).listed(), read_only=True)


async def rotate_webhook_secret(transaction: Transaction, tenant_id: str, endpoint_id: str) -> WebhookEndpoint:
    """A new secret from now on: deliveries already queued keep the one they were made with."""
    async def work(uow: NotifyUnitOfWork) -> WebhookEndpoint:
        endpoint = await uow.webhook_endpoints(tenant_id).get(endpoint_id)
        if endpoint is None:
            raise NotFoundError(f"No webhook endpoint {endpoint_id}.", code="webhook-endpoint-not-found")
        endpoint.rotate_secret()
        await uow.webhook_endpoints(tenant_id).save(endpoint)
        return endpoint

    return await transaction(work)


async def remove_webhook_endpoint(transaction: Transaction, tenant_id: str, endpoint_id: str) -> None:
    """No new message is posted to it; what is already in its queue still goes (or fails), in the log."""
    async def work(uow: NotifyUnitOfWork) -> None:
        if not await uow.webhook_endpoints(tenant_id).remove(endpoint_id):
            raise NotFoundError(f"No webhook endpoint {endpoint_id}.", code="webhook-endpoint-not-found")

    await transaction(work)


# --- the agency's profile ----------------------------------------------------------------------------------------

async def get_agency_profile(transaction: Transaction, tenant_id: str,
                             directory: AgencyDirectory) -> AgencyProfileRecord | None:
    """The profile the agency saved, else the one the setting gives (version 0), else None."""
    saved = await transaction(lambda uow: uow.agency_profile(tenant_id).get(), read_only=True)
    if saved is not None:
        return saved
    configured = await directory.for_tenant(tenant_id)
    if configured is None:
        return None
    return AgencyProfileRecord(**{name: getattr(configured, name) for name in AgencyProfileRecord.field_names()})


async def save_agency_profile(transaction: Transaction, tenant_id: str, given: dict,
                              directory: AgencyDirectory) -> AgencyProfileRecord:
    """Replace the agency's profile and announce it: itinerary and booking keep a copy for pages and PDFs."""
    async def work(uow: NotifyUnitOfWork) -> AgencyProfileRecord:
        current = await uow.agency_profile(tenant_id).get() or AgencyProfileRecord(name="")
        updated = current.replaced_by(given)
        await uow.agency_profile(tenant_id).save(updated)
        event = AgencyProfileChanged(tenant_id=tenant_id, aggregate_id=tenant_id, aggregate_version=updated.version,
                                     producer="notify", data=AgencyProfileData(**{
                                         name: getattr(updated, name) for name in AgencyProfileRecord.field_names()}))
        await record_agency_profile(event, uow)  # notify's own messages use it at once
        uow.emit(event)
        return updated

    updated = await transaction(work)
    directory.forget(tenant_id)
    return updated


# --- what each client chose not to get --------------------------------------------------------------------------

async def message_preferences(transaction: Transaction, tenant_id: str, customer_id: str) -> MessagePreferences:
    return await transaction(lambda uow: uow.message_preferences(tenant_id).get(customer_id), read_only=True)


async def replace_message_preferences(transaction: Transaction, tenant_id: str, customer_id: str,
                                      opted_out: list[str], accepted_channels: list[str]) -> MessagePreferences:
    async def work(uow: NotifyUnitOfWork) -> MessagePreferences:
        preferences = await uow.message_preferences(tenant_id).get(customer_id)
        preferences.replace(opted_out)
        preferences.choose_channels(accepted_channels)
        await uow.message_preferences(tenant_id).save(preferences)
        return preferences

    return await transaction(work)


async def unsubscribe(transaction: Transaction, tenant_id: str, customer_id: str, kind: str) -> None:
    """One click from the message: that kind stops (again is harmless)."""
    async def work(uow: NotifyUnitOfWork) -> None:
        preferences = await uow.message_preferences(tenant_id).get(customer_id)
        if preferences.opt_out(kind):
            await uow.message_preferences(tenant_id).save(preferences)

    await transaction(work)


async def contact_language(transaction: Transaction, tenant_id: str, customer_id: str) -> str:
    contact = await transaction(lambda uow: uow.read_models(tenant_id).contact(customer_id), read_only=True)
    return contact.preferred_language if contact and contact.preferred_language in ("en", "zh-Hans") else "en"
