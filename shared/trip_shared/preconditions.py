"""Conditional changes: a change applies only to the revision of a resource its client last saw.

Responses carry the revision as an ``ETag``; a ``PATCH`` or ``DELETE`` sent with ``If-Match`` is refused with 412
when the resource has changed since, so two people editing one record cannot overwrite each other unknowingly.
The check runs inside the change's own transaction, against the document it is about to replace.
"""
from __future__ import annotations

from dataclasses import dataclass

from trip_shared.errors import DomainError


class PreconditionFailed(DomainError):
    status = 412
    code = "precondition-failed"
    title = "The resource changed since you read it"


def entity_tag(revision: object) -> str:
    return f'"{revision}"'


@dataclass(frozen=True)
class Precondition:
    """What ``If-Match`` asked for: one of these revisions, or ``*`` (any current one)."""

    revisions: tuple[str, ...]

    @classmethod
    def from_header(cls, value: str | None) -> Precondition | None:
        if value is None or not value.strip():
            return None
        tags = [tag.strip().removeprefix("W/").strip('"') for tag in value.split(",")]
        return cls(tuple(tag for tag in tags if tag))

    def check(self, revision: object, what: str) -> None:
        if "*" in self.revisions or str(revision) in self.revisions:
            return
        raise PreconditionFailed(f"The {what} changed since you read it (it is now at {entity_tag(revision)}); "
                                 "read it again and reapply your change.", current_etag=entity_tag(revision))


def check(precondition: Precondition | None, revision: object, what: str) -> None:
    if precondition is not None:
        precondition.check(revision, what)
