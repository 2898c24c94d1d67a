"""``ETag`` out, ``If-Match`` in: the HTTP side of :mod:`trip_shared.preconditions`."""
from __future__ import annotations

from fastapi import Header, Response

from trip_shared.preconditions import Precondition, entity_tag


def if_match(value: str | None = Header(None, alias="If-Match", max_length=1000,
                                        description="Apply the change only to this revision (the ETag you read); "
                                                    "412 if it changed since.")) -> Precondition | None:
    """Dependency: the request's ``If-Match`` precondition, if it sent one."""
    return Precondition.from_header(value)


def tag(response: Response, revision: object) -> None:
    response.headers["ETag"] = entity_tag(revision)
