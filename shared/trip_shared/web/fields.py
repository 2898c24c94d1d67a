"""Field types for request bodies, so every service bounds and cleans what clients send the same way.

``Line`` is one line of text (a name, a title, a code); ``Text`` may span lines (a note, a comment). Both refuse
control characters, bidirectional overrides and the like with a 422 naming the character; lengths are set where the
field is declared (``Field(max_length=...)``), and a test walks every service's OpenAPI to prove each has one.
``IsoDate`` is a date written as a date: a number is not a date (lax parsing would read 20270501 as a timestamp).
"""
from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from trip_shared.text import clean_text
from trip_shared.web.problems import ApiProblem

Line = Annotated[str, AfterValidator(lambda value: clean_text(value, multiline=False))]
Text = Annotated[str, AfterValidator(lambda value: clean_text(value, multiline=True))]
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _written_as_a_date(value: Any) -> Any:
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_written_as_a_date)]


def refuse_nulls(changes: dict, *names: str) -> dict:
    """A PATCH may clear an optional field with null, never one the record cannot be without (422)."""
    nulled = [name for name in names if name in changes and changes[name] is None]
    if nulled:
        raise ApiProblem(422, "invalid-request", "The request is not valid",
                         f"{', '.join(nulled)} cannot be null; leave {'them' if len(nulled) > 1 else 'it'} out to "
                         "keep the current value.")
    return changes
