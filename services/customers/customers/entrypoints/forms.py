"""The client-facing profile form: a real page the customer opens from a signed link, no API key needed.

The link authenticates (tenant, customer, purpose, expiry) and works once: a submission edits the master record and
records the preferences as a new consultation, exactly as a planner would through the API, and spends the link; a
newer link supersedes it. The page never shows the passport number in full. A new e-mail address given here is used
only once its owner confirms it from the message sent to it (``/forms/email/…``).
"""
from __future__ import annotations

import functools
from datetime import date, timedelta
from html import escape
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from customers.domain.consultation import check_preferences
from customers.domain.links import IssuedLink, masked_passport
from customers.domain.model import Customer, known_time_zones, normalise_email
from customers.entrypoints.schemas import PreferencesIn
from customers.service_layer import services
from trip_shared.clock import utc_now
from trip_shared.contracts.customers import Preferences
from trip_shared.errors import DomainError
from trip_shared.web.pages import invalid_link_page
from trip_shared.web.signed_links import InvalidLink, LinkClaims, LinkSigner

PURPOSE, EMAIL_PURPOSE = services.PROFILE_FORM, services.EMAIL_CONFIRMATION
EMAIL_CONFIRMATION_VALIDITY = timedelta(days=3)
ACTOR = "customer (profile form)"
router = APIRouter(prefix="/forms", include_in_schema=False)

TEXT = {
    "en": {"title": "Your travel profile", "intro": "Please check and complete your details and travel wishes. "
           "Your travel planner sees what you send at once.", "first_name": "First name", "last_name": "Last name",
           "email": "E-mail", "phone": "Phone (with country code)", "language": "Preferred language",
           "home_timezone": "Where you live: time zone (e.g. Europe/London), so reminders reach you at a good hour",
           "date_of_birth": "Date of birth", "nationality": "Nationality (two letters, e.g. GB)",
           "passport_number": "Passport number", "passport_expiry": "Passport expiry", "pace": "Pace",
           "interests": "Interests (comma-separated)", "dietary": "Dietary needs (comma-separated)",
           "accessibility": "Accessibility or mobility needs (comma-separated)",
           "special_requirements": "Anything else we should know", "submit": "Save",
           "thanks": "Thank you — your profile is updated.",
           "passport_kept": "On record: {ending} — leave empty to keep it",
           "confirm_sent": "We sent a message to {email}: open its link to start using that address. Until then "
                           "we keep writing to your current one.",
           "confirm_title": "Confirm your e-mail address",
           "confirm_intro": "Use {email} for messages about your trips?", "confirm_button": "Yes, use this address",
           "confirmed": "Thank you — we will write to {email} from now on.",
           "paces": {"": "—", "relaxed": "Relaxed", "standard": "Standard", "packed": "Packed"}},
    "zh-Hans": {"title": "您的旅行资料", "intro": "请核对并补充您的资料和旅行偏好，您的旅行顾问会立即看到。",
                "first_name": "名", "last_name": "姓", "email": "电子邮箱", "phone": "电话（含国家区号）",
                "language": "首选语言", "home_timezone": "您居住地的时区（例如 Asia/Shanghai），以便在合适的时间提醒您",
                "date_of_birth": "出生日期", "nationality": "国籍（两位字母，例如 CN）",
                "passport_number": "护照号码", "passport_expiry": "护照有效期", "pace": "行程节奏",
                "interests": "兴趣（用逗号分隔）", "dietary": "饮食需求（用逗号分隔）",
                "accessibility": "无障碍或行动需求（用逗号分隔）", "special_requirements": "其他需要我们了解的事项",
                "submit": "保存", "thanks": "谢谢！您的资料已更新。",
                "passport_kept": "已登记：{ending}（留空则保持不变）",
                "confirm_sent": "我们已向 {email} 发送了一封邮件，请点击其中的链接以启用该地址。在此之前，"
                                "我们仍会发送到您现在的邮箱。",
                "confirm_title": "确认您的电子邮箱", "confirm_intro": "今后将行程相关邮件发送到 {email}？",
                "confirm_button": "是，使用此地址", "confirmed": "谢谢！今后我们将发送邮件到 {email}。",
                "paces": {"": "—", "relaxed": "轻松", "standard": "适中", "packed": "紧凑"}},
}


def link_url(signer: LinkSigner, base_url: str, link: IssuedLink) -> str:
    """The address of an issued link's page (the profile form, or an e-mail confirmation)."""
    token, _ = signer.sign(link.purpose, link.tenant_id, link.customer_id, link.expires_at - utc_now(), link.id)
    page = "profile" if link.purpose == PURPOSE else "email"
    return f"{base_url}/forms/{page}/{token}"


def _page(language: str, body: str, status: int = 200) -> HTMLResponse:
    text = TEXT.get(language, TEXT["en"])
    html = (f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{text["title"]}</title>'
            "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}"
            "label{display:block;margin-top:.8rem;font-weight:600}input,select,textarea{width:100%;padding:.4rem}"
            "button{margin-top:1.2rem;padding:.6rem 1.4rem}.error{color:#a00;font-weight:600}</style></head>"
            f"<body>{body}</body></html>")
    return HTMLResponse(html, status_code=status)


def _field(name: str, label: str, value: object, kind: str = "text", placeholder: str = "") -> str:
    shown = "" if value is None else escape(str(value))
    hint = f' placeholder="{escape(placeholder)}"' if placeholder else ""
    return (f'<label for="{name}">{escape(label)}</label>'
            f'<input id="{name}" name="{name}" type="{kind}" value="{shown}"{hint}>')


@functools.cache
def _zone_choices() -> str:
    """The places a browser suggests as the client types (Area/City zones; the form takes any IANA name)."""
    zones = sorted(zone for zone in known_time_zones() if "/" in zone and not zone.startswith(("Etc/", "SystemV/")))
    return "".join(f'<option value="{zone}">' for zone in zones)


def _zone_field(label: str, value: str | None) -> str:
    return (f'<label for="home_timezone">{escape(label)}</label><input id="home_timezone" name="home_timezone" '
            f'list="zones" autocomplete="off" value="{escape(value or "")}" placeholder="Europe/London">'
            f'<datalist id="zones">{_zone_choices()}</datalist>')


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
            + _zone_field(text["home_timezone"], customer.home_timezone)
            + _field("date_of_birth", text["date_of_birth"], customer.date_of_birth, "date")
            + _field("nationality", text["nationality"], customer.nationality)
            + _field("passport_number", text["passport_number"], None,
                     placeholder=text["passport_kept"].format(ending=masked_passport(customer.passport_number))
                     if customer.passport_number else "")
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


async def _open(request: Request, token: str) -> tuple[LinkClaims, Customer, dict]:
    claims = request.app.state.link_signer.verify(token, PURPOSE)
    customer, preferences = await services.open_profile_form(request.app.state.runtime.transaction, claims)
    return claims, customer, preferences


@router.get("/profile/{token}")
async def profile_form(token: str, request: Request) -> HTMLResponse:
    try:
        _, customer, preferences = await _open(request, token)
    except DomainError as error:
        return invalid_link_page(error)
    return _form(customer, token, preferences)


def _listed(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@router.post("/profile/{token}")
async def submit_profile(token: str, request: Request) -> HTMLResponse:
    try:
        claims, customer, preferences = await _open(request, token)
    except DomainError as error:
        return invalid_link_page(error)
    form = {key: values[-1].strip() for key, values in parse_qs((await request.body()).decode(errors="replace"),
                                                                keep_blank_values=True).items()}
    try:
        changes = {name: form[name] or None for name in ("first_name", "last_name", "nationality") if name in form}
        if form.get("passport_number"):  # left empty, the number on record stays (the page never shows it)
            changes["passport_number"] = form["passport_number"]
        for name in ("date_of_birth", "passport_expiry"):
            if name in form:
                changes[name] = date.fromisoformat(form[name]) if form[name] else None
        if "home_timezone" in form:
            changes["home_timezone"] = form["home_timezone"] or None
        if form.get("preferred_language") in ("en", "zh-Hans"):
            changes["preferred_language"] = form["preferred_language"]
        current_email = customer.emails[0] if customer.emails else ""
        new_email = form.get("email") if form.get("email", "").lower() != current_email else None
        if new_email:
            normalise_email(new_email)  # a malformed address is refused now, not after the confirmation
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
    except DomainError as error:  # a malformed e-mail address
        return _form(customer, token, preferences, error.detail)
    settings = request.app.state.runtime.settings
    changed_wishes = new_preferences.model_dump(mode="json") != \
        Preferences.model_validate(preferences).model_dump(mode="json")
    try:
        check_preferences(new_preferences.model_dump())  # before any write: a refused form changes nothing
        await services.submit_profile_form(
            request.app.state.runtime.transaction, claims, ACTOR, changes,
            Preferences.model_validate(new_preferences.model_dump()) if changed_wishes else None, new_email,
            EMAIL_CONFIRMATION_VALIDITY,
            lambda link: link_url(request.app.state.link_signer, settings.base_url, link))
    except InvalidLink as error:  # spent or superseded meanwhile (a second tab)
        return invalid_link_page(error)
    except DomainError as error:
        return _form(customer, token, preferences, error.detail)
    language = changes.get("preferred_language", customer.preferred_language)
    text = TEXT.get(language, TEXT["en"])
    confirm = f"<p>{escape(text['confirm_sent'].format(email=new_email))}</p>" if new_email else ""
    return _page(language, f"<h1>{text['thanks']}</h1>{confirm}")


# --- confirming a new e-mail address ------------------------------------------------------------------------------

async def _open_confirmation(request: Request, token: str) -> tuple[LinkClaims, Customer, str]:
    claims = request.app.state.link_signer.verify(token, EMAIL_PURPOSE)
    customer, email = await services.open_email_confirmation(request.app.state.runtime.transaction, claims)
    return claims, customer, email


@router.get("/email/{token}")
async def email_confirmation_page(token: str, request: Request) -> HTMLResponse:
    """A page with a button, not a change: mail scanners open links, and must not confirm an address."""
    try:
        _, customer, email = await _open_confirmation(request, token)
    except DomainError as error:
        return invalid_link_page(error)
    text = TEXT.get(customer.preferred_language, TEXT["en"])
    return _page(customer.preferred_language,
                 f"<h1>{escape(text['confirm_title'])}</h1><p>{escape(text['confirm_intro'].format(email=email))}</p>"
                 f'<form method="post" action="/forms/email/{escape(token)}">'
                 f'<button type="submit">{escape(text["confirm_button"])}</button></form>')


@router.post("/email/{token}")
async def confirm_email(token: str, request: Request) -> HTMLResponse:
    try:
        claims, customer, email = await _open_confirmation(request, token)
        await services.confirm_email(request.app.state.runtime.transaction, claims, ACTOR)
    except DomainError as error:
        return invalid_link_page(error)
    text = TEXT.get(customer.preferred_language, TEXT["en"])
    return _page(customer.preferred_language, f"<h1>{escape(text['confirmed'].format(email=email))}</h1>")
