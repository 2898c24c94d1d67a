"""The client-facing profile form: a real page the customer opens from a signed link, no API key needed.

The link authenticates (tenant, customer, purpose, expiry); a submission edits the master record and records the
preferences as a new consultation, exactly as a planner would through the API.
"""
from __future__ import annotations

from datetime import date, timedelta
from html import escape
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from customers.domain.consultation import check_preferences
from customers.domain.model import Customer
from customers.entrypoints.schemas import PreferencesIn
from customers.service_layer import services
from trip_shared.contracts.customers import Preferences
from trip_shared.errors import DomainError
from trip_shared.web.signed_links import InvalidLink, LinkSigner

PURPOSE = "customer-profile"
ACTOR = "customer (profile form)"
router = APIRouter(prefix="/forms", include_in_schema=False)

TEXT = {
    "en": {"title": "Your travel profile", "intro": "Please check and complete your details and travel wishes. "
           "Your travel planner sees what you send at once.", "first_name": "First name", "last_name": "Last name",
           "email": "E-mail", "phone": "Phone (with country code)", "language": "Preferred language",
           "date_of_birth": "Date of birth", "nationality": "Nationality (two letters, e.g. GB)",
           "passport_number": "Passport number", "passport_expiry": "Passport expiry", "pace": "Pace",
           "interests": "Interests (comma-separated)", "dietary": "Dietary needs (comma-separated)",
           "accessibility": "Accessibility or mobility needs (comma-separated)",
           "special_requirements": "Anything else we should know", "submit": "Save",
           "thanks": "Thank you — your profile is updated.", "invalid": "This link cannot be used",
           "paces": {"": "—", "relaxed": "Relaxed", "standard": "Standard", "packed": "Packed"}},
    "zh-Hans": {"title": "您的旅行资料", "intro": "请核对并补充您的资料和旅行偏好，您的旅行顾问会立即看到。",
                "first_name": "名", "last_name": "姓", "email": "电子邮箱", "phone": "电话（含国家区号）",
                "language": "首选语言", "date_of_birth": "出生日期", "nationality": "国籍（两位字母，例如 CN）",
                "passport_number": "护照号码", "passport_expiry": "护照有效期", "pace": "行程节奏",
                "interests": "兴趣（用逗号分隔）", "dietary": "饮食需求（用逗号分隔）",
                "accessibility": "无障碍或行动需求（用逗号分隔）", "special_requirements": "其他需要我们了解的事项",
                "submit": "保存", "thanks": "谢谢！您的资料已更新。", "invalid": "此链接无法使用",
                "paces": {"": "—", "relaxed": "轻松", "standard": "适中", "packed": "紧凑"}},
}


def issue_link(signer: LinkSigner, base_url: str, tenant_id: str, customer_id: str, valid_days: int):
    token, expires_at = signer.sign(PURPOSE, tenant_id, customer_id, timedelta(days=valid_days))
    return f"{base_url}/forms/profile/{token}", expires_at


def _page(language: str, body: str, status: int = 200) -> HTMLResponse:
    text = TEXT.get(language, TEXT["en"])
    html = (f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{text["title"]}</title>'
            "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}"
            "label{display:block;margin-top:.8rem;font-weight:600}input,select,textarea{width:100%;padding:.4rem}"
            "button{margin-top:1.2rem;padding:.6rem 1.4rem}.error{color:#a00;font-weight:600}</style></head>"
            f"<body>{body}</body></html>")
    return HTMLResponse(html, status_code=status)


def _field(name: str, label: str, value: object, kind: str = "text") -> str:
    shown = "" if value is None else escape(str(value))
    return f'<label for="{name}">{escape(label)}</label><input id="{name}" name="{name}" type="{kind}" value="{shown}">'


def _form(customer: Customer, token: str, preferences: dict, error: str | None = None) -> HTMLResponse:
    text = TEXT.get(customer.preferred_language, TEXT["en"])
    paces = "".join(f'<option value="{value}"{" selected" if preferences.get("pace") == value else ""}>'
                    f"{escape(label)}</option>" for value, label in text["paces"].items())
    languages = "".join(f'<option value="{code}"{" selected" if customer.preferred_language == code else ""}>'
                        f"{label}</option>" for code, label in (("en", "English"), ("zh-Hans", "简体中文")))
    body = (f"<h1>{text['title']}</h1><p>{text['intro']}</p>"
            + (f'<p class="error" role="alert">{escape(error)}</p>' if error else "")
            + f'<form method="post" action="/forms/profile/{escape(token)}">'
            + _field("first_name", text["first_name"], customer.first_name)
            + _field("last_name", text["last_name"], customer.last_name)
            + _field("email", text["email"], customer.emails[0] if customer.emails else "", "email")
            + _field("phone", text["phone"], customer.phones[0] if customer.phones else "", "tel")
            + f'<label for="language">{text["language"]}</label><select id="language" name="preferred_language">'
              f"{languages}</select>"
            + _field("date_of_birth", text["date_of_birth"], customer.date_of_birth, "date")
            + _field("nationality", text["nationality"], customer.nationality)
            + _field("passport_number", text["passport_number"], customer.passport_number)
            + _field("passport_expiry", text["passport_expiry"], customer.passport_expiry, "date")
            + f'<label for="pace">{text["pace"]}</label><select id="pace" name="pace">{paces}</select>'
            + _field("interests", text["interests"], ", ".join(preferences.get("interests", [])))
            + _field("dietary", text["dietary"], ", ".join(preferences.get("dietary", [])))
            + _field("accessibility", text["accessibility"], ", ".join(preferences.get("accessibility", [])))
            + f'<label for="special_requirements">{text["special_requirements"]}</label>'
              f'<textarea id="special_requirements" name="special_requirements" rows="3">'
              f'{escape(preferences.get("special_requirements") or "")}</textarea>'
            + f'<button type="submit">{text["submit"]}</button></form>')
    return _page(customer.preferred_language, body, 422 if error else 200)


async def _open(request: Request, token: str) -> tuple[Customer, dict]:
    claims = request.app.state.link_signer.verify(token, PURPOSE)
    transaction = request.app.state.runtime.transaction
    customer = await services.get_customer(transaction, claims.tenant_id, claims.subject_id)
    if customer.status not in ("active", "inactive"):
        raise InvalidLink("This profile can no longer be edited.")
    history = await services.consultations(transaction, claims.tenant_id, claims.subject_id)
    return customer, (history[0].preferences if history else {})


def _invalid(error: DomainError) -> HTMLResponse:
    return _page("en", f"<h1>{TEXT['en']['invalid']} · {TEXT['zh-Hans']['invalid']}</h1><p>{escape(error.detail)}</p>",
                 error.status)


@router.get("/profile/{token}")
async def profile_form(token: str, request: Request) -> HTMLResponse:
    try:
        customer, preferences = await _open(request, token)
    except DomainError as error:
        return _invalid(error)
    return _form(customer, token, preferences)


def _listed(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@router.post("/profile/{token}")
async def submit_profile(token: str, request: Request) -> HTMLResponse:
    try:
        customer, preferences = await _open(request, token)
    except DomainError as error:
        return _invalid(error)
    form = {key: values[-1].strip() for key, values in parse_qs((await request.body()).decode(errors="replace"),
                                                                keep_blank_values=True).items()}
    try:
        changes = {name: form[name] or None for name in ("first_name", "last_name", "nationality", "passport_number")
                   if name in form}
        for name in ("date_of_birth", "passport_expiry"):
            if name in form:
                changes[name] = date.fromisoformat(form[name]) if form[name] else None
        if form.get("preferred_language") in ("en", "zh-Hans"):
            changes["preferred_language"] = form["preferred_language"]
        if "email" in form:
            changes["emails"] = ([form["email"]] if form["email"] else []) + customer.emails[1:]
        if "phone" in form:
            changes["phones"] = ([form["phone"]] if form["phone"] else []) + customer.phones[1:]
        wishes = {**preferences, "pace": form.get("pace") or None,
                  "interests": _listed(form.get("interests", "")), "dietary": _listed(form.get("dietary", "")),
                  "accessibility": _listed(form.get("accessibility", "")),
                  "special_requirements": form.get("special_requirements") or None}
        new_preferences = PreferencesIn.model_validate(wishes)
    except ValidationError as error:  # a malformed pace, a too-long wish: say which, change nothing
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return _form(customer, token, preferences, f"Please check the form: {where}: {first['msg']}")
    except ValueError as error:  # a malformed date
        return _form(customer, token, preferences, f"Please check the form: {error}".splitlines()[0])
    transaction = request.app.state.runtime.transaction
    try:
        check_preferences(new_preferences.model_dump())  # before any write: a refused form changes nothing
        await services.update_customer(transaction, customer.tenant_id, ACTOR, customer.id, changes)
        if new_preferences.model_dump(mode="json") != Preferences.model_validate(preferences).model_dump(mode="json"):
            await services.record_consultation(transaction, customer.tenant_id, ACTOR, customer.id,
                                               new_preferences, "profile_form")
    except DomainError as error:
        return _form(customer, token, preferences, error.detail)
    language = changes.get("preferred_language", customer.preferred_language)
    return _page(language, f"<h1>{TEXT.get(language, TEXT['en'])['thanks']}</h1>")
