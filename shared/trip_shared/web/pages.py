"""Pages people open from a signed link (clients, suppliers): one HTML shell and its forms."""
from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from html import escape
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse

from trip_shared.errors import DomainError

# Nothing on these pages may be wider than a phone's screen; print drops the buttons.
BASE_STYLE = ("*{box-sizing:border-box}body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;max-width:46rem;"
              "margin:2rem auto;padding:0 1rem;color:#222}h1{font-size:1.6rem}td{overflow-wrap:anywhere}"
              "textarea,input[type=text]{width:100%}button{margin-top:.6rem;padding:.5rem 1.2rem}"
              ".error{color:#a00;font-weight:600}.about{color:#444;font-size:.95rem}.about p{margin:.2rem 0}"
              "@media (max-width:600px){body{margin:1rem auto}}@media print{.noprint{display:none}body{margin:0}}")


def html_page(language: str, title: str, body: str, *, style: str = BASE_STYLE, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
        f"<style>{style}</style></head><body>{body}</body></html>", status_code=status)


async def read_form(request: Request) -> dict[str, list[str]]:
    """A posted form, every field's values (checkboxes repeat a name)."""
    return parse_qs((await request.body()).decode(errors="replace"), keep_blank_values=True)



INVALID_LINK = "This link cannot be used · 此链接无法使用"


def invalid_link_page(error: DomainError, *, style: str = BASE_STYLE) -> HTMLResponse:
    """Why a signed link cannot be used (forged, expired, for something else), in both languages: the reader's
    language is what the link would have told."""
    return html_page("en", INVALID_LINK, f"<h1>{escape(INVALID_LINK)}</h1><p>{escape(error.detail)}</p>",
                     style=style, status=error.status)


def signed_page(page: Callable[..., Awaitable[HTMLResponse]]) -> Callable[..., Awaitable[HTMLResponse]]:
    """A page reached from a signed link: a bad, expired or stale link (any refusal) shows why."""
    @functools.wraps(page)
    async def shown(*args: Any, **kwargs: Any) -> HTMLResponse:
        try:
            return await page(*args, **kwargs)
        except DomainError as error:
            return invalid_link_page(error)
    return shown
