"""Opaque page cursors: the client passes back what it was given; anything else is a clear 400."""
from __future__ import annotations

import base64
import binascii

from trip_shared.web.problems import ApiProblem

# Sort keys end with "<separator><id>", which is what makes them unique and usable as a page boundary.
SEPARATOR = "\x00"


def encode_cursor(sort_key: str) -> str:
    return base64.urlsafe_b64encode(sort_key.encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        sort_key = base64.b64decode(cursor.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        sort_key = ""
    if SEPARATOR not in sort_key:
        raise ApiProblem(400, "invalid-cursor", "Invalid cursor", "The cursor is not one this API gave out.")
    return sort_key
