"""The customer record and its rules. Plain Python: no I/O, no framework."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache
from typing import Literal
from zoneinfo import available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from trip_shared.clock import utc_now
from trip_shared.errors import ConflictError, DomainError
from trip_shared.privacy import ERASED
from trip_shared.text import digits, fold, unsafe_character

Status = Literal["active", "inactive", "merged", "erased"]
# Services that hold copies of customers' personal data and confirm an erasure (see customer.erased).
ERASURE_CONFIRMERS = ("itinerary", "booking", "notify", "feedback")
LANGUAGES = {"en", "zh-Hans"}
EDITABLE_FIELDS = ("first_name", "last_name", "emails", "phones", "preferred_language", "home_timezone",
                   "date_of_birth", "nationality", "passport_number", "passport_expiry", "notes", "status")
MAX_NOTES = 5000
MAX_NAME = 200
PREFIX_LENGTH = 6  # text queries up to this long are answered by the index alone
GRAM_LENGTH = 4  # phone fragments need at least this many digits
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")


class InvalidCustomer(DomainError):
    code = "invalid-customer"


def normalise_email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidCustomer(f"'{raw}' is not a valid e-mail address: {exc}", code="invalid-email") from exc


def normalise_phone(raw: str, default_region: str | None = None) -> str:
    """E.164, so '+44 7911 123456' and '+447911123456' are one number and searchable by digits."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidCustomer(
            f"'{raw}' is not a phone number we can read; write it with its country code, e.g. +44 7911 123456.",
            code="invalid-phone",
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidCustomer(f"'{raw}' is not a valid phone number.", code="invalid-phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _checked_text(name: str, value: str | None, max_length: int, multiline: bool = False) -> str | None:
    """Stripped text, or None when blank; every way in (API, profile form, merge) meets the same limits."""
    text = (value or "").strip()
    problem = unsafe_character(text, multiline=multiline)
    if problem:
        raise InvalidCustomer(f"{name} must not contain {problem}.", code="invalid-characters")
    if len(text) > max_length:
        raise InvalidCustomer(f"{name} is longer than {max_length} characters.",
                              code=f"{name.replace('_', '-')}-too-long")
    return text or None


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


@cache
def known_time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _checked_zone(value: str | None) -> str | None:
    """An IANA zone name as the tz database spells it ("Europe/London"), or nothing."""
    zone = (value or "").strip() or None
    if zone is not None and zone not in known_time_zones():
        raise InvalidCustomer(f"home_timezone must be an IANA time zone such as Europe/London or Asia/Shanghai, "
                              f"not {zone[:64]!r}.", code="invalid-timezone")
    return zone


@dataclass
class Customer:
    id: str
    tenant_id: str
    first_name: str
    last_name: str | None = None
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    preferred_language: str = "en"
    home_timezone: str | None = None  # IANA; where they are before and after a trip (when reminders go)
    date_of_birth: date | None = None
    nationality: str | None = None
    passport_number: str | None = None
    passport_expiry: date | None = None
    notes: str | None = None
    status: Status = "active"
    merged_into: str | None = None
    version: int = 1
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)

    @classmethod
    def register(cls, tenant_id: str, first_name: str, phone_region: str | None = None, **details) -> Customer:
        """A new active customer; ``details`` are any of the editable fields besides the first name."""
        unknown = set(details) - set(EDITABLE_FIELDS) | ({"status"} & set(details))
        if unknown:
            raise InvalidCustomer(f"These fields cannot be set on a new customer: {', '.join(sorted(unknown))}.")
        customer = cls(id=str(uuid.uuid4()), tenant_id=tenant_id, first_name="")
        customer._apply({"first_name": first_name, **details}, phone_region)
        return customer

    def update(self, changes: dict, phone_region: str | None = None) -> list[tuple[str, object, object]]:
        """Apply a partial update; returns (field, before, after) for each field that really changed."""
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            raise InvalidCustomer(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
        if self.status == "merged":
            raise ConflictError(f"This record was merged into customer {self.merged_into}; edit that one.",
                                code="already-merged")
        if self.status == "erased":
            raise ConflictError("This customer was erased at their request.", code="already-erased")
        before = replace(self)
        self._apply(changes, phone_region)
        changed = [(name, getattr(before, name), getattr(self, name)) for name in EDITABLE_FIELDS
                   if getattr(before, name) != getattr(self, name)]
        if changed:
            self.version += 1
            self.updated_at = utc_now()
        return changed

    def _apply(self, changes: dict, phone_region: str | None) -> None:
        if "first_name" in changes:
            first_name = _checked_text("first_name", changes["first_name"], MAX_NAME)
            if not first_name:
                raise InvalidCustomer("first_name is required and cannot be blank.", code="first-name-required")
            self.first_name = first_name
        if "last_name" in changes:
            self.last_name = _checked_text("last_name", changes["last_name"], MAX_NAME)
        if "emails" in changes:
            self.emails = _unique([normalise_email(e) for e in changes["emails"] or []])
        if "phones" in changes:
            self.phones = _unique([normalise_phone(p, phone_region) for p in changes["phones"] or []])
        if "preferred_language" in changes:
            language = changes["preferred_language"]
            if language not in LANGUAGES:
                raise InvalidCustomer(f"preferred_language must be one of {sorted(LANGUAGES)}.",
                                      code="invalid-language")
            self.preferred_language = language
        if "home_timezone" in changes:
            self.home_timezone = _checked_zone(changes["home_timezone"])
        if "date_of_birth" in changes:
            born = changes["date_of_birth"]
            if born is not None and born > utc_now().date():
                raise InvalidCustomer("date_of_birth cannot be in the future.", code="invalid-date-of-birth")
            self.date_of_birth = born
        if "nationality" in changes:
            nationality = (changes["nationality"] or "").strip().upper() or None
            if nationality and not _COUNTRY.match(nationality):
                raise InvalidCustomer("nationality must be a two-letter ISO 3166 country code, e.g. CN or GB.",
                                      code="invalid-nationality")
            self.nationality = nationality
        if "passport_number" in changes:
            number = re.sub(r"[\s-]", "", changes["passport_number"] or "").upper() or None
            if number and not _PASSPORT.match(number):
                raise InvalidCustomer("passport_number must be 5 to 20 letters and digits.", code="invalid-passport")
            self.passport_number = number
        if "passport_expiry" in changes:
            self.passport_expiry = changes["passport_expiry"]
        if "notes" in changes:
            self.notes = _checked_text("notes", changes["notes"], MAX_NOTES, multiline=True)
        if "status" in changes:
            if changes["status"] not in ("active", "inactive"):
                raise InvalidCustomer("status must be 'active' or 'inactive'.", code="invalid-status")
            self.status = changes["status"]

    def absorb(self, duplicate: Customer) -> list[tuple[str, object, object]]:
        """Merge ``duplicate`` (the same person) into this record: its e-mails and phones are added, and fields this
        record lacks are taken from it. The duplicate is marked merged, pointing here. Returns this record's changes.
        """
        if duplicate.id == self.id:
            raise InvalidCustomer("A customer cannot be merged into itself.", code="merge-into-self")
        for customer in (self, duplicate):
            if customer.status == "merged":
                raise ConflictError(f"Customer {customer.id} was already merged into {customer.merged_into}.",
                                    code="already-merged")
        changes: dict = {"emails": self.emails + duplicate.emails, "phones": self.phones + duplicate.phones}
        for name in ("last_name", "home_timezone", "date_of_birth", "nationality", "passport_number",
                     "passport_expiry"):
            if getattr(self, name) is None and getattr(duplicate, name) is not None:
                changes[name] = getattr(duplicate, name)
        if duplicate.notes and duplicate.notes not in (self.notes or ""):
            changes["notes"] = "\n".join(note for note in (self.notes, duplicate.notes) if note)
        changed = self.update(changes)
        if not changed:  # nothing to take over still makes a new version: the merge itself is a change
            self.version += 1
            self.updated_at = utc_now()
        duplicate.status, duplicate.merged_into = "merged", self.id
        duplicate.version += 1
        duplicate.updated_at = utc_now()
        return changed

    def erase(self) -> None:
        """Forget who this was: every personal detail goes, the id stays so links and bookings still add up."""
        if self.status == "erased":
            raise ConflictError("This customer was already erased.", code="already-erased")
        self.first_name, self.last_name, self.emails, self.phones = ERASED, None, [], []
        self.date_of_birth = self.nationality = self.passport_number = self.passport_expiry = self.notes = None
        self.home_timezone = None
        self.status = "erased"
        self.version += 1
        self.updated_at = utc_now()

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def sort_key(self) -> str:
        """Orders search results by name; the id makes it unique so it can serve as a page cursor."""
        return f"{fold(self.full_name)}\x00{self.id}"

    def search_keys(self) -> list[str]:
        """Folded text a query is matched against: each name, the full name both ways, e-mails and their local part."""
        keys = self._name_keys()
        for email in self.emails:
            keys += [email, email.split("@", 1)[0]]
        return sorted(set(key for key in keys if key))

    def _name_keys(self) -> list[str]:
        keys = [fold(self.first_name), fold(self.full_name)]
        if self.last_name:
            keys += [fold(self.last_name), fold(f"{self.last_name} {self.first_name}")]
        keys += [part for name in (self.first_name, self.last_name or "") for part in fold(name).split(" ")]
        return [key for key in keys if key]

    def phone_digits(self) -> list[str]:
        """Each phone as digits, international (447911123456) and national (07911123456)."""
        found = []
        for phone in self.phones:
            found += [digits(phone), "0" + str(phonenumbers.parse(phone).national_number)]
        return sorted(set(found))

    def index_entries(self) -> dict[str, dict[str, int]]:
        """What the search index holds: short prefixes of the text keys and 4-digit runs of the phone numbers,
        each with its rank for this customer: 0 a whole name, 1 the start of a name, 2 anything else.

        Lookups are equality matches on these, which every MongoDB-protocol engine answers from an index (SecantusDB
        scans the whole collection for any regex, and a range over an array is not exact on MongoDB).

        A planner typing "li" wants the Li family before Lima and Lindqvist, and names before e-mail addresses;
        a phone fragment ranks first when it is how the number ends, the way people quote numbers.
        """
        names = [fold(self.first_name), fold(self.last_name or "")]
        words = {word for name in names for word in name.split(" ") if word} | {name for name in names if name}
        name_keys = self._name_keys()
        prefixes: dict[str, int] = {}
        for key in self.search_keys():
            for length in range(1, min(len(key), PREFIX_LENGTH) + 1):
                term = key[:length]
                rank = 0 if term in words else 1 if any(name.startswith(term) for name in name_keys) else 2
                prefixes[term] = min(rank, prefixes.get(term, rank))
        grams: dict[str, int] = {}
        for number in self.phone_digits():
            for start in range(len(number) - GRAM_LENGTH + 1):
                gram = number[start:start + GRAM_LENGTH]
                rank = 0 if start == len(number) - GRAM_LENGTH else 1
                grams[gram] = min(rank, grams.get(gram, rank))
        return {"search_prefixes": prefixes, "phone_grams": grams}

@dataclass(frozen=True)
class SearchQuery:
    """How to find what a planner typed: an index lookup, then (for long queries) an exact check of each candidate."""

    text: str
    phone: bool
    typed: str = ""

    @classmethod
    def parse(cls, query: str) -> SearchQuery:
        query = query.strip()
        phone_like = bool(query) and all(ch.isdigit() or ch in "+-() ." for ch in query) \
            and len(digits(query)) >= GRAM_LENGTH
        return cls(digits(query) if phone_like else fold(query), phone_like, query)

    @property
    def lookup(self) -> tuple[str, str] | None:
        """(index field, value) to look up; None lists everyone."""
        if not self.text:
            return None
        if self.phone:
            # The last digits typed are the selective ones; a country code alone matches a whole country.
            return "phone_grams", self.text[-GRAM_LENGTH:]
        return "search_prefixes", self.text[:PREFIX_LENGTH]

    @property
    def selective(self) -> bool:
        """Likely to match a few hundred customers at most: three letters of a name, or phone digits past the
        country code or trunk prefix they were typed from."""
        if not self.phone:
            return len(self.text) >= 3
        from_the_start = self.typed.lstrip().startswith(("+", "00", "0"))
        return not from_the_start or len(self.text) > 6

    @property
    def needs_check(self) -> bool:
        return len(self.text) > (GRAM_LENGTH if self.phone else PREFIX_LENGTH)

    def matches(self, search_keys: list[str], phone_digits: list[str]) -> bool:
        if self.phone:
            return any(self.text in number for number in phone_digits)
        return any(key.startswith(self.text) for key in search_keys)


def duplicate_reasons(candidate: Customer, existing: Customer) -> list[str]:
    """Why ``existing`` may be the same person as ``candidate``: a shared e-mail or phone, or the same name."""
    reasons = [f"same e-mail {email}" for email in candidate.emails if email in existing.emails]
    reasons += [f"same phone {phone}" for phone in candidate.phones if phone in existing.phones]
    if candidate.last_name and fold(candidate.full_name) == fold(existing.full_name):
        reasons.append("same name")
    elif (candidate.last_name and existing.last_name and fold(candidate.last_name) == fold(existing.last_name)
          and _within_one_edit(fold(candidate.first_name), fold(existing.first_name))):
        reasons.append("similar name")
    return reasons


def _within_one_edit(a: str, b: str) -> bool:
    """One letter added, dropped or changed ('Jon'/'John', 'Ana'/'Anna'); short names must match exactly."""
    if min(len(a), len(b)) < 3 or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) > len(b):
        a, b = b, a
    i = j = edits = 0
    while i < len(a) and j < len(b):
        if a[i] != b[j]:
            edits += 1
            if edits > 1:
                return False
            if len(a) == len(b):
                i += 1
            j += 1
            continue
        i, j = i + 1, j + 1
    return edits + (len(b) - j) <= 1
