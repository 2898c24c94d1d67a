"""The trip's updates page a client opens from their trip page (the same signed link): the agency's news for every
traveller, newest first, live as it comes (server-sent events), in English or Simplified Chinese."""
from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from notify.entrypoints.api import feed_stream
from notify.service_layer import services
from trip_shared.client_links import TRIP_VIEW, trip_page_url
from trip_shared.errors import DomainError
from trip_shared.web.pages import BASE_STYLE, html_page, invalid_link_page

router = APIRouter(include_in_schema=False)
SCRIPT = "/assets/trip-updates.js"
TEXT = {
    "en": {"title": "Updates from {agency}", "trip": "Your itinerary", "none": "No news yet: we will post every "
           "change and confirmation here as it happens.", "urgent": "Important", "live": "This page updates by "
           "itself."},
    "zh-Hans": {"title": "{agency}的最新消息", "trip": "您的行程",
                "none": "暂无消息：行程的每项变动和确认都会即时显示在这里。",
                "urgent": "重要", "live": "本页面会自动更新。"},
}
STYLE = BASE_STYLE + (".entry{border-left:3px solid #ccc;padding:.2rem 0 .2rem .8rem;margin:1rem 0}"
                      ".entry.urgent{border-color:#b00}.entry h2{font-size:1.05rem;margin:0}"
                      ".when{color:#555;font-size:.9rem;margin:.2rem 0}.entry ul{margin:.3rem 0;padding-left:1.2rem}"
                      ".flag{color:#b00;font-weight:600;margin-right:.4rem}.support{color:#444;font-size:.92rem;"
                      "border-top:1px solid #ddd;margin-top:2rem;padding-top:.5rem}.support p{margin:.2rem 0}"
                      "li{overflow-wrap:anywhere}")
# Builds each new entry from the stream with textContent only: nothing a message says is ever parsed as HTML.
UPDATES_JS = """(() => {
  const list = document.getElementById('updates');
  if (!list || !window.EventSource) return;
  const url = list.dataset.events + (list.dataset.cursor ? '&after=' + encodeURIComponent(list.dataset.cursor) : '');
  const stream = new EventSource(url);
  stream.addEventListener('entry', (message) => {
    const entry = JSON.parse(message.data);
    if (list.querySelector('[data-id="' + CSS.escape(entry.id) + '"]')) return;
    const article = document.createElement('article');
    article.className = 'entry' + (entry.urgent ? ' urgent' : '');
    article.dataset.id = entry.id;
    const title = document.createElement('h2');
    if (entry.urgent) {
      const flag = document.createElement('span');
      flag.className = 'flag';
      flag.textContent = list.dataset.urgent;
      title.append(flag);
    }
    title.append(entry.subject);
    const when = document.createElement('p');
    when.className = 'when';
    when.textContent = entry.at_label;
    const lines = document.createElement('ul');
    for (const line of entry.lines) {
      const item = document.createElement('li');
      item.textContent = line;
      lines.append(item);
    }
    article.append(title, when, lines);
    document.getElementById('no-updates')?.remove();
    list.prepend(article);
  });
})();
"""


def _entry_html(entry, text: dict) -> str:
    flag = f'<span class="flag">{escape(text["urgent"])}</span>' if entry.urgent else ""
    lines = "".join(f"<li>{escape(line)}</li>" for line in entry.lines)
    return (f'<article class="entry{" urgent" if entry.urgent else ""}" data-id="{escape(entry.id)}">'
            f'<h2>{flag}{escape(entry.subject)}</h2><p class="when">{escape(entry.at_label)}</p>'
            f'<ul>{lines}</ul></article>')


@router.get("/trips/{token}/updates", response_class=HTMLResponse)
async def trip_updates(token: str, request: Request, lang: str = "en") -> HTMLResponse:
    language = lang if lang in TEXT else "en"
    text, runtime = TEXT[language], request.app.state.runtime
    try:
        claims = request.app.state.message_links.verify(token, TRIP_VIEW)
        entries = await services.trip_feed(runtime.transaction, runtime.agencies, claims.tenant_id,
                                           claims.subject_id, language)
    except DomainError as error:
        return invalid_link_page(error)
    agency = await runtime.agencies.for_tenant(claims.tenant_id)
    title = text["title"].format(agency=agency.name if agency else "")
    back = runtime.settings.itinerary_public_url
    shown = "".join(_entry_html(entry, text) for _, entry in reversed(entries)) or \
        f'<p id="no-updates">{escape(text["none"])}</p>'
    support = "".join(f"<p>{escape(line)}</p>" for line in agency.support_lines(language)) if agency else ""
    events = f"/trips/{escape(token)}/updates/events?lang={language}"
    body = (f"<h1>{escape(title)}</h1>"
            + (f'<p><a href="{escape(trip_page_url(back, token))}?lang={language}">{escape(text["trip"])}</a> · '
               if back else "<p>") + f'{escape(text["live"])}</p>'
            + f'<div id="updates" data-events="{events}" data-cursor="{escape(entries[-1][0] if entries else "")}" '
              f'data-urgent="{escape(text["urgent"])}">{shown}</div>'
            + f'<div class="support">{support}</div><script src="{SCRIPT}" defer></script>')
    return html_page(language, title, body, style=STYLE)


@router.get("/trips/{token}/updates/events")
async def trip_update_events(token: str, request: Request, lang: str = "en"):
    try:
        claims = request.app.state.message_links.verify(token, TRIP_VIEW)
        return await feed_stream(request, claims.tenant_id, claims.subject_id, lang if lang in TEXT else "en")
    except DomainError as error:
        return invalid_link_page(error)


@router.get(SCRIPT)
async def updates_script() -> Response:
    # A file of its own: the pages' Content-Security-Policy runs scripts from this origin only.
    return Response(UPDATES_JS, media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"})
