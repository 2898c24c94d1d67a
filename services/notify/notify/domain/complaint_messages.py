"""What a client is told about their complaint: that it reached the agency and when they will hear back, and what
the agency offers, with the link to accept it or ask for more. Plain Python: no I/O. The agency's findings and
notes never come here (feedback does not publish them)."""
from __future__ import annotations

from trip_shared.wording import remedy_label

KINDS = ("complaint_received", "complaint_offer")


def render_complaint(kind: str, language: str, first_name: str, title: str, details: dict) -> tuple[str, str]:
    url, when = details.get("url"), details.get("when", "")
    if kind == "complaint_received":
        if language == "zh-Hans":
            follow = f"\n您可以在此查看处理进度，并答复我们的方案：\n{url}\n" if url else ""
            return (f"我们已收到您关于行程「{title}」的意见",
                    f"{first_name}，您好：\n\n感谢您告诉我们行程「{title}」中出现的问题。我们会认真调查，"
                    f"并于 {when} 前答复您。\n{follow}\n如需即时帮助，请拨打下方电话。\n")
        follow = f"\nYou can follow it, and answer what we propose, here:\n{url}\n" if url else ""
        return (f"We have received your message about {title}",
                f"Dear {first_name},\n\nThank you for telling us what went wrong on \"{title}\". We are looking "
                f"into it and will answer by {when}.\n{follow}\nIf you need help right now, call us on the numbers "
                "below.\n")
    if kind == "complaint_offer":
        offer = details.get("offer") or {}
        amount = f"{offer.get('amount')} {offer.get('currency')}" if offer.get("amount") else ""
        remedy, message = remedy_label(offer.get("remedy", "apology"), amount, language), offer.get("message", "")
        if language == "zh-Hans":
            answer = f"请于 {when} 前通过以下链接接受此方案，或告诉我们哪里不够：\n{url}\n" if url else \
                f"请于 {when} 前直接回复此邮件，告诉我们您是否接受。\n"
            return (f"关于您的投诉，我们的解决方案：{title}",
                    f"{first_name}，您好：\n\n感谢您的耐心等待。关于行程「{title}」中发生的问题，我们提出：\n"
                    f"  - {remedy}\n\n{message}\n\n{answer}")
        answer = f"Please accept it, or tell us why it is not enough, by {when}:\n{url}\n" if url else \
            f"Please reply to this e-mail by {when} to tell us whether you accept it.\n"
        return (f"Our proposal about your complaint: {title}",
                f"Dear {first_name},\n\nThank you for your patience. About what happened on \"{title}\", we "
                f"offer:\n  - {remedy}\n\n{message}\n\n{answer}")
    raise ValueError(f"unknown complaint message {kind!r}")
