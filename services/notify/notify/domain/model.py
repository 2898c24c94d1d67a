"""Who is told what, in which words, and the life of one delivery. Plain Python: no I/O."""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from email.utils import formataddr
from typing import Literal

from notify.domain.booking_news import render_confirmations, render_lost
from notify.domain.channels import listed_facts, primary_channel, sms_text
from notify.domain.complaint_messages import KINDS as COMPLAINT_KINDS
from notify.domain.complaint_messages import render_complaint
from notify.domain.preferences import unsubscribe_line
from notify.domain.reminders import KINDS as REMINDER_KINDS
from notify.domain.reminders import render_reminder
from notify.domain.supplier_messages import render_supplier, webhook_payload
from notify.domain.survey_messages import KINDS as SURVEY_KINDS
from notify.domain.survey_messages import render_survey
from notify.domain.trip_changes import TripChange, describe
from trip_shared.agency import AgencyProfile
from trip_shared.clock import utc_now
from trip_shared.errors import ConflictError

Status = Literal["pending", "sending", "sent", "delivered", "bounced", "failed", "waiting_for_contact", "no_address",
                 "cancelled", "opted_out"]
UNDELIVERABLE = ("no_address", "bounced", "failed")
CHANNELS = ("email", "sms", "webhook")
RESENDABLE = ("sent", "delivered", "bounced", "failed")
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(minutes=10)
# Longer than a send can take (the SMTP timeout), short enough that a crashed sender's claim lapses soon.
SEND_LEASE = timedelta(seconds=30)


@dataclass
class Contact:
    customer_id: str
    first_name: str
    last_name: str | None = None
    emails: list[str] = field(default_factory=list)
    preferred_language: str = "en"
    status: str = "active"
    phones: list[str] = field(default_factory=list)
    home_timezone: str | None = None  # where they are before the trip: when its reminders reach them

    @property
    def full_name(self) -> str:
        return " ".join(filter(None, [self.first_name, self.last_name]))


@dataclass
class Trip:
    itinerary_id: str
    title: str
    start_date: date | None = None
    end_date: date | None = None
    stage: str = "inquiry"
    travellers: list[str] | None = None  # every linked customer, as the itinerary last listed them
    items: list[dict] | None = None  # each as the itinerary publishes it for others: no notes
    reminded: list[str] = field(default_factory=list)  # reminders already sent, "kind:key"

    @property
    def item_ids(self) -> list[str]:
        return [item["item_id"] for item in self.items or []]

    @property
    def required_items(self) -> list[str]:
        """The items that need a confirmed booking."""
        return [item["item_id"] for item in self.items or [] if item.get("requires_booking")]


@dataclass
class Notification:
    id: str
    tenant_id: str
    kind: str
    itinerary_id: str | None
    customer_id: str  # the recipient: a customer, or for a supplier message the supplier
    source_event_id: str
    trace_context: dict
    details: dict = field(default_factory=dict)
    status: Status = "waiting_for_contact"
    recipient: str | None = None
    language: str = "en"
    subject: str = ""
    body: str = ""
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime = field(default_factory=utc_now)
    created_at: datetime = field(default_factory=utc_now)
    # When what asked for the message happened (the event's time; for a resend or a clock's message, its
    # creation): the time to send is counted from it.
    requested_at: datetime | None = None
    sent_at: datetime | None = None
    audience: str = "client"  # or "supplier", "agency" (its own staff), "platform" (its own systems, by webhook)
    # "email"; "sms" (recipient is a phone number, body the text); or "webhook" (body is the JSON posted to
    # recipient, signed when sent).
    channel: str = "email"
    sender: str | None = None  # the agency's From (the platform's when it has none) and Reply-To
    reply_to: str | None = None
    # Urgent news asks the client to say they read it; unread by escalate_at, the planner is told.
    escalate_at: datetime | None = None
    acknowledged_at: datetime | None = None
    escalated_at: datetime | None = None

    @property
    def undeliverable(self) -> bool:
        """A client's trip message that will not reach them as it stands: the planner should hear of it."""
        return self.status in UNDELIVERABLE and self.audience == "client" and bool(self.itinerary_id)

    def _from_agency(self, agency: AgencyProfile | None) -> None:
        if agency is not None:
            self.sender = formataddr((agency.name, agency.sender_email)) if agency.sender_email else None
            self.reply_to = agency.reply_to

    def address_supplier(self, booking: dict, message: dict, agency: AgencyProfile | None) -> None:
        """A supplier message goes to the address the booking service gave, in the supplier's language; a webhook
        supplier's is JSON for its system."""
        self.audience, self.language = "supplier", message.get("language") or "en"
        self._from_agency(agency)
        if message.get("channel") == "webhook":
            self.channel, self.recipient = "webhook", message.get("webhook_url")
            self.subject = f"{self.kind} {booking.get('booking_id')}"
            self.body = json.dumps(webhook_payload(self.kind, booking, message, agency), ensure_ascii=False)
            self.status = "pending" if self.recipient else "no_address"
            self.next_attempt_at = utc_now()
            return
        self.subject, self.body = render_supplier(self.kind, self.language, booking, message, agency)
        self.recipient = message.get("email")
        if not self.recipient:
            self.status = "no_address"
            return
        self.status, self.next_attempt_at = "pending", utc_now()

    def address_internal(self, address: str | None, subject: str, body: str) -> None:
        """A message to the agency's own staff (an escalation): in English, to the address its settings give."""
        self.audience, self.language, self.subject, self.body = "agency", "en", subject, body
        self.recipient = address
        if not address:
            self.status = "no_address"
            return
        self.status, self.next_attempt_at = "pending", utc_now()

    def address(self, contact: Contact | None, trip: Trip | None, agency: AgencyProfile | None = None, *,
                accepted: tuple[str, ...] | list[str] = ("email",), sms_available: bool = False,
                channel: str | None = None, trip_url: str | None = None) -> None:
        """Decide where it goes and in which words: by ``channel``, else the first ``accepted`` channel that reaches
        the contact (a message naming its own ``to_address``, like the confirmation of a new address, is e-mail to
        that address); a trip's message links to its live itinerary (``trip_url``). It waits, visibly, until there
        is somewhere to send it."""
        if contact is None:
            self.status = "waiting_for_contact"
            return
        # A message about what the client wrote answers in the language they wrote it in.
        self.language = self.details.get("language") or contact.preferred_language
        self._from_agency(agency)
        self.subject, body = render(self.kind, self.language, contact, trip, self.details)
        self.channel = "email" if self.details.get("to_address") else (
            channel or primary_channel(contact, list(accepted), sms_available))
        if self.channel == "sms":
            self.recipient = contact.phones[0] if contact.phones else None
            self.body = sms_text(self.subject, listed_facts(body), self.details.get("url") or trip_url, agency,
                                 self.language)
        else:
            self.body = signed(with_trip_link(body, trip_url, self.language), agency, self.language)
            self.recipient = self.details.get("to_address") or (contact.emails[0] if contact.emails else None)
        if not self.recipient:
            self.status = "no_address"
            return
        self.status = "pending"
        self.next_attempt_at = utc_now()

    def opted_out(self) -> None:
        """The client stopped this kind of message: recorded, not sent."""
        self.status, self.last_error = "opted_out", "the customer opted out of this kind of message"

    def offer_unsubscribe(self, url: str) -> None:
        """A message the client may stop carries its one-click unsubscribe link (RFC 8058) and says so."""
        self.details = {**self.details, "unsubscribe_url": url}
        if self.channel == "sms":  # a text is stopped by replying STOP, which the provider handles
            return
        self.body = self.body.rstrip("\n") + "\n\n" + unsubscribe_line(url, self.kind, self.language) + "\n"

    def ask_acknowledgement(self, url: str, within: timedelta) -> None:
        """Urgent news carries an "I have read this" link; unread (or undeliverable) by then, it escalates."""
        self.escalate_at = utc_now() + within
        self.carry_acknowledgement_link(url)

    def carry_acknowledgement_link(self, url: str) -> None:
        self.details = {**self.details, "acknowledgement_url": url}
        if self.status != "pending":
            return
        line = (f"请点击确认您已阅读：{url}" if self.language == "zh-Hans" else
                f"Please confirm you have read this: {url}")
        if self.channel == "sms":
            self.body = f"{self.body}\n{line}"
        elif "\n\n-- \n" in self.body:
            self.body = self.body.replace("\n\n-- \n", f"\n\n{line}\n\n-- \n", 1)
        else:
            self.body = self.body.rstrip("\n") + f"\n\n{line}\n"

    def failed_attempt(self, error: str) -> None:
        """The mail server took the connection but not this message, for now: that counts as an attempt."""
        self.attempts += 1
        self.last_error = error[:500]
        if self.attempts >= MAX_ATTEMPTS:
            self.status = "failed"
        else:
            self.status = "pending"
            self.next_attempt_at = utc_now() + retry_delay(self.attempts)

    def refused(self, error: str) -> None:
        """The mail server refused this message for good (an unknown mailbox, say): retrying cannot help."""
        self.attempts += 1
        self.last_error = error[:500]
        self.status = "failed"

    def channel_unavailable(self, error: str) -> None:
        """The mail server could not be reached: not this message's fault, so no attempt is counted. It goes as
        soon as the server is back (the dispatcher watches for that)."""
        self.status = "pending"
        self.last_error = f"waiting for the mail server: {error}"[:500]

    def resent_as(self, new_id: str) -> Notification:
        """The same message again, as a new delivery (the client says it never arrived, or it bounced): the
        original stays in the log as it was."""
        if self.status not in RESENDABLE:
            raise ConflictError(f"Only a message that was sent, or failed, can be sent again; this one is "
                                f"{self.status}.", code="not-resendable")
        now = utc_now()
        return replace(self, id=new_id, status="pending", attempts=0, last_error=None, next_attempt_at=now,
                       created_at=now, requested_at=now, sent_at=None, escalate_at=None, acknowledged_at=None,
                       escalated_at=None,
                       details={**self.details, "resend_of": self.id})

    def retry(self) -> None:
        """An operator sends a failed notification again (after fixing the address, say)."""
        if self.status != "failed":
            raise ConflictError(f"Only a failed notification can be retried; this one is {self.status}.",
                                code="not-failed")
        self.status, self.attempts, self.next_attempt_at = "pending", 0, utc_now()


def retry_delay(attempts: int) -> timedelta:
    return min(MAX_BACKOFF, timedelta(seconds=2 ** attempts))


def notification_id(event_id: str, customer_id: str, kind: str) -> str:
    """Deterministic, so a redelivered event can never create a second notification."""
    return f"{kind}:{event_id}:{customer_id}"


def _dates(trip: Trip, language: str) -> str:
    if not trip.start_date:
        return ""
    if language == "zh-Hans":
        end = f" 至 {trip.end_date.isoformat()}" if trip.end_date else ""
        return f"（{trip.start_date.isoformat()}{end}）"
    end = f" to {trip.end_date.isoformat()}" if trip.end_date else ""
    return f" ({trip.start_date.isoformat()}{end})"


def with_trip_link(body: str, url: str | None, language: str) -> str:
    if not url:
        return body
    line = f"您的行程（随时更新）：{url}" if language == "zh-Hans" else f"Your itinerary, always up to date: {url}"
    return body.rstrip("\n") + f"\n\n{line}\n"


def signed(body: str, agency: AgencyProfile | None, language: str) -> str:
    """Every message ends with who the agency is and how to reach it during the trip."""
    if agency is None:
        return body
    closing = f"\n\n{agency.signature}" if agency.signature else ""
    return body.rstrip("\n") + closing + "\n\n-- \n" + "\n".join(agency.support_lines(language)) + "\n"


def render(kind: str, language: str, contact: Contact, trip: Trip | None,
           details: dict | None = None) -> tuple[str, str]:
    """Subject and plain-text body in the customer's language (English or Simplified Chinese)."""
    details = details or {}
    if kind == "profile_form":
        url, until = details.get("url", ""), str(details.get("expires_at", ""))[:10]
        if language == "zh-Hans":
            return ("请完善您的旅行资料",
                    f"{contact.first_name}，您好：\n\n请通过以下链接核对并补充您的资料和旅行偏好（{until} 前有效）：\n"
                    f"{url}\n\n如有任何问题，请直接回复此邮件。\n")
        return ("Please complete your travel profile",
                f"Dear {contact.first_name},\n\nPlease check and complete your details and travel wishes here "
                f"(the link works until {until}):\n{url}\n\nIf anything is unclear, just reply to this e-mail.\n")
    if kind == "email_confirmation":
        url, until = details.get("url", ""), str(details.get("expires_at", ""))[:10]
        if language == "zh-Hans":
            return ("请确认您的电子邮箱",
                    f"{contact.first_name}，您好：\n\n您在旅行资料中填写了此邮箱。"
                    f"请通过以下链接确认（{until} 前有效）；确认后，我们会将行程相关邮件发送到此地址：\n{url}\n\n"
                    "如果这不是您本人的操作，请忽略此邮件。\n")
        return ("Please confirm your e-mail address",
                f"Dear {contact.first_name},\n\nThis address was given on your travel profile. Please confirm it "
                f"here (the link works until {until}); we will then send your trip messages to it:\n{url}\n\n"
                "If this was not you, just ignore this e-mail.\n")
    trip = trip or Trip("", "")
    dates = _dates(trip, language)
    if kind in REMINDER_KINDS:
        return render_reminder(kind, language, contact.first_name, trip.title, dates, details)
    if kind in COMPLAINT_KINDS:
        return render_complaint(kind, language, contact.first_name, trip.title, details)
    if kind in SURVEY_KINDS:
        return render_survey(kind, language, contact.first_name, trip.title, details)
    if kind == "bookings_confirmed":
        return render_confirmations(language, contact.first_name, trip.title, dates, details)
    if kind == "booking_lost":
        return render_lost(language, contact.first_name, trip.title, details)
    if kind == "proposal":
        url, until = details.get("url", ""), str(details.get("expires_at", ""))[:10]
        options = "\n".join(f"  - {o['title']}: " + ", ".join(f"{amount} {currency}" for currency, amount
                                                               in o.get("prices", {}).items())
                            for o in details.get("options", []))
        note = f"\n{details['message']}\n" if details.get("message") else ""
        if language == "zh-Hans":
            return (f"行程「{trip.title}」的方案等待您确认",
                    f"{contact.first_name}，您好：\n\n您的旅行顾问为行程「{trip.title}」{dates}准备了以下方案：\n"
                    f"{options}\n{note}\n请通过以下链接查看详情，确认其中一个方案或提出修改意见（{until} 前有效，"
                    f"此链接仅供您本人使用）：\n{url}\n")
        return (f"Your proposal for {trip.title} is ready",
                f"Dear {contact.first_name},\n\nYour planner has prepared these options for \"{trip.title}\"{dates}:"
                f"\n{options}\n{note}\nSee them day by day, approve one or tell us what to change here (the link "
                f"works until {until} and is for you only):\n{url}\n")
    if kind == "proposal_answered":
        approved = details.get("outcome") == "approved"
        option = details.get("option_title") or ""
        if language == "zh-Hans":
            what = f"已确认方案「{option}」，我们将开始预订。" if approved else "已提出修改意见，我们会尽快发送新方案。"
            return (f"行程「{trip.title}」：{'方案已确认' if approved else '已收到修改意见'}",
                    f"{contact.first_name}，您好：\n\n行程「{trip.title}」{dates}{what}\n\n如有任何问题，请直接回复此邮件。\n")
        what = f"option \"{option}\" was approved; we are booking it now." if approved else \
            "changes were requested; a new proposal will follow."
        return (f"{trip.title}: {'approved' if approved else 'changes requested'}",
                f"Dear {contact.first_name},\n\nFor the trip \"{trip.title}\"{dates}, {what}\n\n"
                f"If anything is unclear, just reply to this e-mail.\n")
    if kind == "trip_changes":
        lines = [line for change in details.get("changes", [])
                 if (line := describe(TripChange.of(change), language, trip.title))]
        listed = "\n".join(f"  - {line}" for line in lines)
        urgent = details.get("urgent")
        if language == "zh-Hans":
            return (f"{'重要：' if urgent else ''}您的行程「{trip.title}」有变动",
                    f"{contact.first_name}，您好：\n\n自您确认以来，行程「{trip.title}」{dates}有以下变动：\n{listed}\n\n"
                    "如有任何变动不适合您，请直接回复此邮件或致电我们。\n")
        return (f"{'Important: ' if urgent else ''}Changes to your trip {trip.title}",
                f"Dear {contact.first_name},\n\nYour trip \"{trip.title}\"{dates} has changed since you approved it:\n"
                f"{listed}\n\nIf any of this does not work for you, reply to this e-mail or call us.\n")
    if kind == "change_agreement":
        lines = [line for change in details.get("changes", [])
                 if (line := describe(TripChange.of(change), language, trip.title))]
        listed = "\n".join(f"  - {line}" for line in lines)
        url, reason = details.get("url", ""), details.get("reason")
        if language == "zh-Hans":
            why = f"\n原因：{reason}\n" if reason else ""
            return (f"请确认行程「{trip.title}」的变动",
                    f"{contact.first_name}，您好：\n\n行程「{trip.title}」{dates}需要以下变动，需征得您的同意：\n{listed}\n{why}\n"
                    f"请通过此链接告诉我们：同意，或希望我们致电您商量（此链接仅供您本人使用）：\n{url}\n")
        why = f"\nWhy: {reason}\n" if reason else ""
        return (f"Please confirm a change to your trip {trip.title}",
                f"Dear {contact.first_name},\n\nYour trip \"{trip.title}\"{dates} needs this change, and we need your "
                f"agreement:\n{listed}\n{why}\nPlease tell us here whether you agree, or would like us to call you "
                f"first (the link is for you only):\n{url}\n")
    if kind == "final_itinerary":
        return _final_itinerary(language, contact.first_name, trip.title, dates, details)
    if kind == "poc_assigned":
        if language == "zh-Hans":
            return (
                f"您是行程「{trip.title}」的联系人",
                f"{contact.first_name}，您好：\n\n您已被指定为行程「{trip.title}」{dates}的联系人。"
                f"我们会将行程的更新、预订确认和重要通知发送给您。\n\n如有任何问题，请直接回复此邮件。\n",
            )
        return (
            f"You are the point of contact for {trip.title}",
            f"Dear {contact.first_name},\n\nYou are now the point of contact for the trip \"{trip.title}\"{dates}. "
            f"We will send you its updates, booking confirmations and anything else you need to know.\n\n"
            f"If anything is unclear, just reply to this e-mail.\n",
        )
    raise ValueError(f"unknown notification kind {kind!r}")


def attached_file_names(details: dict, language: str) -> list[str]:
    """The final itinerary's files a reader gets: those in their language, else the English ones."""
    files = details.get("files") or {}
    return files.get(language) or files.get("en") or []


def _final_itinerary(language: str, first_name: str, title: str, dates: str, details: dict) -> tuple[str, str]:
    """The final itinerary's covering e-mail: what is attached and what each file is for, the planner's note, and
    what to check."""
    files = attached_file_names(details, language)
    reissued = details.get("reason") == "reissued"
    note = f"\n{details['note']}\n" if details.get("note") else ""
    left_out = bool(details.get("left_out"))
    if language == "zh-Hans":
        uses = {".pdf": "逐日行程，可打印或保存在手机上", ".ics": "日历文件，可将每项安排按当地时间加入您的日历"}
        listed = "\n".join(f"  - {name}：{uses.get(name[-4:], '')}" for name in files)
        big = "\n行程 PDF 文件较大，未随邮件附上，请在下方的行程页面下载。\n" if left_out else ""
        opening = (f"行程「{title}」{dates}已更新，附上最新的行程文件：" if reissued else
                   f"行程「{title}」{dates}的所有服务均已确认。附上您的最终行程：")
        return (f"{'更新的' if reissued else ''}最终行程：{title}",
                f"{first_name}，您好：\n\n{opening}\n{listed}\n{note}{big}\n"
                "请核对出行人姓名与护照是否一致、日期是否正确；如有任何问题，请立即告诉我们。\n")
    uses = {".pdf": "your day-by-day itinerary, to print or keep on your phone",
            ".ics": "a calendar file that puts every item in your calendar, in local time"}
    listed = "\n".join(f"  - {name}: {uses.get(name[-4:], '')}" for name in files)
    big = ("\nThe PDF is too large to attach: download it from your itinerary page, linked below.\n"
           if left_out else "")
    opening = (f"Your trip \"{title}\"{dates} has been updated; here are your up-to-date documents:" if reissued
               else f"Everything for your trip \"{title}\"{dates} is confirmed. Your final itinerary is attached:")
    return (f"{'Your updated' if reissued else 'Your final'} itinerary: {title}",
            f"Dear {first_name},\n\n{opening}\n{listed}\n{note}{big}\nPlease check that the travellers' names "
            "match their passports and that the dates are right, and tell us at once if anything is not.\n")
