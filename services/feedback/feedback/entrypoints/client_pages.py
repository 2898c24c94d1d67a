"""The client's pages on feedback, opened from signed links (no API key), in English or Simplified Chinese: telling
the agency what went wrong (from the trip page's link), answering its offer (from the link in the messages about the
complaint), and answering a survey (each traveller's own link). A form sent with a mistake comes back with what was
written in it: nothing a client wrote is lost."""
from __future__ import annotations

import re
import uuid
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from feedback.domain.complaints import MAX_TEXT, Complaint, client_actor
from feedback.domain.surveys import InvalidAnswer, Scores, Survey, SurveyAnswer, SurveyClosed
from feedback.service_layer import services
from trip_shared.client_links import (
    COMPLAINT_VIEW,
    SURVEY_ANSWER,
    TRIP_VIEW,
    complaint_page_url,
    complaint_token,
    trip_page_url,
)
from trip_shared.clock import utc_now
from trip_shared.errors import ConflictError, DomainError
from trip_shared.local_time import instant_label, span_label, trip_zone
from trip_shared.text import clean_text
from trip_shared.web.pages import BASE_STYLE, html_page, read_form, signed_page
from trip_shared.wording import remedy_label

router = APIRouter(include_in_schema=False)
STYLE = BASE_STYLE + ("label{display:block;font-weight:600;margin-top:1rem}select{width:100%;padding:.3rem}"
                      "textarea{min-height:9rem;font:inherit}.said{white-space:pre-wrap;border-left:3px solid #ccc;"
                      "padding:.2rem 0 .2rem .8rem}.offer{border:1px solid #ccc;border-radius:6px;padding:.2rem 1rem "
                      "1rem}.status{font-weight:600}.support{color:#444;font-size:.92rem;border-top:1px solid #ddd;"
                      "margin-top:2rem;padding-top:.5rem}.support p{margin:.2rem 0}.ref{color:#555;font-size:.9rem}")
FORM_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TEXT = {
    "en": {
        "title": "Tell us what went wrong", "trip": "Your itinerary",
        "intro": "We read every message and answer within three days. Only {agency}'s team sees what you write "
                 "here. If you need help right now, call us on the numbers below.",
        "who": "Who is writing?", "about": "What is it about?", "general": "The trip in general",
        "what": "What happened?", "send": "Send to {agency}", "received": "Thank you: we have received it.",
        "reply_by": "We will answer by {when}.", "follow": "Follow it, and answer our offer, here",
        "missing": "Please tell us what happened.", "too_long": "Please keep it under {limit} characters "
        "(it has {length}).", "choose": "Please choose who is writing.", "bad_char": "The text has a character "
        "we cannot keep ({problem}); please remove it.",
        "yours": "Your complaint", "said": "What you told us", "received_on": "Received {when}",
        "looking": "We are looking into it and will answer by {when}.",
        "again": "We are looking at it again, and will answer by {when}.",
        "offer": "Our offer", "answer_by": "Please answer by {when}.",
        "accept": "Accept this offer", "why": "Not enough? Tell us why, and a senior member of our team will look "
        "again.", "escalate": "Ask for a better solution", "no_reason": "Please tell us why the offer is not "
        "enough.", "accepted": "You accepted our offer; we are carrying it out.",
        "closed": "This complaint is closed.", "lapsed": "The time to answer this offer has passed; we will be in "
        "touch.", "stale": "Our offer changed since you opened this page: here is the latest.",
        "thanks_accept": "Thank you: you accepted our offer.",
        "thanks_escalate": "Thank you: we will come back to you by {when}.", "switch": "中文"},
    "zh-Hans": {
        "title": "告诉我们哪里出了问题", "trip": "您的行程",
        "intro": "我们会认真阅读每一条意见，并在三天内答复。您在此填写的内容仅{agency}的团队可见。如需即时帮助，"
                 "请拨打下方电话。",
        "who": "您是哪位出行人？", "about": "与行程的哪一部分有关？", "general": "整个行程",
        "what": "发生了什么？", "send": "发送给{agency}", "received": "谢谢，我们已收到。",
        "reply_by": "我们将于 {when} 前答复。", "follow": "在此查看处理进度并答复我们的方案",
        "missing": "请填写发生了什么。", "too_long": "请控制在 {limit} 字以内（目前 {length} 字）。",
        "choose": "请选择您是哪位出行人。", "bad_char": "内容中有无法保存的字符（{problem}），请删除后再提交。",
        "yours": "您的投诉", "said": "您告诉我们的", "received_on": "收到时间：{when}",
        "looking": "我们正在调查，将于 {when} 前答复。", "again": "我们正在重新处理，将于 {when} 前答复。",
        "offer": "我们的方案",
        "answer_by": "请于 {when} 前答复。", "accept": "接受此方案",
        "why": "不满意？请告诉我们原因，我们的资深同事会重新处理。", "escalate": "请求更好的解决方案",
        "no_reason": "请告诉我们此方案哪里不够。", "accepted": "您已接受我们的方案，我们正在落实。",
        "closed": "此投诉已结案。", "lapsed": "此方案的答复期限已过，我们会与您联系。",
        "stale": "您打开此页面后，我们的方案有了更新，以下为最新方案。",
        "thanks_accept": "谢谢，您已接受我们的方案。", "thanks_escalate": "谢谢，我们将于 {when} 前回复您。",
        "switch": "English"},
}


def _language(lang: str | None, default: str = "en") -> str:
    return lang if lang in TEXT else default


async def _agency(request: Request, tenant_id: str):
    return await request.app.state.runtime.agencies.for_tenant(tenant_id)


def _support(agency, language: str) -> str:
    lines = agency.support_lines(language) if agency else []
    return f'<div class="support">{"".join(f"<p>{escape(line)}</p>" for line in lines)}</div>'


def _switch(path: str, language: str) -> str:
    other = "zh-Hans" if language == "en" else "en"
    return f'<a href="{escape(path)}?lang={other}">{TEXT[language]["switch"]}</a>'


def _complaint_url(request: Request, tenant_id: str, complaint_id: str) -> str:
    settings = request.app.state.runtime.settings
    return complaint_page_url(settings.base_url, complaint_token(request.app.state.link_signer, tenant_id,
                                                                 complaint_id))


# --- telling the agency what went wrong -------------------------------------------------------------------------

def _form_html(trip: dict, text: dict, agency_name: str, token: str, language: str, *, form_id: str,
               chosen: dict[str, str], error: str | None) -> str:
    names = trip.get("traveller_names") or {}
    members = [member["customer_id"] for member in trip.get("members", [])]
    if len(members) == 1:
        who = f'<input type="hidden" name="complainant" value="{escape(members[0])}">'
    else:
        options = "".join(
            f'<option value="{escape(customer)}"{" selected" if chosen.get("complainant") == customer else ""}>'
            f'{escape(names.get(customer) or f"{index}")}</option>' for index, customer in enumerate(members, 1))
        who = (f'<label for="complainant">{escape(text["who"])}</label><select id="complainant" name="complainant" '
               f'required><option value=""></option>{options}</select>')
    items = "".join(
        f'<option value="{escape(item["item_id"])}"{" selected" if chosen.get("item_id") == item["item_id"] else ""}>'
        f'{escape(item.get("title") or "")} · {escape(_when(item, language))}</option>'
        for item in trip.get("items") or [])
    return (f'<form method="post" action="/trips/{escape(token)}/complaints?lang={language}">'
            + (f'<p class="error" role="alert">{escape(error)}</p>' if error else "")
            + f'<input type="hidden" name="form_id" value="{escape(form_id)}">{who}'
            f'<label for="item_id">{escape(text["about"])}</label><select id="item_id" name="item_id">'
            f'<option value="">{escape(text["general"])}</option>{items}</select>'
            f'<label for="account">{escape(text["what"])}</label>'
            f'<textarea id="account" name="account" maxlength="{MAX_TEXT}" required>'
            f'{escape(chosen.get("account", ""))}</textarea>'
            f'<button type="submit">{escape(text["send"].format(agency=agency_name))}</button></form>')


def _when(item: dict, language: str) -> str:
    return span_label(item.get("start"), None, item.get("timezone"), None, language)


async def _complaint_form(request: Request, token: str, language: str, *, chosen: dict[str, str] | None = None,
                          error: str | None = None, form_id: str | None = None) -> HTMLResponse:
    claims = request.app.state.link_signer.verify(token, TRIP_VIEW)
    trip = await services.trip_for_pages(request.app.state.runtime.transaction, claims.tenant_id, claims.subject_id)
    agency = await _agency(request, claims.tenant_id)
    text, agency_name = TEXT[language], agency.name if agency else ""
    back = request.app.state.runtime.settings.itinerary_public_url
    body = (f"<h1>{escape(text['title'])}</h1><p>{escape(trip.get('title') or '')}</p>"
            f"<p class='about'>{escape(text['intro'].format(agency=agency_name))}</p>"
            + _form_html(trip, text, agency_name, token, language, form_id=form_id or str(uuid.uuid4()),
                         chosen=chosen or {}, error=error)
            + "<p>" + (f'<a href="{escape(trip_page_url(back, token))}?lang={language}">{escape(text["trip"])}</a> · '
                       if back else "")
            + _switch(f"/trips/{token}/complaints", language) + "</p>" + _support(agency, language))
    return html_page(language, text["title"], body, style=STYLE, status=422 if error else 200)


def _problem_with(account: str, text: dict) -> str | None:
    """What is wrong with what the client wrote, in their words; None when it can be kept."""
    if not account.strip():
        return text["missing"]
    if len(account.strip()) > MAX_TEXT:
        return text["too_long"].format(limit=MAX_TEXT, length=len(account.strip()))
    try:
        clean_text(account, multiline=True)
    except ValueError as bad:
        return text["bad_char"].format(problem=str(bad).removeprefix("must not contain "))
    return None


@router.get("/trips/{token}/complaints", response_class=HTMLResponse)
@signed_page
async def complaint_form(token: str, request: Request, lang: str = "en") -> HTMLResponse:
    return await _complaint_form(request, token, _language(lang))


@router.post("/trips/{token}/complaints", response_class=HTMLResponse)
@signed_page
async def send_complaint(token: str, request: Request, lang: str = "en") -> HTMLResponse:
    language = _language(lang)
    text = TEXT[language]
    claims = request.app.state.link_signer.verify(token, TRIP_VIEW)
    form = {name: values[0] for name, values in (await read_form(request)).items() if values}
    chosen = {name: form.get(name, "") for name in ("complainant", "item_id", "account")}
    form_id = form.get("form_id", "")
    form_id = form_id if FORM_ID.match(form_id) else None
    problem = _problem_with(chosen["account"], text) or (None if chosen["complainant"] else text["choose"])
    if problem:
        return await _complaint_form(request, token, language, chosen=chosen, error=problem, form_id=form_id)
    runtime = request.app.state.runtime
    try:
        complaint = await services.record_complaint(
            runtime.transaction, claims.tenant_id, claims.subject_id, client_actor(chosen["complainant"]), 0,
            source="client", complainant=chosen["complainant"], item_id=chosen["item_id"] or None,
            account=clean_text(chosen["account"], multiline=True), language=language, complaint_id=form_id)
    except DomainError as refused:
        if refused.status >= 500 or isinstance(refused, ConflictError):
            raise
        return await _complaint_form(request, token, language, chosen=chosen, error=refused.detail, form_id=form_id)
    trip = await services.trip_for_pages(runtime.transaction, claims.tenant_id, claims.subject_id)
    when = _deadline(complaint, trip, language)
    agency = await _agency(request, claims.tenant_id)
    body = (f"<h1>{escape(text['received'])}</h1><p>{escape(text['reply_by'].format(when=when))}</p>"
            f'<p><a href="{escape(_complaint_url(request, claims.tenant_id, complaint.id))}?lang={language}">'
            f'{escape(text["follow"])}</a></p><p class="ref">{escape(complaint.id)}</p>' + _support(agency, language))
    return html_page(language, text["received"], body, style=STYLE, status=201)


def _deadline(complaint: Complaint, trip: dict, language: str) -> str:
    moment = complaint.due_at or complaint.answer_by or utc_now()
    return instant_label(moment, trip_zone(trip.get("items") or [], complaint.item_id, utc_now()), language)


# --- answering the agency's offer ----------------------------------------------------------------------------------

def _offer_html(complaint: Complaint, text: dict, language: str) -> str:
    offer = complaint.proposal
    if offer is None:
        return ""
    amount = f"{offer.money.amount} {offer.money.currency}" if offer.money else ""
    return (f'<div class="offer"><h2>{escape(text["offer"])}</h2>'
            f'<p class="status">{escape(remedy_label(offer.remedy, amount, language))}</p>'
            f'<p class="said">{escape(offer.message)}</p></div>')


async def _complaint_page(request: Request, token: str, lang: str | None, *, notice: str | None = None,
                          error: str | None = None, reason: str = "") -> HTMLResponse:
    claims = request.app.state.link_signer.verify(token, COMPLAINT_VIEW)
    runtime = request.app.state.runtime
    complaint = await services.get_complaint(runtime.transaction, claims.tenant_id, claims.subject_id)
    trip = await services.trip_for_pages(runtime.transaction, claims.tenant_id, complaint.itinerary_id)
    language = _language(lang, complaint.language)
    text, now = TEXT[language], utc_now()
    zone = trip_zone(trip.get("items") or [], complaint.item_id, now)
    when, received = _deadline(complaint, trip, language), instant_label(complaint.received_at, zone, language)
    if complaint.status == "proposed" and complaint.answer_by and now > complaint.answer_by:
        where = f'<p class="status">{escape(text["lapsed"])}</p>'
    elif complaint.status == "proposed":
        where = (f'<p class="status">{escape(text["answer_by"].format(when=when))}</p>'
                 f'<form method="post" action="/complaints/{escape(token)}?lang={language}">'
                 f'<input type="hidden" name="version" value="{complaint.version}">'
                 f'<button type="submit" name="answer" value="accept">{escape(text["accept"])}</button></form>'
                 f'<form method="post" action="/complaints/{escape(token)}?lang={language}">'
                 f'<input type="hidden" name="version" value="{complaint.version}">'
                 + (f'<p class="error" role="alert">{escape(error)}</p>' if error else "")
                 + f'<label for="reason">{escape(text["why"])}</label>'
                 f'<textarea id="reason" name="reason" maxlength="{MAX_TEXT}">{escape(reason)}</textarea>'
                 f'<button type="submit" name="answer" value="escalate">{escape(text["escalate"])}</button></form>')
    else:
        status = {"escalated": text["again"], "accepted": text["accepted"], "closed": text["closed"]}
        where = f'<p class="status">{escape(status.get(complaint.status, text["looking"]).format(when=when))}</p>'
    agency = await _agency(request, claims.tenant_id)
    body = (f"<h1>{escape(text['yours'])}</h1><p>{escape(trip.get('title') or '')}</p>"
            + (f'<p class="status" role="status">{escape(notice)}</p>' if notice else "")
            + f"<h2>{escape(text['said'])}</h2><p class='said'>{escape(complaint.account)}</p>"
            + f"<p class='ref'>{escape(text['received_on'].format(when=received))} · {escape(complaint.id)}</p>"
            + _offer_html(complaint, text, language) + where
            + f"<p>{_switch(f'/complaints/{token}', language)}</p>" + _support(agency, language))
    return html_page(language, text["yours"], body, style=STYLE, status=422 if error else 200)


@router.get("/complaints/{token}", response_class=HTMLResponse)
@signed_page
async def complaint_page(token: str, request: Request, lang: str | None = None) -> HTMLResponse:
    return await _complaint_page(request, token, lang)


@router.post("/complaints/{token}", response_class=HTMLResponse)
@signed_page
async def answer_offer(token: str, request: Request, lang: str | None = None) -> HTMLResponse:
    """Accept, or escalate with a reason. The page names the version of the offer it showed: an answer to an offer
    that has since changed is not taken, and the latest offer is shown instead."""
    claims = request.app.state.link_signer.verify(token, COMPLAINT_VIEW)
    runtime = request.app.state.runtime
    form = {name: values[0] for name, values in (await read_form(request)).items() if values}
    answer, reason = form.get("answer"), form.get("reason", "")
    complaint = await services.get_complaint(runtime.transaction, claims.tenant_id, claims.subject_id)
    text = TEXT[_language(lang, complaint.language)]
    if form.get("version") != str(complaint.version) or complaint.status != "proposed":
        return await _complaint_page(request, token, lang, notice=text["stale"] if complaint.status == "proposed"
                                     else None)
    if answer == "escalate":
        problem = _problem_with(reason, text)
        if problem:
            return await _complaint_page(request, token, lang, error=text["no_reason"] if not reason.strip()
                                         else problem, reason=reason)
    elif answer != "accept":
        return await _complaint_page(request, token, lang)
    actor = client_actor(complaint.complainant)

    def step(found: Complaint, now) -> None:
        if found.version != complaint.version:  # answered in another tab meanwhile
            raise ConflictError("The offer changed meanwhile.", code="concurrent-change")
        if answer == "accept":
            found.accept(actor, now)
        else:
            found.escalate(clean_text(reason, multiline=True), actor, now)

    try:
        answered = await services.change_complaint(runtime.transaction, claims.tenant_id, complaint.id, step)
    except ConflictError:
        return await _complaint_page(request, token, lang)
    trip = await services.trip_for_pages(runtime.transaction, claims.tenant_id, answered.itinerary_id)
    notice = text["thanks_accept"] if answer == "accept" else \
        text["thanks_escalate"].format(when=_deadline(answered, trip, _language(lang, answered.language)))
    return await _complaint_page(request, token, lang, notice=notice)


# --- answering a survey ----------------------------------------------------------------------------------------------

SURVEY_TEXT = {
    "en": {"mid_trip": "How is your trip going?", "post_trip": "How was your trip?",
           "hello": "{name}, thank you for taking a minute: every answer is read.",
           "earlier": "You answered on {when}; you can change your answers.",
           "overall": "Overall, how satisfied are you?",
           "scale": {1: "Very poor", 2: "Poor", 3: "Fair", 4: "Good", 5: "Excellent"},
           "nps": "How likely are you to recommend {agency} to a friend? (0: not at all, 10: extremely)",
           "items": "Rate what you have done (optional)", "suppliers": "And the companies you met (optional)",
           "comment": "Anything you want to tell us?", "consent": "You may contact me about my answers.",
           "send": "Send", "thanks": "Thank you!", "sorry": "We are sorry it was not better. Someone from {agency} "
           "will contact you.", "missing": "Please answer the first two questions.",
           "changed": "Your answer was changed in another window; here it is as it stands now.",
           "closed": "This survey has closed. Thank you all the same."},
    "zh-Hans": {"mid_trip": "旅途还顺利吗？", "post_trip": "这次旅行怎么样？",
                "hello": "{name}，感谢您抽出一分钟：每一份答复我们都会认真阅读。",
                "earlier": "您已于 {when} 答复；您可以修改您的答案。",
                "overall": "总体而言，您的满意度如何？",
                "scale": {1: "很差", 2: "差", 3: "一般", 4: "好", 5: "非常好"},
                "nps": "您有多大可能向朋友推荐{agency}？（0：完全不会，10：非常可能）",
                "items": "为您体验过的安排评分（选填）", "suppliers": "以及您接触到的服务商（选填）",
                "comment": "还有什么想告诉我们的吗？", "consent": "可以就我的答复与我联系。",
                "send": "提交", "thanks": "谢谢！", "sorry": "很抱歉这次没有做得更好，{agency}的同事会与您联系。",
                "missing": "请回答前两个问题。", "changed": "您的答复已在另一个窗口中修改，以下为当前内容。",
                "closed": "此问卷已截止，仍然感谢您。"},
}
SURVEY_STYLE = STYLE + (".scale{display:flex;flex-wrap:wrap;gap:.3rem;margin:.4rem 0}.scale label{display:flex;"
                        "flex-direction:column;align-items:center;font-weight:400;margin:0;min-width:2.6rem;"
                        "border:1px solid #ccc;border-radius:6px;padding:.3rem}.scale small{font-size:.7rem;"
                        "color:#555}.rating{display:flex;justify-content:space-between;gap:.5rem;align-items:center;"
                        "margin:.4rem 0}.rating span{flex:1;overflow-wrap:anywhere}.rating select{width:auto}"
                        "label.check{font-weight:400;display:flex;gap:.5rem;align-items:flex-start}"
                        "fieldset{border:0;padding:0;margin:1rem 0 0}legend{font-weight:600}")


def _scale(name: str, values: range, chosen: str, labels: dict[int, str] | None = None) -> str:
    return '<div class="scale">' + "".join(
        f'<label><input type="radio" name="{name}" value="{value}"{" checked" if chosen == str(value) else ""}>'
        f'{value}{f"<small>{escape(labels[value])}</small>" if labels else ""}</label>' for value in values) + "</div>"


def _rating(name: str, title: str, chosen: str, labels: dict[int, str]) -> str:
    options = "".join(f'<option value="{value}"{" selected" if chosen == str(value) else ""}>'
                      f'{value} · {escape(labels[value])}</option>' for value in range(5, 0, -1))
    return (f'<div class="rating"><span>{escape(title)}</span><select name="{name}" aria-label="{escape(title)}">'
            f'<option value="">—</option>{options}</select></div>')


def _survey_fields(answer: SurveyAnswer | None, survey: Survey) -> dict[str, str]:
    """What the form shows: the traveller's answer so far, as form values."""
    if answer is None:
        return {}
    scores = answer.scores
    fields = {"overall": str(scores.overall), "nps": str(scores.nps), "comment": scores.comment or "",
              "consent": "1" if scores.consent_to_contact else ""}
    fields |= {f"item_{item['item_id']}": str(scores.item_ratings[item["item_id"]])
               for item in survey.items if item["item_id"] in scores.item_ratings}
    fields |= {f"supplier_{index}": str(scores.supplier_ratings[name])
               for index, name in enumerate(survey.suppliers) if name in scores.supplier_ratings}
    return fields


async def _survey_page(request: Request, token: str, lang: str, *, chosen: dict[str, str] | None = None,
                       notice: str | None = None, error: str | None = None, status: int = 200) -> HTMLResponse:
    claims = request.app.state.link_signer.verify(token, SURVEY_ANSWER)
    customer = claims.link_id or ""
    survey, trip, answer = await services.survey_to_answer(request.app.state.runtime.transaction, claims.tenant_id,
                                                           claims.subject_id, customer)
    language = _language(lang)
    text, agency = SURVEY_TEXT[language], await _agency(request, claims.tenant_id)
    agency_name = agency.name if agency else ""
    chosen = chosen if chosen is not None else _survey_fields(answer, survey)
    name = (trip.get("traveller_names") or {}).get(customer, "")
    zone = trip_zone(trip.get("items") or [], None, utc_now())
    intro = f"<p>{escape(text['hello'].format(name=name).lstrip('，, '))}</p>"
    if answer is not None:
        answered = instant_label(answer.answered_at, zone, language)
        intro += f"<p class='about'>{escape(text['earlier'].format(when=answered))}</p>"
    if not survey.is_open(utc_now()):
        form = f'<p class="status">{escape(text["closed"])}</p>'
    else:
        items = "".join(_rating(f"item_{item['item_id']}", item["title"], chosen.get(f"item_{item['item_id']}", ""),
                                text["scale"]) for item in survey.items)
        suppliers = "".join(_rating(f"supplier_{index}", supplier, chosen.get(f"supplier_{index}", ""), text["scale"])
                            for index, supplier in enumerate(survey.suppliers))
        form = (f'<form method="post" action="/surveys/{escape(token)}?lang={language}">'
                + (f'<p class="error" role="alert">{escape(error)}</p>' if error else "")
                + f'<input type="hidden" name="version" value="{answer.version if answer else ""}">'
                f'<fieldset><legend>{escape(text["overall"])}</legend>'
                f'{_scale("overall", range(1, 6), chosen.get("overall", ""), text["scale"])}</fieldset>'
                f'<fieldset><legend>{escape(text["nps"].format(agency=agency_name))}</legend>'
                f'{_scale("nps", range(0, 11), chosen.get("nps", ""))}</fieldset>'
                + (f'<fieldset><legend>{escape(text["items"])}</legend>{items}</fieldset>' if items else "")
                + (f'<fieldset><legend>{escape(text["suppliers"])}</legend>{suppliers}</fieldset>' if suppliers
                   else "")
                + f'<label for="comment">{escape(text["comment"])}</label>'
                f'<textarea id="comment" name="comment" maxlength="{MAX_TEXT}">{escape(chosen.get("comment", ""))}'
                f'</textarea><label class="check"><input type="checkbox" name="consent" value="1"'
                f'{" checked" if chosen.get("consent") else ""}> {escape(text["consent"])}</label>'
                f'<button type="submit">{escape(text["send"])}</button></form>')
    body = (f"<h1>{escape(text[survey.kind])}</h1><p>{escape(trip.get('title') or '')}</p>" + intro
            + (f'<p class="status" role="status">{escape(notice)}</p>' if notice else "") + form
            + f"<p>{_switch(f'/surveys/{token}', language)}</p>" + _support(agency, language))
    return html_page(language, text[survey.kind], body, style=SURVEY_STYLE, status=status)


@router.get("/surveys/{token}", response_class=HTMLResponse)
@signed_page
async def survey_page(token: str, request: Request, lang: str = "en") -> HTMLResponse:
    return await _survey_page(request, token, lang)


def _scores_from(form: dict[str, str], survey: Survey) -> Scores:
    def rating(value: str) -> int | None:
        return int(value) if value.isdigit() else None

    items = {item["item_id"]: rating(form.get(f"item_{item['item_id']}", "")) for item in survey.items}
    suppliers = {name: rating(form.get(f"supplier_{index}", "")) for index, name in enumerate(survey.suppliers)}
    return Scores(overall=rating(form.get("overall", "")) or 0, nps=rating(form.get("nps", "")) or 0,
                  item_ratings={key: value for key, value in items.items() if value},
                  supplier_ratings={key: value for key, value in suppliers.items() if value},
                  comment=clean_text(form.get("comment", ""), multiline=True).strip() or None,
                  consent_to_contact=form.get("consent") == "1")


@router.post("/surveys/{token}", response_class=HTMLResponse)
@signed_page
async def answer_survey(token: str, request: Request, lang: str = "en") -> HTMLResponse:
    language = _language(lang)
    text = SURVEY_TEXT[language]
    claims = request.app.state.link_signer.verify(token, SURVEY_ANSWER)
    runtime = request.app.state.runtime
    form = {name: values[0] for name, values in (await read_form(request)).items() if values}
    if not form.get("overall", "").isdigit() or not form.get("nps", "").isdigit():
        return await _survey_page(request, token, lang, chosen=form, error=text["missing"], status=422)
    survey, _, _ = await services.survey_to_answer(runtime.transaction, claims.tenant_id, claims.subject_id,
                                                   claims.link_id or "")
    problem = _problem_with(form["comment"], TEXT[language]) if form.get("comment", "").strip() else None
    if problem:
        return await _survey_page(request, token, lang, chosen=form, error=problem, status=422)
    version = form.get("version", "")
    try:
        answer = await services.answer_survey(runtime.transaction, claims.tenant_id, claims.subject_id,
                                              claims.link_id or "", _scores_from(form, survey), language,
                                              int(version) if version.isdigit() else None)
    except SurveyClosed:
        return await _survey_page(request, token, lang, status=409)
    except ConflictError:
        return await _survey_page(request, token, lang, notice=text["changed"], status=409)
    except InvalidAnswer as refused:
        return await _survey_page(request, token, lang, chosen=form, error=refused.detail, status=422)
    agency = await _agency(request, claims.tenant_id)
    agency_name = agency.name if agency else ""
    sorry = f"<p>{escape(text['sorry'].format(agency=agency_name))}</p>" if answer.scores.low else ""
    body = (f"<h1>{escape(text['thanks'])}</h1>{sorry}"
            f'<p><a href="/surveys/{escape(token)}?lang={language}">{escape(text[survey.kind])}</a></p>'
            + _support(agency, language))
    return html_page(language, text["thanks"], body, style=SURVEY_STYLE, status=201 if answer.version == 1 else 200)
