"""The page a supplier answers a request on, opened from the link in its e-mail (no account, no API key).

A link names the booking and the round (the message) it answers, and expires. The supplier confirms (a
confirmation number is required), declines (with a reason, perhaps an alternative) or, for a cancellation, gives its
cancellation reference; each special requirement is acknowledged on its own. The first answer counts: a link to a
message already answered, or superseded by a later one, says so. English or Simplified Chinese, the supplier's.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from booking.domain.model import CLOSED_STATUSES, Booking, Money
from booking.service_layer import services
from trip_shared.errors import DomainError
from trip_shared.local_time import instant_label, long_date, span_label
from trip_shared.web.pages import BASE_STYLE, html_page, invalid_link_page, read_form
from trip_shared.web.signed_links import LinkSigner
from trip_shared.wording import place_label, requirement_label

PURPOSE, CALLBACK_PURPOSE = "booking-answer", "supplier-callback"
LINK_VALID_DAYS, CALLBACK_VALID_DAYS = 30, 5 * 365
router = APIRouter(include_in_schema=False)
STYLE = BASE_STYLE + ("table{border-collapse:collapse;width:100%}td,th{padding:.3rem .5rem .3rem 0;text-align:left;"
                      "vertical-align:top}th{width:10rem;color:#555;font-weight:normal}"
                      "fieldset{border:1px solid #ccc;border-radius:6px;margin:1rem 0;padding:.5rem 1rem 1rem}"
                      "label{display:block;margin:.5rem 0 .2rem}.done{color:#075;font-weight:600}"
                      "li{margin:.3rem 0}@media (max-width:600px){th{width:auto;display:block}td{display:block}}")

TEXT = {
    "en": {"request": "Booking request", "amendment": "Amendment request", "cancellation": "Cancellation request",
           "from": "From {agency}", "service": "Service", "when": "When", "where": "Where", "to": "To",
           "party": "Party", "adults": "{n} adult(s)", "children": "{n} child(ren)", "names": "Travellers",
           "price": "Price offered", "deposit": "Deposit", "due": "due {date}", "note": "Note from the agency",
           "respond_by": "Please answer by", "requirements": "Special requirements",
           "requirements_hint": "Tick each one you can meet; the agency is told of each.",
           "changes": "What changes", "reason": "Why", "confirm": "Confirm", "code": "Your confirmation number",
           "confirmed_price": "Confirmed price (if different)", "currency": "Currency", "decline": "Decline",
           "decline_reason": "Why you cannot take it", "alternative": "What you can offer instead (optional)",
           "send_confirm": "Confirm the booking", "send_decline": "Decline", "acknowledge": "Acknowledge",
           "reconfirm": "Reconfirmation", "reconfirm_hint": "The service is soon: please reconfirm booking {code} "
           "still stands as shown (if anything changed, call the agency).", "send_reconfirm": "Reconfirm",
           "thanks_reconfirmed": "Thank you: reconfirmed.",
           "cancel_reference": "Your cancellation reference", "send_cancel": "Confirm the cancellation",
           "thanks_confirmed": "Thank you: booking confirmed, number {code}.",
           "thanks_declined": "Thank you: the agency knows you cannot take it.",
           "thanks_cancelled": "Thank you: cancellation recorded, reference {reference}.",
           "thanks_acknowledged": "Thank you: the agency knows which requirements you can meet.",
           "stale": "This request was already answered (now: {status}); this answer was not recorded.",
           "acknowledged": "acknowledged", "answered": "This request has been answered; nothing more is needed.",
           "untimed": "any time", "status": "Status",
           "missing_code": "Please give your confirmation number.", "missing_reason": "Please say why.",
           "missing_reference": "Please give your cancellation reference.", "bad_price": "The price is not a "
           "number with at most two decimals and a three-letter currency.",
           "statuses": {"requested": "awaiting your answer", "confirmed": "confirmed", "declined": "declined",
                        "expired": "expired", "amendment_requested": "amendment awaiting your answer",
                        "cancellation_requested": "cancellation awaiting your confirmation",
                        "cancelled": "cancelled"}},
    "zh-Hans": {"request": "预订请求", "amendment": "预订变更请求", "cancellation": "取消预订请求",
                "from": "来自 {agency}", "service": "服务", "when": "时间", "where": "地点", "to": "目的地",
                "party": "人数", "adults": "成人 {n} 位", "children": "儿童 {n} 位", "names": "旅客",
                "price": "报价", "deposit": "订金", "due": "{date} 前支付", "note": "旅行社留言",
                "respond_by": "请于此时间前答复", "requirements": "特殊需求",
                "requirements_hint": "请逐项勾选您能满足的需求，旅行社会收到每一项的确认。",
                "changes": "变更内容", "reason": "原因", "confirm": "确认", "code": "您的确认号",
                "confirmed_price": "确认价格（如有不同）", "currency": "币种", "decline": "婉拒",
                "decline_reason": "无法接待的原因", "alternative": "可提供的替代方案（选填）",
                "send_confirm": "确认预订", "send_decline": "婉拒", "acknowledge": "确认需求",
                "reconfirm": "再次确认", "reconfirm_hint": "服务日期临近：请再次确认预订 {code} 仍按上述内容有效"
                "（如有变化，请致电旅行社）。", "send_reconfirm": "再次确认",
                "thanks_reconfirmed": "谢谢！已再次确认。",
                "cancel_reference": "您的取消编号", "send_cancel": "确认取消",
                "thanks_confirmed": "谢谢！预订已确认，确认号 {code}。",
                "thanks_declined": "谢谢！旅行社已知悉您无法接待。",
                "thanks_cancelled": "谢谢！取消已记录，取消编号 {reference}。",
                "thanks_acknowledged": "谢谢！旅行社已知悉您能满足哪些需求。",
                "stale": "此请求已答复（当前状态：{status}），本次答复未被记录。",
                "acknowledged": "已确认", "answered": "此请求已答复，无需再操作。",
                "untimed": "全天", "status": "状态",
                "missing_code": "请填写您的确认号。", "missing_reason": "请说明原因。",
                "missing_reference": "请填写您的取消编号。",
                "bad_price": "价格应为最多两位小数的数字，币种为三个字母。",
                "statuses": {"requested": "等待您答复", "confirmed": "已确认", "declined": "已婉拒",
                             "expired": "已过期", "amendment_requested": "变更等待您答复",
                             "cancellation_requested": "取消等待您确认", "cancelled": "已取消"}},
}
class SupplierLinks:
    """The links in a supplier's messages: a page answering one booking's round (e-mail suppliers, for a month),
    and the callback a webhook supplier posts its answers to (for as long as it is a supplier)."""

    def __init__(self, signer: LinkSigner, base_url: str) -> None:
        self._signer, self._base_url = signer, base_url

    def __call__(self, tenant_id: str, booking_id: str, round_: int,
                 respond_by: datetime | None) -> tuple[str, datetime]:
        token, expires_at = self._signer.sign(PURPOSE, tenant_id, f"{booking_id}/{round_}",
                                              timedelta(days=LINK_VALID_DAYS))
        return f"{self._base_url}/supplier/bookings/{token}", expires_at

    def callback(self, tenant_id: str, supplier_id: str) -> str:
        token, _ = self._signer.sign(CALLBACK_PURPOSE, tenant_id, supplier_id, timedelta(days=CALLBACK_VALID_DAYS))
        return f"{self._base_url}/supplier/callbacks/{token}"


def _when(service: dict, language: str) -> str:
    return span_label(service.get("start"), service.get("end"), service.get("timezone"),
                      service.get("end_timezone"), language)


def _respond_by(booking: Booking, language: str) -> str:
    return instant_label(booking.respond_by, booking.service.get("timezone"), language)


async def _open(request: Request, token: str) -> tuple[Booking, int]:
    claims = request.app.state.link_signer.verify(token, PURPOSE)
    booking_id, _, round_text = claims.subject_id.partition("/")
    booking = await services.get_booking(request.app.state.runtime.transaction, claims.tenant_id, booking_id)
    return booking, int(round_text or 0)


def _language(booking: Booking) -> str:
    return booking.supplier_language if booking.supplier_language in TEXT else "en"


async def _page(request: Request, booking: Booking, round_: int, token: str, *, message: str | None = None,
          error: str | None = None, status: int = 200) -> HTMLResponse:
    language = _language(booking)
    text = TEXT[language]
    awaiting = booking.awaits(round_)
    kind = awaiting or ("amendment" if booking.amendment_changes else "request")
    agency = await request.app.state.runtime.agencies.for_tenant(booking.tenant_id)
    service = booking.service
    body = f"<h1>{escape(text[kind])}</h1>"
    if agency:
        body += f'<p class="about">{escape(text["from"].format(agency=agency.name))}</p>'
    if message:
        body += f'<p class="done" role="status">{escape(message)}</p>'
    if error:
        body += f'<p class="error" role="alert">{escape(error)}</p>'
    rows = [(text["status"], text["statuses"][booking.status]), (text["service"], service.get("title") or ""),
            (text["when"], _when(service, language)), (text["where"], place_label(service.get("place")))]
    if service.get("end_place"):
        rows.append((text["to"], place_label(service["end_place"])))
    party = text["adults"].format(n=booking.party_adults)
    if booking.party_children:
        party += ", " + text["children"].format(n=booking.party_children)
    rows.append((text["party"], party))
    if booking.traveller_names:
        rows.append((text["names"], ", ".join(booking.traveller_names)))
    if booking.price:
        rows.append((text["price"], f"{booking.price.amount} {booking.price.currency}"))
    if booking.deposit:
        rows.append((text["deposit"], f"{booking.deposit.amount} {booking.deposit.currency}, "
                                      + text["due"].format(date=long_date(booking.deposit.due_date, language))))
    if booking.vendor_note:
        rows.append((text["note"], booking.vendor_note))
    if kind == "amendment" and booking.amendment_changes:
        rows.append((text["changes"], "; ".join(booking.amendment_changes)))
    if kind in ("amendment", "cancellation"):
        reason = booking.amendment_reason if kind == "amendment" else booking.cancellation_reason
        if reason:
            rows.append((text["reason"], reason))
    if booking.respond_by and awaiting == "request":
        rows.append((text["respond_by"], _respond_by(booking, language)))
    body += "<table>" + "".join(f"<tr><th>{escape(label)}</th><td>{escape(str(value))}</td></tr>"
                                for label, value in rows if value) + "</table>"
    open_round = round_ == booking.round and booking.status not in CLOSED_STATUSES
    body += _requirements_html(booking, text, language, open_round and awaiting is None)
    action = f"/supplier/bookings/{token}"
    if awaiting in ("request", "amendment"):
        body += (f'<form method="post" action="{action}"><fieldset><legend>{escape(text["confirm"])}</legend>'
                 + _requirement_boxes(booking, language, text)
                 + f'<label for="code">{escape(text["code"])}</label>'
                 f'<input type="text" id="code" name="confirmation_code" maxlength="100" required>'
                 f'<label for="price">{escape(text["confirmed_price"])}</label>'
                 f'<input type="text" id="price" name="confirmed_amount" maxlength="20" inputmode="decimal">'
                 f'<label for="currency">{escape(text["currency"])}</label>'
                 f'<input type="text" id="currency" name="confirmed_currency" maxlength="3" '
                 f'value="{escape(booking.price.currency if booking.price else "")}">'
                 f'<button type="submit" name="action" value="confirm">{escape(text["send_confirm"])}</button>'
                 f"</fieldset></form>"
                 f'<form method="post" action="{action}"><fieldset><legend>{escape(text["decline"])}</legend>'
                 f'<label for="reason">{escape(text["decline_reason"])}</label>'
                 f'<textarea id="reason" name="reason" rows="2" maxlength="2000" required></textarea>'
                 f'<label for="alternative">{escape(text["alternative"])}</label>'
                 f'<textarea id="alternative" name="alternative" rows="2" maxlength="2000"></textarea>'
                 f'<button type="submit" name="action" value="decline">{escape(text["send_decline"])}</button>'
                 f"</fieldset></form>")
    elif awaiting == "cancellation":
        body += (f'<form method="post" action="{action}"><fieldset><legend>{escape(text["cancellation"])}</legend>'
                 f'<label for="reference">{escape(text["cancel_reference"])}</label>'
                 f'<input type="text" id="reference" name="cancellation_reference" maxlength="100" required>'
                 f'<button type="submit" name="action" value="cancel">{escape(text["send_cancel"])}</button>'
                 f"</fieldset></form>")
    elif booking.status == "confirmed" and booking.reconfirmation_requested_at and not booking.reconfirmed_at \
            and round_ == booking.round:
        body += (f'<form method="post" action="{action}"><fieldset><legend>{escape(text["reconfirm"])}</legend>'
                 f"<p>{escape(text['reconfirm_hint'].format(code=booking.confirmation_code))}</p>"
                 f'<button type="submit" name="action" value="reconfirm">{escape(text["send_reconfirm"])}</button>'
                 f"</fieldset></form>")
    elif not message:
        body += f"<p>{escape(text['answered'])}</p>"
    if agency:
        body += '<section class="about">' + "".join(f"<p>{escape(line)}</p>"
                                                    for line in agency.supplier_lines(language)) + "</section>"
    return html_page(language, f"{text[kind]} · {service.get('title') or ''}", body, style=STYLE, status=status)


def _requirement_label(line, language: str) -> str:
    return requirement_label(line.kind, line.traveller_name, line.text, language)


def _requirements_html(booking: Booking, text: dict, language: str, with_form: bool) -> str:
    """Each need on its own line, and whether it was acknowledged; after the answer, a form for the rest."""
    if not booking.requirements:
        return ""
    html = f"<h2>{escape(text['requirements'])}</h2><ul>"
    for line in booking.requirements:
        done = f' <span class="done">✓ {escape(text["acknowledged"])}</span>' if line.acknowledged_at else ""
        html += f"<li>{escape(_requirement_label(line, language))}{done}</li>"
    html += "</ul>"
    if with_form and booking.unacknowledged:
        html += (f'<form method="post"><fieldset><legend>{escape(text["acknowledge"])}</legend>'
                 + _requirement_boxes(booking, language, text)
                 + f'<button type="submit" name="action" value="acknowledge">{escape(text["acknowledge"])}</button>'
                 "</fieldset></form>")
    return html


def _requirement_boxes(booking: Booking, language: str, text: dict) -> str:
    pending = booking.unacknowledged
    if not pending:
        return ""
    return (f"<p>{escape(text['requirements_hint'])}</p>"
            + "".join(f'<label><input type="checkbox" name="acknowledge" value="{escape(line.id)}"> '
                      f"{escape(_requirement_label(line, language))}</label>" for line in pending))


@router.get("/supplier/bookings/{token}", response_class=HTMLResponse)
async def answer_page(token: str, request: Request) -> HTMLResponse:
    try:
        booking, round_ = await _open(request, token)
    except DomainError as error:
        return invalid_link_page(error, style=STYLE)
    return await _page(request, booking, round_, token)


@router.post("/supplier/bookings/{token}", response_class=HTMLResponse)
async def answer(token: str, request: Request) -> HTMLResponse:
    try:
        booking, round_ = await _open(request, token)
    except DomainError as error:
        return invalid_link_page(error, style=STYLE)
    form = await read_form(request)
    value = {key: values[-1].strip() for key, values in form.items()}
    text = TEXT[_language(booking)]
    transaction, tenant_id = request.app.state.runtime.transaction, booking.tenant_id
    action = value.get("action")
    actor = f"{services.SUPPLIER_ACTOR}:{booking.supplier_id}"
    try:
        if action == "confirm":
            if not value.get("confirmation_code"):
                return await _page(request, booking, round_, token, error=text["missing_code"], status=422)
            price = None
            if value.get("confirmed_amount"):
                try:
                    price = Money.of(value["confirmed_amount"], value.get("confirmed_currency") or "",
                                     "confirmed_price")
                except DomainError:
                    return await _page(request, booking, round_, token, error=text["bad_price"], status=422)
            booking = await services.confirm_booking(
                transaction, tenant_id, booking.id, value["confirmation_code"], actor=actor, channel="email",
                price=price, acknowledged=form.get("acknowledge", []), answering_round=round_,
                voucher_link=request.app.state.voucher_links)
            message = text["thanks_confirmed"].format(code=booking.confirmation_code)
        elif action == "decline":
            if not value.get("reason"):
                return await _page(request, booking, round_, token, error=text["missing_reason"], status=422)
            booking = await services.decline_booking(transaction, tenant_id, booking.id, value["reason"],
                                                     actor=actor, channel="email",
                                                     alternative=value.get("alternative"), answering_round=round_)
            message = text["thanks_declined"]
        elif action == "cancel":
            if not value.get("cancellation_reference"):
                return await _page(request, booking, round_, token, error=text["missing_reference"], status=422)
            booking = await services.confirm_cancellation(
                transaction, tenant_id, booking.id, value["cancellation_reference"], actor=actor, channel="email",
                answering_round=round_)
            message = text["thanks_cancelled"].format(reference=booking.cancellation_reference)
        elif action == "reconfirm":
            booking = await services.reconfirm_booking(transaction, tenant_id, booking.id, actor=actor,
                                                       channel="email", answering_round=round_)
            message = text["thanks_reconfirmed"]
        elif action == "acknowledge" and form.get("acknowledge"):
            booking = await services.acknowledge_requirements(transaction, tenant_id, booking.id,
                                                              form["acknowledge"], actor=actor, channel="email",
                                                              answering_round=round_)
            message = text["thanks_acknowledged"]
        else:
            return await _page(request, booking, round_, token, status=422)
    except DomainError as error:
        # Stale (answered already, or superseded), or the answer broke a rule: say so on the page, change nothing.
        booking, _ = await _open(request, token)
        detail = text["stale"].format(status=text["statuses"][booking.status]) if error.code == "answer-stale" \
            else error.detail
        return await _page(request, booking, round_, token, error=detail, status=error.status)
    return await _page(request, booking, round_, token, message=message)
