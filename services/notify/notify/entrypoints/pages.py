"""The unsubscribe page a client reaches from a message (no account, no API key): RFC 8058 one-click.

Opening the link (GET) only asks, so a mail scanner that follows links stops nothing; the mail client's one-click
POST (``List-Unsubscribe=One-Click``) or the page's button stops that kind of message. English or Simplified
Chinese, the client's.
"""
from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from notify.adapters.message_links import ACKNOWLEDGE, AGREEMENT, UNSUBSCRIBE
from notify.domain.preferences import OPTIONAL_KINDS
from notify.domain.trip_changes import TripChange, describe
from notify.service_layer import services
from trip_shared.errors import DomainError
from trip_shared.web.pages import html_page, read_form, signed_page

router = APIRouter(include_in_schema=False)
TEXT = {
    "en": {"ask": "Stop getting {what}?", "button": "Unsubscribe", "done": "Done: you will no longer get {what}.",
           "essential": "Messages you need for your trip (changes to it, proposals to answer) still reach you."},
    "zh-Hans": {"ask": "不再接收{what}？", "button": "退订", "done": "已退订：您将不再收到{what}。",
                "essential": "与您行程相关的必要消息（行程变动、待确认的方案）仍会发送给您。"},
}


async def _open(request: Request, token: str) -> tuple[str, str, str, str]:
    claims = request.app.state.message_links.verify(token, UNSUBSCRIBE)
    kind = claims.link_id or ""
    if kind not in OPTIONAL_KINDS:
        raise DomainError("This link does not name a kind of message that can be stopped.", code="invalid-link")
    language = await services.contact_language(request.app.state.runtime.transaction, claims.tenant_id,
                                               claims.subject_id)
    return claims.tenant_id, claims.subject_id, kind, language


def _unsubscribe_page(language: str, kind: str, key: str, form: str = "") -> HTMLResponse:
    text, what = TEXT[language], OPTIONAL_KINDS[kind][language]
    return html_page(language, text[key].format(what=what), f"<h1>{escape(text[key].format(what=what))}</h1>{form}"
                                                            f"<p class='about'>{escape(text['essential'])}</p>")


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
@signed_page
async def ask(token: str, request: Request) -> HTMLResponse:
    _, _, kind, language = await _open(request, token)
    return _unsubscribe_page(language, kind, "ask", f"<form method='post'><button type='submit' name='confirm' "
                                                    f"value='1'>{escape(TEXT[language]['button'])}</button></form>")


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
@signed_page
async def stop(token: str, request: Request) -> HTMLResponse:
    """The mail client's one-click POST or the page's button: either stops that kind."""
    tenant_id, customer_id, kind, language = await _open(request, token)
    await services.unsubscribe(request.app.state.runtime.transaction, tenant_id, customer_id, kind)
    return _unsubscribe_page(language, kind, "done")

ACK_TEXT = {
    "en": {"ask": "Please confirm you have read this", "button": "I have read this",
           "done": "Thank you: your agency knows you have read it."},
    "zh-Hans": {"ask": "请确认您已阅读此消息", "button": "我已阅读", "done": "谢谢，旅行社已知道您已阅读。"},
}


async def _urgent(request: Request, token: str) -> tuple[str, str]:
    claims = request.app.state.message_links.verify(token, ACKNOWLEDGE)
    return claims.tenant_id, claims.subject_id


@router.get("/acknowledge/{token}", response_class=HTMLResponse)
@signed_page
async def acknowledgement_page(token: str, request: Request) -> HTMLResponse:
    """Opening the link shows what it was about and asks; a scanner following links confirms nothing."""
    tenant_id, notification_id = await _urgent(request, token)
    message = await services.get_notification(request.app.state.runtime.transaction, tenant_id, notification_id)
    language = message.get("language") if message.get("language") in ACK_TEXT else "en"
    text = ACK_TEXT[language]
    done = f"<p>{escape(text['done'])}</p>" if message.get("acknowledged_at") else (
        f"<form method='post'><button type='submit'>{escape(text['button'])}</button></form>")
    return html_page(language, text["ask"], f"<h1>{escape(message.get('subject') or '')}</h1>"
                                            f"<p class='about'>{escape(text['ask'])}</p>{done}")


@router.post("/acknowledge/{token}", response_class=HTMLResponse)
@signed_page
async def acknowledge(token: str, request: Request) -> HTMLResponse:
    tenant_id, notification_id = await _urgent(request, token)
    message = await services.acknowledge(request.app.state.runtime.transaction, tenant_id, notification_id)
    language = message.get("language") if message.get("language") in ACK_TEXT else "en"
    return html_page(language, ACK_TEXT[language]["done"], f"<h1>{escape(ACK_TEXT[language]['done'])}</h1>")


AGREE_TEXT = {
    "en": {"ask": "Does this change work for you?", "agree": "I agree", "call": "Please call me first",
           "why": "Why", "agreed": "Thank you: your agency knows you agree.",
           "called": "Thank you: your agency will call you about it.",
           "was": "Your answer so far: {answer}. You can change it here."},
    "zh-Hans": {"ask": "您同意此变动吗？", "agree": "我同意", "call": "请先致电我", "why": "原因",
                "agreed": "谢谢，旅行社已知道您同意此变动。", "called": "谢谢，旅行社会致电与您商量。",
                "was": "您目前的答复：{answer}。您可以在此修改。"},
}


async def _agreement(request: Request, token: str):
    claims = request.app.state.message_links.verify(token, AGREEMENT)
    agreement, trip, language = await services.agreement_to_answer(
        request.app.state.runtime.transaction, claims.tenant_id, claims.link_id or "", claims.subject_id)
    return claims, agreement, trip, language if language in AGREE_TEXT else "en"


@router.get("/agreements/{token}", response_class=HTMLResponse)
@signed_page
async def agreement_page(token: str, request: Request) -> HTMLResponse:
    """The change, and two buttons: opening the link answers nothing (a mail scanner follows links)."""
    claims, agreement, trip, language = await _agreement(request, token)
    text = AGREE_TEXT[language]
    lines = "".join(f"<li>{escape(line)}</li>" for change in agreement["changes"]
                    if (line := describe(TripChange.of(change), language, trip.title if trip else "")))
    why = f"<p><strong>{escape(text['why'])}:</strong> {escape(agreement['reason'])}</p>" \
        if agreement.get("reason") else ""
    given = (agreement.get("answers") or {}).get(claims.subject_id)
    so_far = text["agree" if given and given["answer"] == "agreed" else "call"]
    was = f"<p class='about'>{escape(text['was'].format(answer=so_far))}</p>" if given else ""
    return html_page(language, text["ask"], f"<h1>{escape(text['ask'])}</h1><ul>{lines}</ul>{why}{was}"
                     f"<form method='post'><button type='submit' name='answer' value='agreed'>{escape(text['agree'])}"
                     f"</button> <button type='submit' name='answer' value='call_me'>{escape(text['call'])}</button>"
                     "</form>")


@router.post("/agreements/{token}", response_class=HTMLResponse)
@signed_page
async def answer_agreement(token: str, request: Request) -> HTMLResponse:
    claims, _, _, language = await _agreement(request, token)
    answer = ((await read_form(request)).get("answer") or [""])[0]
    if answer not in ("agreed", "call_me"):
        raise DomainError("Choose one of the two answers.", code="invalid-answer")
    await services.answer_agreement(request.app.state.runtime.transaction, request.app.state.handlers,
                                    claims.tenant_id, claims.link_id or "", claims.subject_id, answer)
    done = AGREE_TEXT[language]["agreed" if answer == "agreed" else "called"]
    return html_page(language, done, f"<h1>{escape(done)}</h1>")
