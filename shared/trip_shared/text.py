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
