"""The agency's suppliers: who provides a service, and how a booking request reaches them. Plain Python: no I/O."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import urlsplit

from trip_shared.clock import utc_now
from trip_shared.errors import DomainError
from trip_shared.text import fold

SUPPLIER_KINDS = ("hotel", "airline", "rail", "transfer", "activity", "restaurant", "guide", "event", "other")
CHANNELS = ("email", "webhook")
LANGUAGES = ("en", "zh-Hans")
EDITABLE = ("name", "kind", "channel", "language", "contacts", "address", "notes", "active", "webhook_url")


class InvalidSupplier(DomainError):
    code = "invalid-supplier"


@dataclass(frozen=True)
class Contact:
    name: str | None = None
    role: str | None = None  # "reservations", "night manager", …
    email: str | None = None
    phone: str | None = None


@dataclass
class Supplier:
    id: str
    tenant_id: str
    name: str
    kind: str
    channel: str = "email"
    language: str = "en"
    contacts: list[Contact] = field(default_factory=list)
    address: str | None = None
    notes: str | None = None  # the agency's own: never sent to the supplier
    active: bool = True
    webhook_url: str | None = None
    # Which signing secret a webhook supplier has (0: none). The secret itself is derived, never stored
    # (trip_shared.webhooks): shown once when made, and a rotation makes the next one.
    secret_generation: int = 0
    version: int = 1
    created_at: datetime = field(default_factory=utc_now)

    @classmethod
    def register(cls, tenant_id: str, fields: dict) -> Supplier:
        supplier = cls(id=str(uuid.uuid4()), tenant_id=tenant_id, name="", kind="other")
        return supplier.with_changes(fields)

    def with_changes(self, changes: dict) -> Supplier:
        """A validated copy; nothing changes if anything is wrong."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise InvalidSupplier(f"These supplier fields cannot be set: {', '.join(sorted(unknown))}.")
        values = {name: getattr(self, name) for name in EDITABLE} | changes
        name = (values["name"] or "").strip()
        if not name:
            raise InvalidSupplier("name is required.", code="name-required")
        if values["kind"] not in SUPPLIER_KINDS:
            raise InvalidSupplier(f"kind must be one of {', '.join(SUPPLIER_KINDS)}.")
        if values["channel"] not in CHANNELS or values["language"] not in LANGUAGES:
            raise InvalidSupplier(f"channel is one of {', '.join(CHANNELS)}; language one of {', '.join(LANGUAGES)}.")
        contacts = [contact if isinstance(contact, Contact) else Contact(**contact) for contact in values["contacts"]]
        if values["channel"] == "email" and not any(contact.email for contact in contacts):
            raise InvalidSupplier("An e-mail supplier needs a contact with an e-mail address.", code="no-email")
        url = values["webhook_url"]
        if values["channel"] == "webhook":
            parts = urlsplit(url or "")
            if parts.scheme not in ("https", "http") or not parts.hostname:
                raise InvalidSupplier("A webhook supplier needs webhook_url, an http(s) address.", code="no-webhook")
        updated = replace(self, name=name, kind=values["kind"], channel=values["channel"],
                          language=values["language"], contacts=contacts,
                          address=(values["address"] or "").strip() or None,
                          notes=(values["notes"] or "").strip() or None, active=bool(values["active"]),
                          webhook_url=url if values["channel"] == "webhook" else None)
        if updated.channel == "webhook" and not updated.secret_generation:
            updated.secret_generation = 1
        return updated

    def changed(self, changes: dict) -> Supplier:
        """The next version of this supplier, with ``changes``."""
        updated = self.with_changes(changes)
        updated.version = self.version + 1
        return updated

    def rotate_secret(self) -> int:
        if self.channel != "webhook":
            raise InvalidSupplier("Only a webhook supplier has a signing secret.", code="not-a-webhook-supplier")
        self.secret_generation += 1
        self.version += 1
        return self.secret_generation

    def matches(self, query: str) -> bool:
        """A name search: every word of the query starts a word of the name, case and accents aside."""
        words = fold(self.name).split()
        return all(any(word.startswith(part) for word in words) for part in fold(query).split())
