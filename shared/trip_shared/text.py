"""Text normalisation used for search keys, written once so every service folds text the same way."""
from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, strip accents and collapse spaces: 'José  Ñúñez' -> 'jose nunez'."""
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", without_marks.casefold()).strip()


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


# Characters that have no business in a name, a title or a note and that break what is built from them: C0 and C1
# controls (NUL, ESC, ...), Unicode line and paragraph separators, bidirectional overrides and isolates (which can
# make "exe.pdf" read as "fdp.exe"), and the byte-order mark. Line feeds and tabs are allowed in multi-line text only.
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_FORBIDDEN_IN_A_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def unsafe_character(text: str, *, multiline: bool) -> str | None:
    """A description of the first character ``text`` must not contain (e.g. 'U+000A LINE FEED'), or None."""
    found = (_FORBIDDEN if multiline else _FORBIDDEN_IN_A_LINE).search(text.replace("\r\n", "\n") if multiline
                                                                      else text)
    if found is None:
        return None
    char = found.group()
    return f"U+{ord(char):04X} {unicodedata.name(char, 'control character')}"


def clean_text(text: str, *, multiline: bool) -> str:
    """NFC-normalised, with Windows line ends made plain; raises ValueError naming a forbidden character."""
    normalised = unicodedata.normalize("NFC", text.replace("\r\n", "\n") if multiline else text)
    problem = unsafe_character(normalised, multiline=multiline)
    if problem:
        where = "" if multiline else " (it is a single line)"
        raise ValueError(f"must not contain {problem}{where}")
    return normalised
