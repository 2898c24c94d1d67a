"""The agency's own profile, as notify keeps it: who it is on every message. Plain Python: no I/O."""
from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from trip_shared.errors import DomainError

LANGUAGES = ("en", "zh-Hans")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class InvalidAgencyProfile(DomainError):
    code = "invalid-agency-profile"


@dataclass(frozen=True)
class AgencyProfileRecord:
    name: str
    sender_email: str | None = None
    reply_to: str | None = None
    signature: str | None = None
    support_phone: str | None = None
    support_email: str | None = None
    messaging: str | None = None
    emergency_phone: str | None = None
    default_language: str = "en"
    timezone: str | None = None
    quiet_hours_start: str | None = None
    quiet_hours_end: str | None = None
    version: int = 0

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.name != "version"]

    def replaced_by(self, given: dict) -> AgencyProfileRecord:
        """The next version, the whole profile as given (a PUT): validated, or nothing changes."""
        values = {name: (given.get(name).strip() or None) if isinstance(given.get(name), str) else given.get(name)
                  for name in self.field_names()}
        if not values["name"]:
            raise InvalidAgencyProfile("name is required.", code="name-required")
        for name in ("sender_email", "reply_to", "support_email"):
            if values[name] and not _EMAIL.match(values[name]):
                raise InvalidAgencyProfile(f"{name} {values[name]!r} is not an e-mail address.")
        values["default_language"] = values["default_language"] or "en"
        if values["default_language"] not in LANGUAGES:
            raise InvalidAgencyProfile(f"default_language is one of {', '.join(LANGUAGES)}.")
        if values["timezone"]:
            try:
                ZoneInfo(values["timezone"])
            except (ZoneInfoNotFoundError, ValueError):
                raise InvalidAgencyProfile(f"timezone {values['timezone']!r} is not an IANA zone such as "
                                           "Asia/Shanghai.") from None
        quiet = (values["quiet_hours_start"], values["quiet_hours_end"])
        if any(quiet) and not (all(quiet) and all(_HHMM.match(value) for value in quiet)):
            raise InvalidAgencyProfile("quiet_hours_start and quiet_hours_end go together, as HH:MM (22:00).")
        if not (values["support_phone"] or values["support_email"] or values["emergency_phone"]):
            raise InvalidAgencyProfile("Give clients a way to reach you during the trip: support_phone, "
                                       "support_email or emergency_phone.", code="support-contact-required")
        return replace(self, **values, version=self.version + 1)
