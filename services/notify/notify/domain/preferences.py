"""Which messages a client has chosen not to get. Plain Python: no I/O.

A client can stop the messages that are only nice to have; what they must know (their trip changed, a service fell
through, a proposal to answer, a link they asked for) cannot be switched off.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from notify.domain.channels import CHANNELS
from trip_shared.errors import DomainError

# Kinds a client may stop, each as the client reads it.
OPTIONAL_KINDS = {
    "poc_assigned": {"en": "being named a trip's point of contact", "zh-Hans": "被指定为行程联系人的通知"},
    "proposal_answered": {"en": "another traveller's answer to a proposal", "zh-Hans": "同行人对方案的答复"},
    "bookings_confirmed": {"en": "booking confirmation summaries", "zh-Hans": "预订确认汇总"},
    "reminder_7d": {"en": "the week-before reminder", "zh-Hans": "出发前一周的提醒"},
    "day_summary": {"en": "the evening summary of the next day", "zh-Hans": "每晚的次日行程摘要"},
    "survey": {"en": "satisfaction surveys", "zh-Hans": "满意度问卷"},
    "survey_reminder": {"en": "reminders of a survey", "zh-Hans": "问卷提醒"},
}
ESSENTIAL_KINDS = ("profile_form", "email_confirmation", "proposal", "trip_changes", "change_agreement",
                   "booking_lost", "reminder_72h", "reminder_24h", "final_itinerary", "complaint_received",
                   "complaint_offer")


class EssentialMessage(DomainError):
    code = "essential-message"
    title = "This message cannot be switched off"


class NoChannel(DomainError):
    code = "no-channel"
    title = "At least one channel is needed"


@dataclass
class MessagePreferences:
    customer_id: str
    opted_out: set[str] = field(default_factory=set)
    # The channels the client accepts, the one they prefer first: each message goes by the first that reaches them.
    channels: list[str] = field(default_factory=lambda: list(CHANNELS))

    def choose_channels(self, channels: list[str]) -> None:
        if not channels:
            raise NoChannel("Give at least one channel: essential messages must reach the client somehow.")
        self.channels = list(dict.fromkeys(channels))

    def allows(self, kind: str) -> bool:
        return kind not in self.opted_out

    def opt_out(self, kind: str) -> bool:
        """Stop ``kind``; False if it was already stopped."""
        self._check(kind)
        if kind in self.opted_out:
            return False
        self.opted_out.add(kind)
        return True

    def replace(self, kinds: list[str]) -> None:
        for kind in kinds:
            self._check(kind)
        self.opted_out = set(kinds)

    @staticmethod
    def _check(kind: str) -> None:
        if kind not in OPTIONAL_KINDS:
            raise EssentialMessage(
                f"'{kind}' messages cannot be switched off; these can: {', '.join(sorted(OPTIONAL_KINDS))}.",
                optional_kinds=sorted(OPTIONAL_KINDS))


def unsubscribe_line(url: str, kind: str, language: str) -> str:
    what = OPTIONAL_KINDS.get(kind, {}).get(language) or OPTIONAL_KINDS.get(kind, {}).get("en", kind)
    if language == "zh-Hans":
        return f"不想再收到{what}？退订：{url}"
    return f"Stop getting {what}: {url}"
