"""Client-facing pages, opened from signed links instead of API keys: the proposal a POC answers, and the
shareable itinerary (printable, with its calendar feed). English or Simplified Chinese.

A link names its purpose, agency, subject and expiry; a proposal link also names the round and the POC, so it
answers that proposal only, once, for that person.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from itinerary.domain.items import Item
from itinerary.domain.model import days_of, item_from_snapshot
from itinerary.entrypoints.deliverables import (
    ClientContext,
    calendar_feed,
    client_context,
    itinerary_pdf,
    local_time_label,
    place_label,
)
from itinerary.service_layer import services
from trip_shared.client_links import TRIP_VIEW, trip_complaint_url, trip_page_url, trip_token, trip_updates_url
from trip_shared.errors import DomainError
from trip_shared.local_time import long_date
from trip_shared.web.pages import html_page, invalid_link_page, read_form
from trip_shared.web.signed_links import InvalidLink, LinkSigner

PROPOSAL, SHARED_TRIP = "itinerary-proposal", TRIP_VIEW
router = APIRouter(include_in_schema=False)
PRINT_SCRIPT = "/assets/print.js"

TEXT = {
    "en": {"proposal": "Your trip proposal", "options": "Options", "price": "Price", "approve": "Approve this option",
           "changes": "Ask for changes", "comment": "What would you like changed?", "send": "Send",
           "approved": "Thank you — you approved “{option}”. Your planner will now book it.",
           "changes_sent": "Thank you — your planner has your message and will send a new proposal.",
           "answered": "This proposal was answered on {at}.",
           "untimed": "any time", "to": "to", "print": "Print or save as PDF", "calendar": "Add to calendar",
           "trip": "Your itinerary", "note": "From your planner", "day": "Day {n}", "pdf": "PDF",
           "voucher": "Voucher (PDF)", "updates": "Updates from your agency",
           "complain": "Something wrong? Tell us"},
    "zh-Hans": {"proposal": "您的行程方案", "options": "方案", "price": "价格", "approve": "确认此方案",
                "changes": "提出修改意见", "comment": "您希望修改哪些内容？", "send": "发送",
                "approved": "谢谢！您已确认方案「{option}」，您的旅行顾问将开始预订。",
                "changes_sent": "谢谢！您的旅行顾问已收到您的意见，将为您提供新方案。",
                "answered": "此方案已于 {at} 答复。", "untimed": "全天",
                "to": "至", "print": "打印或保存为 PDF", "calendar": "添加到日历", "trip": "您的行程",
                "note": "旅行顾问留言", "day": "第{n}天", "pdf": "PDF 版", "voucher": "服务凭证（PDF）",
                "updates": "旅行社的最新消息", "complain": "遇到问题？告诉我们"},
}
STYLE = ("body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;"
         "color:#222}h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ccc}"
         "h3{margin:1.2rem 0 .3rem}table{border-collapse:collapse;width:100%}td{padding:.25rem .5rem .25rem 0;"
         "vertical-align:top}td.when{width:13rem;color:#555}"
         ".option{border:1px solid #ccc;border-radius:6px;padding:0 1rem 1rem;margin:1rem 0}"
         ".price{font-weight:600}.error{color:#a00;font-weight:600}*{box-sizing:border-box}textarea{width:100%}"
         ".note{color:#555;font-size:.92rem;margin-top:.15rem}"
         ".about{color:#444;font-size:.95rem}.about p{margin:.2rem 0}"
         "td{overflow-wrap:anywhere}button{margin-top:.6rem;padding:.5rem 1.2rem}"
         # On a phone a day's rows stack: the time above what happens, nothing wider than the screen.
         "@media (max-width:600px){body{margin:1rem auto}table.day,table.day tbody,table.day tr,table.day td"
         "{display:block;width:auto}table.day tr{padding:.35rem 0;border-bottom:1px solid #eee}"
         "td.when{width:auto;font-size:.9rem}}"
         "@media print{.noprint{display:none}body{margin:0}.option{break-inside:avoid}}")


def proposal_link(signer: LinkSigner, base_url: str, tenant_id: str, itinerary_id: str, round_id: str,
                  customer_id: str, valid_days: int) -> tuple[str, datetime]:
    token, expires_at = signer.sign(PROPOSAL, tenant_id, f"{itinerary_id}/{round_id}/{customer_id}",
                                    timedelta(days=valid_days))
    return f"{base_url}/proposals/{token}", expires_at


def trip_link(signer: LinkSigner, base_url: str, tenant_id: str, itinerary_id: str,
              valid_days: int) -> tuple[str, datetime]:
    token, expires_at = trip_token(signer, tenant_id, itinerary_id, timedelta(days=valid_days))
    return trip_page_url(base_url, token), expires_at


def _page(language: str, title: str, body: str, status: int = 200) -> HTMLResponse:
    return html_page(language, title, body, style=STYLE, status=status)


def _days_html(items: list[Item], language: str, first_day: date | None,
               vouchers: dict[str, str] | None = None) -> str:
    text = TEXT[language]
    vouchers = vouchers or {}
    html = ""
    for day, entries in days_of(items):
        label = f"{text['day'].format(n=(day - first_day).days + 1)} · {long_date(day, language)}" if first_day \
            else long_date(day, language)
        html += f'<h3>{escape(label)}</h3><table class="day">'
        for item, role in entries:
            where = place_label(item, role)
            note = item.client_note if role == "starts" else None
            voucher = vouchers.get(item.id) if role == "starts" else None
            html += (f'<tr><td class="when">{escape(local_time_label(item, role, language))}</td><td><strong>'
                     f"{escape(item.title)}</strong>{' · ' + escape(where) if where else ''}"
                     + (f'<div class="note">{escape(note)}</div>' if note else "")
                     + (f'<div class="note"><a href="{escape(voucher)}?lang={language}">{escape(text["voucher"])}'
                        "</a></div>" if voucher else "") + "</td></tr>")
        html += "</table>"
    return html


def _about_html(context: ClientContext) -> str:
    """Who travels, who arranged the trip and how to reach them during it."""
    lines = context.header_lines()
    return f'<section class="about">{"".join(f"<p>{escape(line)}</p>" for line in lines)}</section>' if lines else ""


# --- proposals ---------------------------------------------------------------------------------------------------

async def _open_proposal(request: Request, token: str):
    claims = request.app.state.link_signer.verify(token, PROPOSAL)
    itinerary_id, round_id, customer_id = (claims.subject_id.split("/") + ["", "", ""])[:3]
    view = await services.view_itinerary(request.app.state.runtime.transaction, claims.tenant_id, itinerary_id)
    proposal = next((r for r in view.itinerary.proposal_rounds if r.id == round_id), None)
    if proposal is None or customer_id not in proposal.recipients:
        raise InvalidLink("This proposal no longer exists.")
    language = view.known.get(customer_id, {}).get("preferred_language", "en")
    return view, proposal, customer_id, (language if language in TEXT else "en")


async def _proposal_page(request: Request, view: services.ItineraryView, proposal, token: str, language: str,
                   error: str | None = None, status: int = 200) -> HTMLResponse:
    itinerary = view.itinerary
    text = TEXT[language]
    body = f"<h1>{escape(text['proposal'])}: {escape(itinerary.title)}</h1>"
    if itinerary.start_date:
        body += f"<p>{itinerary.start_date} {text['to']} {itinerary.end_date or ''}</p>"
    body += _about_html(await client_context(request, view, language))
    if proposal.message:
        body += f"<p><em>{escape(text['note'])}:</em> {escape(proposal.message)}</p>"
    if error:
        body += f'<p class="error" role="alert">{escape(error)}</p>'
    answered = proposal.decision is not None or proposal is not itinerary.proposal_rounds[-1]
    if proposal.decision is not None:
        body += f"<p><strong>{escape(text['answered'].format(at=proposal.decision.at.date()))}</strong></p>"
    for option in proposal.options:
        prices = ", ".join(f"{amount} {currency}" for currency, amount in option.prices.items())
        body += (f'<section class="option"><h2>{escape(option.title)}</h2>'
                 + (f"<p>{escape(option.note)}</p>" if option.note else "")
                 + f'<p class="price">{escape(text["price"])}: {escape(prices or "—")}</p>'
                 + _days_html([item_from_snapshot(item) for item in option.items], language, itinerary.start_date))
        if not answered:
            body += (f'<form method="post" action="/proposals/{escape(token)}" class="noprint">'
                     f'<input type="hidden" name="action" value="approve">'
                     f'<input type="hidden" name="option" value="{escape(option.id)}">'
                     f'<button type="submit">{escape(text["approve"])}</button></form>')
        body += "</section>"
    if not answered:
        body += (f'<section class="noprint"><h2>{escape(text["changes"])}</h2>'
                 f'<form method="post" action="/proposals/{escape(token)}"><input type="hidden" name="action" '
                 f'value="changes"><label for="comment">{escape(text["comment"])}</label>'
                 f'<textarea id="comment" name="comment" rows="4"></textarea>'
                 f'<button type="submit">{escape(text["send"])}</button></form></section>')
    return _page(language, f"{text['proposal']}: {itinerary.title}", body, status)


@router.get("/proposals/{token}")
async def proposal_page(token: str, request: Request) -> HTMLResponse:
    try:
        view, proposal, _, language = await _open_proposal(request, token)
    except DomainError as error:
        return invalid_link_page(error, style=STYLE)
    return await _proposal_page(request, view, proposal, token, language)


@router.post("/proposals/{token}")
async def answer_proposal(token: str, request: Request) -> HTMLResponse:
    try:
        view, proposal, customer_id, language = await _open_proposal(request, token)
    except DomainError as error:
        return invalid_link_page(error, style=STYLE)
    form = {key: values[-1] for key, values in (await read_form(request)).items()}
    approve = form.get("action") == "approve"
    if form.get("action") not in ("approve", "changes"):
        return await _proposal_page(request, view, proposal, token, language,
                              "Please choose an option or write to us.", 422)
    try:
        await services.answer_proposal(request.app.state.runtime.transaction, view.itinerary.tenant_id,
                                       view.itinerary.id, proposal.id, customer_id, approve=approve,
                                       option_id=form.get("option"), comment=form.get("comment"))
    except DomainError as error:
        current, fresh_proposal, _, _ = await _open_proposal(request, token)
        return await _proposal_page(request, current, fresh_proposal, token, language, error.detail, error.status)
    text = TEXT[language]
    if approve:
        option = proposal.option(form.get("option"))
        message = text["approved"].format(option=option.title)
    else:
        message = text["changes_sent"]
    return _page(language, text["proposal"], f"<h1>{escape(message)}</h1>")


# --- the shared itinerary -------------------------------------------------------------------------------------------

async def _open_trip(request: Request, token: str) -> services.ItineraryView:
    claims = request.app.state.link_signer.verify(token, SHARED_TRIP)
    view = await services.view_itinerary(request.app.state.runtime.transaction, claims.tenant_id, claims.subject_id)
    if view.itinerary.stage == "cancelled":
        raise InvalidLink("This trip was cancelled.")
    return view


@router.get("/trips/{token}")
async def shared_trip(token: str, request: Request, lang: str = "en") -> HTMLResponse:
    try:
        view = await _open_trip(request, token)
    except DomainError as error:
        return invalid_link_page(error, style=STYLE)
    itinerary = view.itinerary
    language = lang if lang in TEXT else "en"
    text = TEXT[language]
    switch = "zh-Hans" if language == "en" else "en"
    notify_url = request.app.state.runtime.settings.notify_public_url  # the agency's messages, live
    updates = (f'<a href="{escape(trip_updates_url(notify_url, token))}?lang={language}">'
               f'{escape(text["updates"])}</a> · ') if notify_url else ""
    feedback_url = request.app.state.runtime.settings.feedback_public_url  # where to complain, with the same link
    if feedback_url:
        updates += (f'<a href="{escape(trip_complaint_url(feedback_url, token))}?lang={language}">'
                    f'{escape(text["complain"])}</a> · ')
    body = (f"<h1>{escape(text['trip'])}: {escape(itinerary.title)}</h1>"
            + (f"<p>{itinerary.start_date} {text['to']} {itinerary.end_date or ''}</p>" if itinerary.start_date else "")
            + _about_html(await client_context(request, view, language))
            + f'<p class="noprint"><a href="/trips/{escape(token)}/calendar.ics?lang={language}">'
              f'{escape(text["calendar"])}</a> · '
              f'<a href="/trips/{escape(token)}/itinerary.pdf?lang={language}">{escape(text["pdf"])}</a> · '
            + updates
            + f'<button type="button" id="print-page">{escape(text["print"])}</button> · '
              f'<a href="/trips/{escape(token)}?lang={switch}">{"中文" if switch == "zh-Hans" else "English"}</a></p>'
            + _days_html(itinerary.items, language, itinerary.start_date, _vouchers(view))
            + f'<script src="{PRINT_SCRIPT}" defer></script>')
    return _page(language, f"{text['trip']}: {itinerary.title}", body)


def _vouchers(view: services.ItineraryView) -> dict[str, str]:
    """Each item's voucher, while its booking is confirmed (the booking service signs the link)."""
    return {item_id: booking["voucher_url"] for item_id, booking in view.bookings_by_item.items()
            if booking.get("status") == "confirmed" and booking.get("voucher_url")}


@router.get(PRINT_SCRIPT)
async def print_script() -> Response:
    # A file of its own, not an inline handler: the pages' Content-Security-Policy allows scripts from here only.
    return Response("document.getElementById('print-page')?.addEventListener('click', () => window.print());\n",
                    media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/trips/{token}/calendar.ics")
async def shared_calendar(token: str, request: Request, lang: str = "en"):
    try:
        view = await _open_trip(request, token)
    except DomainError as error:
        return invalid_link_page(error, style=STYLE)
    context = await client_context(request, view, lang if lang in TEXT else "en")
    return Response(calendar_feed(view.itinerary, context), media_type="text/calendar; charset=utf-8")


@router.get("/trips/{token}/itinerary.pdf")
async def shared_pdf(token: str, request: Request, lang: str = "en"):
    try:
        view = await _open_trip(request, token)
    except DomainError as error:
        return invalid_link_page(error, style=STYLE)
    context = await client_context(request, view, lang if lang in TEXT else "en")
    return Response(itinerary_pdf(view.itinerary, context), media_type="application/pdf")
