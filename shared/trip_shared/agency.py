"""Who the client is dealing with: each agency's name and on-trip support contacts, per tenant.

Every client message and deliverable carries them. Until agencies keep their own profile in the platform, they are a
setting: ``AGENCY_PROFILES`` (JSON) or ``AGENCY_PROFILES_FILE`` (a JSON file), mapping a tenant id to
``{"name", "support_phone", "support_email", "emergency_phone", "messaging"}`` (all but ``name`` optional).
A tenant without one gets deliverables without them, never another agency's.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from trip_shared.config import ServiceSettings

FIELDS = ("name", "support_phone", "support_email", "emergency_phone", "messaging")


class InvalidAgencyProfiles(ValueError):
    """The setting can't be read: the service refuses to start rather than send clients the wrong contacts."""


@dataclass(frozen=True)
class AgencyProfile:
    name: str
    support_phone: str | None = None
    support_email: str | None = None
    emergency_phone: str | None = None
    messaging: str | None = None

    def support_lines(self, language: str) -> list[str]:
        """The agency and how to reach it during the trip, in the client's language."""
        words = _WORDS.get(language, _WORDS["en"])
        lines = [words["agency"].format(name=self.name).replace("..", ".")]  # "… by Demo Travel Co."
        contacts = [words[name].format(value=getattr(self, name))
                    for name in ("support_phone", "support_email", "messaging") if getattr(self, name)]
        if contacts:
            lines.append(words["support"] + " · ".join(contacts))
        if self.emergency_phone:
            lines.append(words["emergency_phone"].format(value=self.emergency_phone))
        return lines


    def supplier_lines(self, language: str) -> list[str]:
        """How a supplier reaches the agency about a booking: its name, its desk, its line that never closes."""
        words = _WORDS.get(language, _WORDS["en"])
        contacts = [words[name].format(value=getattr(self, name))
                    for name in ("support_phone", "support_email") if getattr(self, name)]
        lines = [words["supplier_contact"].format(name=self.name) + " · ".join(contacts)] if contacts else [self.name]
        if self.emergency_phone:
            lines.append(words["emergency_phone"].format(value=self.emergency_phone))
        return lines


_WORDS = {
    "en": {"agency": "Your trip is arranged by {name}.", "support": "On-trip support: ",
           "support_phone": "phone {value}", "support_email": "e-mail {value}", "messaging": "{value}",
           "emergency_phone": "24/7 emergency line: {value}", "supplier_contact": "{name}: "},
    "zh-Hans": {"agency": "本行程由{name}为您安排。", "support": "行程中联系我们：", "support_phone": "电话 {value}",
                "support_email": "邮箱 {value}", "messaging": "{value}", "emergency_phone": "24小时紧急电话：{value}",
                "supplier_contact": "{name}："},
}


class AgencyProfiles:
    def __init__(self, profiles: dict[str, AgencyProfile]) -> None:
        self._profiles = profiles

    def for_tenant(self, tenant_id: str) -> AgencyProfile | None:
        return self._profiles.get(tenant_id)

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> AgencyProfiles:
        text = settings.agency_profiles
        if settings.agency_profiles_file:
            text = Path(settings.agency_profiles_file).read_text()
        return cls.parse(text or "{}")

    @classmethod
    def parse(cls, text: str) -> AgencyProfiles:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidAgencyProfiles(f"AGENCY_PROFILES is not JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise InvalidAgencyProfiles("AGENCY_PROFILES must map tenant ids to profiles.")
        profiles = {}
        for tenant_id, fields in raw.items():
            if not isinstance(fields, dict) or not str(fields.get("name") or "").strip():
                raise InvalidAgencyProfiles(f"The agency profile of {tenant_id!r} needs at least a name.")
            unknown = set(fields) - set(FIELDS)
            if unknown:
                raise InvalidAgencyProfiles(f"The agency profile of {tenant_id!r} has unknown fields "
                                            f"{', '.join(sorted(unknown))}; known: {', '.join(FIELDS)}.")
            profiles[tenant_id] = AgencyProfile(**{name: (str(value).strip() or None) if value is not None else None
                                                   for name, value in fields.items()})
        return cls(profiles)
