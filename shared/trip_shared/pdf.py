"""PDFs a client keeps (the itinerary, a voucher): every font embedded, Latin and Chinese alike.

DejaVu Sans for Latin text (accents, arrows), Droid Sans Fallback for Chinese: Debian ships them
(fonts-dejavu-core, fonts-droid-fallback; `make test` and the images install them); PDF_FONT_DIRS lists other
folders to look in. A reader then shows the PDF as it was made, whatever fonts it has.
"""
from __future__ import annotations

import io
import os
import re
from functools import cache
from html import escape
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import registerFontFamily
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import SimpleDocTemplate

LATIN, LATIN_BOLD, CJK_FONT = "DejaVuSans", "DejaVuSans-Bold", "DroidSansFallback"
FONT_FILES = {LATIN: "DejaVuSans.ttf", LATIN_BOLD: "DejaVuSans-Bold.ttf", CJK_FONT: "DroidSansFallbackFull.ttf"}
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/droid", "/usr/share/fonts/dejavu",
             "/usr/share/fonts/google-droid-sans-fonts")
_CJK = re.compile(r"([\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+)")


class PdfFontsMissing(RuntimeError):
    pass


@cache
def register_fonts() -> None:
    folders = [folder for folder in os.environ.get("PDF_FONT_DIRS", "").split(os.pathsep) if folder] + list(FONT_DIRS)
    for name, file in FONT_FILES.items():
        path = next((Path(folder) / file for folder in folders if (Path(folder) / file).is_file()), None)
        if path is None:
            raise PdfFontsMissing(f"The PDF font {file} is in none of {', '.join(folders)}: install Debian's "
                                  "fonts-dejavu-core and fonts-droid-fallback, or set PDF_FONT_DIRS.")
        pdfmetrics.registerFont(TTFont(name, str(path)))
    registerFontFamily(LATIN, normal=LATIN, bold=LATIN_BOLD, italic=LATIN, boldItalic=LATIN_BOLD)


def rich(text: str | None) -> str:
    """Paragraph markup with CJK runs in the CJK font."""
    return _CJK.sub(lambda m: f'<font name="{CJK_FONT}">{m.group(1)}</font>', escape(text or ""))


def a4_document(story: list, title: str) -> bytes:
    register_fonts()
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=title, leftMargin=16 * mm, rightMargin=16 * mm,
                      topMargin=16 * mm, bottomMargin=16 * mm, initialFontName=LATIN).build(story)
    return buffer.getvalue()
