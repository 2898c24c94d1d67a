"""What a supplier reads: a booking request, an amendment or a cancellation, in the supplier's language.
Plain Python: no I/O.

Built only from the booking event's supplier-facing parts (the service in its local time and named zone, the
party, each traveller's requirement on its own line, the agency's note to the supplier); the agency's internal
notes never travel this far. Each message carries the agency's name and the link to answer it.
"""
from __future__ import annotations

from datetime import datetime

from trip_shared.agency import AgencyProfile
from trip_shared.local_time import instant_label, long_date, span_label
from trip_shared.wording import place_label, requirement_label

SUPPLIER_KINDS = ("supplier_request", "supplier_amendment", "supplier_cancellation", "supplier_reminder",
                  "supplier_reconfirmation")
# A reminder repeats the message the supplier has not answered yet.
REMINDED = {"requested": "supplier_request", "amendment_requested": "supplier_amendment",
            "cancellation_requested": "supplier_cancellation"}

WORDS = {
    "en": {"supplier_request": "Booking request", "supplier_amendment": "Amendment request",
           "supplier_cancellation": "Cancellation request", "supplier_reconfirmation": "Please reconfirm",
           "reminder": "Reminder", "dear": "Dear {name},",
           "intro_reconfirmation": "The service below is soon. {agency} asks you to reconfirm booking {code} as "
                                   "shown here:",
           "intro_request": "{agency} would like to book the following. Please confirm it (with your confirmation "
                            "number) or decline it here:",
           "intro_amendment": "{agency} asks you to change this booking ({code}). Please confirm the change or "
                              "decline it here:",
           "intro_cancellation": "{agency} asks you to cancel this booking ({code}). Please confirm the "
                                 "cancellation with your reference here:",
           "service": "Service", "when": "When", "where": "Where", "to": "To", "party": "Party",
           "party_value": "{adults} adult(s), {children} child(ren)", "names": "Travellers",
           "requirements": "Special requirements (please acknowledge each on the page)", "price": "Price",
           "deposit": "Deposit", "due": "due {date}", "note": "Note", "changes": "What changes", "reason": "Why",
           "respond_by": "Please answer by", "link": "Answer here (the link is for you only):",
           "agency_fallback": "our agency", "thanks": "Thank you,"},
    "zh-Hans": {"supplier_request": "预订请求", "supplier_amendment": "预订变更请求",
                "supplier_cancellation": "取消预订请求", "supplier_reconfirmation": "请再次确认预订",
                "reminder": "提醒", "dear": "{name}，您好：",
                "intro_reconfirmation": "以下服务日期临近，{agency}请您再次确认预订 {code} 仍按以下内容有效：",
                "intro_request": "{agency}希望预订以下服务。请通过下方链接确认（并填写确认号）或婉拒：",
                "intro_amendment": "{agency}希望变更此预订（{code}）。请通过下方链接确认变更或婉拒：",
                "intro_cancellation": "{agency}希望取消此预订（{code}）。请通过下方链接确认取消并填写取消编号：",
                "service": "服务", "when": "时间", "where": "地点", "to": "目的地", "party": "人数",
                "party_value": "成人 {adults} 位，儿童 {children} 位", "names": "旅客",
                "requirements": "特殊需求（请在页面上逐项确认）", "price": "价格", "deposit": "订金",
                "due": "{date} 前支付", "note": "留言", "changes": "变更内容", "reason": "原因",
                "respond_by": "请于此时间前答复", "link": "请在此答复（此链接仅供贵方使用）：",
                "agency_fallback": "我们旅行社", "thanks": "谢谢！"},
}


def render_supplier(kind: str, language: str, booking: dict, message: dict,
                    agency: AgencyProfile | None) -> tuple[str, str]:
    """Subject and plain-text body of a message to a supplier."""
    words = WORDS.get(language, WORDS["en"])
    if kind == "supplier_reminder":
        subject, body = render_supplier(REMINDED.get(booking.get("status"), "supplier_request"), language, booking,
                                        message, agency)
        return f"{words['reminder']}: {subject}", body
    service = booking.get("service") or {}
    agency_name = agency.name if agency else words["agency_fallback"]
    title = service.get("title") or booking.get("vendor_name") or ""
    when = span_label(service.get("start"), service.get("end"), service.get("timezone"),
                      service.get("end_timezone"), language)
    subject = f"{words[kind]}: {title} · {when}" + (f" · {agency.name}" if agency else "")
    intro = words[f"intro_{kind.removeprefix('supplier_')}"].format(
        agency=agency_name, code=booking.get("confirmation_code") or booking.get("booking_id", "")[:8])
    rows = [(words["service"], title), (words["when"], when), (words["where"], place_label(service.get("place"))),
            (words["to"], place_label(service.get("end_place"))),
            (words["party"], words["party_value"].format(adults=booking.get("party_adults") or 0,
                                                         children=booking.get("party_children") or 0)),
            (words["names"], ", ".join(booking.get("traveller_names") or []))]
    price, deposit = booking.get("price"), booking.get("deposit")
    if price:
        rows.append((words["price"], f"{price['amount']} {price['currency']}"))
    if deposit:
        due = long_date(datetime.fromisoformat(str(deposit["due_date"])).date(), language)
        rows.append((words["deposit"], f"{deposit['amount']} {deposit['currency']}, {words['due'].format(date=due)}"))
    if kind == "supplier_amendment" and booking.get("amendment_changes"):
        rows.append((words["changes"], "; ".join(booking["amendment_changes"])))
    if kind != "supplier_request" and message.get("amendment_reason"):
        rows.append((words["reason"], message["amendment_reason"]))
    if message.get("vendor_note"):
        rows.append((words["note"], message["vendor_note"]))
    if kind == "supplier_request" and booking.get("respond_by"):
        rows.append((words["respond_by"], instant_label(datetime.fromisoformat(str(booking["respond_by"])),
                                                        service.get("timezone"), language)))
    lines = [words["dear"].format(name=message.get("contact_name") or message.get("supplier_name") or ""), "",
             intro, ""]
    lines += [f"{label}: {value}" for label, value in rows if value]
    requirements = booking.get("requirements") or []
    if requirements and kind != "supplier_cancellation":
        lines += ["", words["requirements"] + ":"]
        lines += [f"  - {requirement_label(r['kind'], r.get('traveller_name'), r['text'], language)}"
                  for r in requirements]
    if message.get("response_url"):
        lines += ["", words["link"], message["response_url"]]
    lines += ["", words["thanks"]] + (agency.supplier_lines(language) if agency else [agency_name])
    return subject, "\n".join(lines) + "\n"


def webhook_payload(kind: str, booking: dict, message: dict, agency: AgencyProfile | None) -> dict:
    """What a supplier's system receives: the same facts as the e-mail, as data, and where to answer."""
    message_kind = kind.removeprefix("supplier_")
    if message_kind == "reminder":
        message_kind = f"reminder.{REMINDED.get(booking.get('status'), 'supplier_request').removeprefix('supplier_')}"
    return {
        "type": f"booking.{message_kind}", "booking_id": booking.get("booking_id"), "round": booking.get("round"),
        "status": booking.get("status"), "agency": agency.name if agency else None,
        "service": booking.get("service"), "confirmation_code": booking.get("confirmation_code"),
        "party": {"adults": booking.get("party_adults"), "children": booking.get("party_children"),
                  "names": booking.get("traveller_names") or []},
        "requirements": [{"id": r["requirement_id"], "traveller": r.get("traveller_name"), "kind": r["kind"],
                          "text": r["text"], "acknowledged": r.get("acknowledged_at") is not None}
                         for r in booking.get("requirements") or []],
        "price": booking.get("price"), "deposit": booking.get("deposit"),
        "respond_by": booking.get("respond_by"), "note": message.get("vendor_note"),
        "changes": booking.get("amendment_changes") or [], "reason": message.get("amendment_reason"),
        "callback_url": message.get("callback_url"),
    }
