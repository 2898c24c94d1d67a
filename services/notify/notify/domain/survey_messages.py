"""The invitation to a trip's check-in or survey, and its one reminder: each traveller's own link, in their
language. Plain Python: no I/O."""
from __future__ import annotations

from datetime import datetime

from trip_shared.local_time import instant_label

KINDS = ("survey", "survey_reminder")


def render_survey(kind: str, language: str, first_name: str, title: str, details: dict) -> tuple[str, str]:
    if kind not in KINDS:
        raise ValueError(f"unknown survey message {kind!r}")
    url = f"{details.get('url')}?lang={language}"
    closes = instant_label(datetime.fromisoformat(details["closes_at"]), details.get("zone"), language)
    reminder, during = kind == "survey_reminder", details.get("survey_kind") == "mid_trip"
    if language == "zh-Hans":
        if during:
            subject, opening = f"旅途还顺利吗？{title}", (
                f"希望您在「{title}」的旅途中一切顺利。只需一分钟回答几个问题；如有任何我们还能改进的地方，请告诉我们：")
        else:
            subject, opening = f"这次旅行怎么样？{title}", (
                f"欢迎回家！这次「{title}」的旅行怎么样？只需一分钟，您的答复将帮助我们更好地安排您和其他客人的旅行：")
        return (f"{'提醒：' if reminder else ''}{subject}",
                f"{first_name}，您好：\n\n{opening}\n{url}\n\n问卷开放至 {closes}；此链接仅供您本人使用。\n")
    if during:
        subject, opening = f"How is your trip going? {title}", (
            f"We hope you are enjoying \"{title}\". A few questions take a minute, and tell us if there is anything "
            "we can still put right:")
    else:
        subject, opening = f"How was your trip? {title}", (
            f"Welcome home. How was \"{title}\"? Your answer takes a minute and helps us plan your next trip, and "
            "other travellers':")
    return (f"{'Reminder: ' if reminder else ''}{subject}",
            f"Dear {first_name},\n\n{opening}\n{url}\n\nThe survey is open until {closes}; the link is for you "
            "only.\n")
