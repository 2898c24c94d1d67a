"""The console's HTML: one shell, a table per list (cards on a phone), forms for the actions."""
from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from urllib.parse import quote

from fastapi.responses import HTMLResponse

from trip_shared.ops_console.chain import TripChain
from trip_shared.ops_console.spans import ReceivedSpan

STYLE = (
    "*{box-sizing:border-box}body{font-family:system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}"
    "header{background:#1d2430;color:#fff;padding:.7rem 1.2rem;display:flex;flex-wrap:wrap;gap:.8rem;"
    "align-items:center}header a{color:#fff}header form{margin:0}header .grow{flex:1}"
    "main{padding:1rem 1.2rem;max-width:90rem;margin:auto}h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}"
    "table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.4rem .5rem;"
    "border-bottom:1px solid #dde1e6;vertical-align:top;overflow-wrap:break-word}"
    "th{background:#eceff3;font-size:.85rem}th,td:first-child,button,.nowrap{white-space:nowrap}code{word-break:break-all}"
    "code{font-size:.85rem}.bad{color:#a4001d;font-weight:600}.ok{color:#176d2c}.muted{color:#5b6472}"
    ".flash{padding:.6rem .8rem;border-radius:4px;margin:.6rem 0}.flash.done{background:#e3f4e8}"
    ".flash.failed{background:#fde6e9}.count{display:inline-block;min-width:1.6rem;padding:0 .4rem;border-radius:.8rem;"
    "background:#a4001d;color:#fff;text-align:center;font-size:.85rem}.count.zero{background:#176d2c}"
    "button{padding:.35rem .8rem;cursor:pointer}input[type=text],input[type=password]{padding:.4rem;width:100%;"
    "max-width:28rem}ul{margin:.2rem 0;padding-left:1.1rem}.step.stuck{background:#fff4f5}"
    ".bar{height:.9rem;background:#4a78c2;border-radius:2px;min-width:2px}.bar.failed{background:#a4001d}"
    "@media (max-width:700px){table,thead,tbody,tr,th,td{display:block}thead{display:none}tr{margin:.6rem 0;"
    "border:1px solid #dde1e6;background:#fff}td{border:none;padding:.25rem .6rem;overflow-wrap:anywhere}"
    "td:first-child{white-space:normal}"
    "td::before{content:attr(data-label);display:block;font-size:.75rem;color:#5b6472}main{padding:.6rem}}"
)


def page(title: str, body: str, *, signed_in: bool = True, status: int = 200) -> HTMLResponse:
    nav = ('<a href="/">What is stuck</a><form class="grow" action="/trips" method="get">'
           '<input type="text" name="id" placeholder="Trip id" aria-label="Trip id" maxlength="200" '
           'style="max-width:16rem"> <button>Show the trip</button></form>'
           '<form action="/sign-out" method="post"><button>Sign out</button></form>') if signed_in else ""
    return HTMLResponse(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Trip Desk ops</title><style>{STYLE}</style></head><body>"
        f"<header><strong>Trip Desk ops</strong>{nav}</header><main>{body}</main></body></html>",
        status_code=status, headers={"Cache-Control": "no-store"})


def when(value) -> str:
    """An instant in UTC, named as such: ops compare times across services and zones."""
    if not value:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def table(headers: list[str], rows: list[list[str]], empty: str, *, row_classes: list[str] | None = None) -> str:
    """``rows`` are HTML already escaped, cell by cell."""
    if not rows:
        return f'<p class="muted">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = "".join(
        f'<tr class="{escape((row_classes or [""] * len(rows))[index])}">'
        + "".join(f'<td data-label="{escape(header)}">{cell}</td>' for header, cell in zip(headers, row, strict=True))
        + "</tr>" for index, row in enumerate(rows))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def action(path: str, label: str, back: str) -> str:
    return (f'<form action="{escape(path)}" method="post"><input type="hidden" name="back" value="{escape(back)}">'
            f"<button>{escape(label)}</button></form>")


def trace_link(trace_id: str | None, trace_url) -> str:
    if not trace_id:
        return '<span class="muted">none</span>'
    url = trace_url(trace_id)
    text = f"<code>{escape(trace_id[:16])}…</code>"
    return f'<a href="{escape(url)}" title="{escape(trace_id)}">{text}</a>' if url else text


def flash(done: str | None, failed: str | None) -> str:
    parts = []
    if done:
        parts.append(f'<div class="flash done" role="status">{escape(done)}</div>')
    if failed:
        parts.append(f'<div class="flash failed" role="alert">{escape(failed)}</div>')
    return "".join(parts)


def section(title: str, count: int, content: str) -> str:
    return (f'<h2>{escape(title)} <span class="count{" zero" if not count else ""}">{count}</span></h2>'
            f"{content}")


def unanswered_note(unanswered: dict[str, str]) -> str:
    if not unanswered:
        return ""
    items = "".join(f"<li><strong>{escape(service)}</strong>: {escape(why)}</li>"
                    for service, why in sorted(unanswered.items()))
    return f'<div class="flash failed" role="alert">Not everything could be read:<ul>{items}</ul></div>'


def sign_in_page(error: str | None = None) -> HTMLResponse:
    message = f'<p class="bad" role="alert">{escape(error)}</p>' if error else ""
    return page("Sign in", f"<h1>Sign in</h1>{message}<p>With your agency's API key (it needs <code>ops:read</code>; "
                           "replaying and retrying need <code>ops:write</code> and "
                           "<code>notifications:write</code>). The key stays in this browser's cookie.</p>"
                           '<form method="post" action="/sign-in"><label>API key<br>'
                           '<input type="password" name="api_key" autocomplete="off" maxlength="200" required>'
                           "</label><br><button>Sign in</button></form>",
                signed_in=False, status=401 if error else 200)


def chain_page(chain: TripChain, title: str | None, trace_url, back: str, done: str | None,
               failed: str | None, unanswered: dict[str, str]) -> HTMLResponse:
    rows, classes = [], []
    for step in chain.steps:
        handled = "".join(f"<li>{escape(h.service if h.group == h.service else f'{h.service}/{h.group}')} at "
                          f"{escape(when(h.at))}</li>" for h in step.handled)
        waiting = "".join(f'<li class="{"bad" if step.stuck else "muted"}">waiting: {escape(name)}</li>'
                          for name in step.waiting_for)
        dead = "".join(_dead_letter_item(letter, back) for letter in step.dead_lettered)
        deliveries = "".join(_delivery_item(delivery, trace_url, back) for delivery in step.deliveries)
        status = escape(step.status) + (f"<br><span class=\"muted\">{escape(when(step.published_at))}</span>"
                                        if step.published_at else "")
        rows.append([escape(when(step.at)), escape(step.service), f"<strong>{escape(step.event_type)}</strong>"
                     f'<br><code class="muted">{escape(step.event_id)}</code>', status,
                     f"<ul>{handled}{waiting}{dead}</ul>" if handled or waiting or dead else
                     '<span class="muted">nobody reads it</span>',
                     f"<ul>{deliveries}</ul>" if deliveries else "", trace_link(step.trace_id, trace_url)])
        classes.append("step stuck" if step.stuck else "step")
    stuck = sum(step.stuck for step in chain.steps) + sum(d["status"] == "open" for d in chain.other_dead_letters)
    body = (f"<h1>Trip {escape(chain.trip_id)}{f' — {escape(title)}' if title else ''}</h1>"
            + flash(done, failed) + unanswered_note(unanswered)
            + f"<p>{len(chain.steps)} event(s) announced, "
              f'<span class="{"bad" if stuck else "ok"}">{stuck} stuck</span>. Times in UTC.</p>'
            + table(["When", "Service", "Event", "Published", "Handled by", "Led to", "Trace"], rows,
                    "No service has announced anything about this trip (events are kept 7 days).",
                    row_classes=classes))
    if chain.other_deliveries:
        body += section("Messages a clock asked for", len(chain.other_deliveries),
                        "<ul>" + "".join(_delivery_item(d, trace_url, back) for d in chain.other_deliveries)
                        + "</ul>")
    if chain.other_dead_letters:
        body += section("Dead letters that are not an event", len(chain.other_dead_letters), table(
            ["Service", "Group", "Topic", "Error", ""],
            [[escape(d["service"]), escape(d["group_id"]), escape(d["topic"]), escape(d["error"][:300]),
              action(f"/actions/replay/{quote(d['service'])}/{quote(d['id'], safe='')}", "Replay", back)
              if d["status"] == "open" else "replayed"] for d in chain.other_dead_letters], ""))
    return page(f"Trip {chain.trip_id}", body)


def _dead_letter_item(letter: dict, back: str) -> str:
    settled = (action(f"/actions/replay/{quote(letter['service'])}/{quote(letter['id'], safe='')}", "Replay", back)
               if letter["status"] == "open"
               else f' <span class="ok">replayed ({escape(str(letter.get("replay_outcome")))})</span>')
    return (f'<li class="bad">dead-lettered by {escape(letter["service"])}/{escape(letter["group_id"])}: '
            f'{escape(letter["error"][:200])}{settled}</li>')


def _delivery_item(delivery: dict, trace_url, back: str) -> str:
    state = delivery["status"]
    css = "bad" if state in ("failed", "bounced", "no_address") else "ok" if state in ("sent", "delivered") else ""
    retry = action(f"/actions/retry-delivery/{quote(delivery['id'], safe='')}", "Retry", back) \
        if state == "failed" else ""
    return (f'<li>{escape(delivery["kind"])} by {escape(delivery["channel"])} to '
            f'{escape(delivery.get("audience") or "")} <code>{escape(delivery["customer_id"])}</code>: '
            f'<span class="{css}">{escape(state)}</span> {escape(when(delivery.get("sent_at")))}'
            f'{" — " + escape(delivery["last_error"][:200]) if delivery.get("last_error") else ""}'
            f" {trace_link(delivery.get('trace_id'), trace_url)}{retry}</li>")


def trace_page(trace_id: str, spans: list[ReceivedSpan]) -> HTMLResponse:
    if not spans:
        return page("Trace", f"<h1>Trace <code>{escape(trace_id)}</code></h1><p class=\"muted\">No span of this "
                             "trace has reached the console (spans arrive a few seconds after the work).</p>",
                    status=404)
    start = min(span.start_ns for span in spans)
    total = max(max(span.end_ns for span in spans) - start, 1)
    depth = _depths(spans)
    rows = []
    for span in spans:
        left = (span.start_ns - start) / total * 100
        width = max((span.end_ns - span.start_ns) / total * 100, 0.3)
        rows.append([escape(span.service), "&nbsp;" * 2 * depth.get(span.span_id, 0) + escape(span.name),
                     f"{(span.start_ns - start) / 1e6:.1f} ms", f"{(span.end_ns - span.start_ns) / 1e6:.1f} ms",
                     f'<div style="margin-left:{left:.2f}%;width:{width:.2f}%" '
                     f'class="bar{" failed" if span.failed else ""}" role="img" '
                     f'aria-label="{escape(span.name)}"></div>'])
    services = sorted({span.service for span in spans})
    body = (f"<h1>Trace <code>{escape(trace_id)}</code></h1><p>{len(spans)} spans across "
            f"{escape(', '.join(services))}, {total / 1e6:.1f} ms from the first to the last.</p>"
            + table(["Service", "Span", "Starts", "Takes", "Timeline"], rows, ""))
    return page("Trace", body)


def _depths(spans: list[ReceivedSpan]) -> dict[str, int]:
    parents = {span.span_id: span.parent_span_id for span in spans}
    depths: dict[str, int] = {}
    for span in spans:
        depth, parent, seen = 0, parents.get(span.span_id), set()
        while parent and parent in parents and parent not in seen:
            seen.add(parent)
            depth += 1
            parent = parents[parent]
        depths[span.span_id] = depth
    return depths


def _trip(trip_id: str | None) -> str:
    return f'<a href="/trips/{quote(trip_id, safe="")}">{escape(trip_id)}</a>' if trip_id else ""


def stuck_page(report: dict, trace_url, done: str | None, failed: str | None,
               unanswered: dict[str, str]) -> HTMLResponse:
    back = "/"
    outbox_rows = [[escape(row["service"]), escape(row["event_type"]), escape(row["status"]),
                    escape((row.get("last_error") or "")[:300]), escape(when(row["created_at"])),
                    action(f"/actions/republish/{quote(row['service'])}/{quote(row['event_id'], safe='')}",
                           "Publish again", back) if row["status"] == "parked" else "waits behind it"]
                   for row in report["outbox"]]
    dead_rows = [[escape(row["service"]), escape(row["group_id"]), escape(row["topic"]),
                  escape(row["error"][:300]), escape(when(row["dead_lettered_at"])),
                  action(f"/actions/replay/{quote(row['service'])}/{quote(row['id'], safe='')}", "Replay", back)]
                 for row in report["dead_letters"]]
    failed_rows = [[escape(when(row["created_at"])), escape(row["kind"]), escape(row["channel"]),
                    f'<code>{escape(row["customer_id"])}</code>', escape((row.get("last_error") or "")[:300]),
                    _trip(row.get("itinerary_id")), trace_link(row.get("trace_id"), trace_url),
                    action(f"/actions/retry-delivery/{quote(row['id'], safe='')}", "Retry", back)]
                   for row in report["failed_deliveries"]]
    unread_rows = [[_trip(row["itinerary_id"]), escape(row["title"]), escape(row["kind"]), escape(row["subject"]),
                    f'<code>{escape(row["customer_id"])}</code>', escape(row["status"])]
                   for row in report["unread_urgent"]]
    booking_rows = [[_trip(row["itinerary_id"]), escape(row["trip_title"]), escape(row["departs_on"] or ""),
                     escape(row.get("title") or ""), escape(row.get("supplier") or ""),
                     f'<span class="{"bad" if row["state"] != "pending" else ""}">{escape(row["state"])}</span>',
                     escape(f'{row.get("starts") or ""} ({row.get("timezone") or "zone unknown"})')]
                    for row in report["bookings"]]
    incident_rows = [[_trip(row["itinerary_id"]), f'<span class="bad">{escape(row["severity"])}</span>',
                      escape(row["summary"]), escape(f'{row["occurred_at"]} ({row["timezone"]})'),
                      escape(when(row["response_due_at"]))] for row in report["incidents"]]
    body = ("<h1>What is stuck</h1>" + flash(done, failed) + unanswered_note(unanswered)
            + '<p class="muted">Across the five services, for your agency. Times in UTC unless a place is named.</p>'
            + section("Events a service could not publish", len(outbox_rows), table(
                ["Service", "Event", "Status", "Why", "Since", ""], outbox_rows, "Every event reached Kafka."))
            + section("Messages a consumer gave up on", len(dead_rows), table(
                ["Service", "Group", "Topic", "Why", "Since", ""], dead_rows, "No dead letter is waiting."))
            + section("Messages that failed for good", len(failed_rows), table(
                ["Asked", "Kind", "Channel", "To", "Why", "Trip", "Trace", ""], failed_rows,
                "Every message went out or is on its way."))
            + section("Urgent news nobody read in time", len(unread_rows), table(
                ["Trip", "Title", "Kind", "Subject", "To", "Delivery"], unread_rows, "Nothing urgent is unread."))
            + section("Bookings not confirmed, trips leaving within 7 days", len(booking_rows), table(
                ["Trip", "Title", "Leaves", "Service", "Supplier", "State", "Starts (local)"], booking_rows,
                "Every booking of the trips leaving soon is confirmed."))
            + section("Incidents nobody acknowledged in time", len(incident_rows), table(
                ["Trip", "Severity", "What", "When (local)", "Due"], incident_rows,
                "Every incident has someone on it.")))
    return page("What is stuck", body)
