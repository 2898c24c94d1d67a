"""The HTML part of an e-mail, made from its plain-text part so the two always say the same. Plain Python: no I/O.

Paragraphs stay paragraphs, "  - " lines become a list, addresses become links, and what follows the signature
separator ("-- ") is the agency's footer. Styles are inline: mail clients drop style sheets.
"""
from __future__ import annotations

import re
from html import escape

_LINK = re.compile(r"(https?://[^\s<>\"]+)")
SIGNATURE_SEPARATOR = "\n-- \n"


def _inline(text: str) -> str:
    parts = _LINK.split(text)
    return "".join(f'<a href="{escape(part)}" style="color:#0b5cab">{escape(part)}</a>' if index % 2 else
                   escape(part) for index, part in enumerate(parts))


def _blocks(text: str) -> str:
    html = []
    for paragraph in re.split(r"\n\s*\n", text.strip("\n")):
        lines = paragraph.split("\n")
        items = [line for line in lines if line.startswith("  - ")]
        if items and len(items) == len(lines):
            html.append('<ul style="padding-left:1.2em;margin:0 0 1em">' + "".join(
                f'<li style="margin:.3em 0">{_inline(line[4:])}</li>' for line in items) + "</ul>")
        elif items:  # a lead-in line, then its list
            lead = [line for line in lines if not line.startswith("  - ")]
            html.append(f'<p style="margin:0 0 .4em">{"<br>".join(_inline(line) for line in lead)}</p>')
            html.append('<ul style="padding-left:1.2em;margin:0 0 1em">' + "".join(
                f'<li style="margin:.3em 0">{_inline(line[4:])}</li>' for line in items) + "</ul>")
        else:
            html.append(f'<p style="margin:0 0 1em">{"<br>".join(_inline(line) for line in lines)}</p>')
    return "".join(html)


def html_body(text: str, language: str, title: str) -> str:
    """The whole HTML document for a plain-text message."""
    main, _, footer = text.partition(SIGNATURE_SEPARATOR)
    footer_html = (f'<div style="border-top:1px solid #ddd;margin-top:1.5em;padding-top:.8em;color:#555;'
                   f'font-size:.9em">{_blocks(footer)}</div>') if footer else ""
    return (f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
            f'</head><body style="margin:0;padding:0;background:#f6f6f6">'
            f'<div style="max-width:40em;margin:0 auto;padding:1.2em;background:#fff;color:#222;'
            f"font-family:system-ui,-apple-system,'Segoe UI','PingFang SC','Noto Sans CJK SC',sans-serif;"
            f'line-height:1.5;overflow-wrap:anywhere">{_blocks(main)}{footer_html}</div></body></html>')
