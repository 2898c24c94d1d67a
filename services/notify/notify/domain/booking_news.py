"""What a client hears of their trip's bookings. Plain Python: no I/O.

Confirmations are good news that can wait: they come as one digest ("9 of 12 services are confirmed"), each with what
the client needs to know (the service, its local date and time, the confirmation number). A booking the client was
counting on that falls through (a confirmed service the supplier can no longer provide) cannot wait.
"""
from __future__ import annotations

from trip_shared.local_time import span_label

# A booking in these states holds the service for the client.
HOLDING = ("confirmed", "amendment_requested")


def confirmed_entry(booking: dict) -> dict:
    """A confirmation as the digest keeps it: only what the client reads."""
    service = booking.get("service") or {}
    return {"key": f"bookings.{booking['booking_id']}", "before": None, "after": {
        "item_id": booking.get("item_id"), "vendor_name": booking.get("vendor_name"),
        "confirmation_code": booking.get("confirmation_code"), "title": service.get("title") or booking.get(
            "description") or booking.get("vendor_name"),
        **{name: service.get(name) for name in ("kind", "start", "end", "timezone", "end_timezone")}}}


def service_line(service: dict, language: str) -> str:
    when = span_label(service.get("start"), service.get("end"), service.get("timezone"),
                      service.get("end_timezone"), language) if service.get("start") else ""
    code = service.get("confirmation_code")
    if language == "zh-Hans":
        return f"{service['title']}（{service.get('vendor_name')}）" + (f"，{when}" if when else "") + (
            f"，确认号 {code}" if code else "")
    return f"{service['title']} ({service.get('vendor_name')})" + (f", {when}" if when else "") + (
        f", confirmation {code}" if code else "")


def progress(confirmed: int, required: int, language: str) -> str:
    """"9 of 12 services are confirmed"; all of them; or, while the trip's items are not known, just that."""
    zh = language == "zh-Hans"
    if not required:
        return "预订已确认。" if zh else "Your booking is confirmed."
    if confirmed >= required:
        return f"全部服务均已确认（{required}/{required}）。" if zh else \
            f"All services are confirmed ({required} of {required})."
    return f"已确认 {confirmed}/{required} 项服务。" if zh else f"{confirmed} of {required} services are confirmed."


def render_confirmations(language: str, first_name: str, title: str, dates: str, details: dict) -> tuple[str, str]:
    services = "\n".join(f"  - {service_line(s, language)}" for s in details.get("confirmed", []))
    done = progress(details.get("confirmed_count", 0), details.get("required_count", 0), language)
    if language == "zh-Hans":
        return (f"行程「{title}」：{done}",
                f"{first_name}，您好：\n\n行程「{title}」{dates}的以下服务已确认：\n{services}\n\n{done}\n\n"
                "如有任何问题，请直接回复此邮件。\n")
    return (f"{title}: {done}",
            f"Dear {first_name},\n\nThese services for \"{title}\"{dates} are now confirmed:\n{services}\n\n{done}\n\n"
            "If anything is unclear, just reply to this e-mail.\n")


def render_lost(language: str, first_name: str, title: str, details: dict) -> tuple[str, str]:
    service = details.get("service") or {}
    line = service_line({**service, "confirmation_code": None}, language)
    if language == "zh-Hans":
        return (f"重要：行程「{title}」的一项预订有变",
                f"{first_name}，您好：\n\n很抱歉，以下已确认的服务无法按原计划提供：\n  - {line}\n\n"
                "您的旅行顾问正在安排替代方案，并会尽快与您联系。如需立即协助，请拨打下方的支持电话。\n")
    return (f"Important: a booking for {title} has changed",
            f"Dear {first_name},\n\nWe are sorry: this confirmed service can no longer be provided as planned:\n"
            f"  - {line}\n\nYour planner is arranging an alternative and will be in touch shortly. If you need help "
            "now, call the support line below.\n")
