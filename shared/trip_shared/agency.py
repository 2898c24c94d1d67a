"""Who the client is dealing with: each agency's name and on-trip support contacts, per tenant.

Every client message and deliverable carries them. An agency keeps its profile in notify (``PUT /v1/agency``), which
announces it (``agency.profile_changed``); itinerary and booking keep a copy from that event (``AgencyDirectory``).
Until an agency has saved one, the setting ``AGENCY_PROFILES`` (JSON) or ``AGENCY_PROFILES_FILE`` (a JSON file) maps
a tenant id to ``{"name", "support_phone", "support_email", "emergency_phone", "messaging"}`` (all but ``name``
optional).
A tenant without one gets deliverables without them, never another agency's.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from trip_shared.config import ServiceSettings
from trip_shared.read_models import apply_if_newer

FIELDS = ("name", "support_phone", "support_email", "emergency_phone", "messaging", "sender_email", "reply_to",
          "signature", "default_language", "timezone", "quiet_hours_start", "quiet_hours_end")
KNOWN_AGENCIES = "known_agencies"
CACHE_S = 5.0  # a replica that did not consume the event sees a new profile within this


class InvalidAgencyProfiles(ValueError):
    """The setting can't be read: the service refuses to start rather than send clients the wrong contacts."""


@dataclass(frozen=True)
class AgencyProfile:
    name: str
    support_phone: str | None = None
    support_email: str | None = None
    emergency_phone: str | None = None
    messaging: str | None = None
    sender_email: str | None = None  # From: of its e-mails (the platform's sender when unset)
    reply_to: str | None = None
    signature: str | None = None  # a closing line of its own, above the contacts
    default_language: str = "en"
    timezone: str | None = None  # IANA; where the agency is, for its own messages and quiet hours
    quiet_hours_start: str | None = None  # "22:00": non-urgent messages wait until the end, recipient's time
    quiet_hours_end: str | None = None

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


class AgencyDirectory:
    """Each agency's profile as its owner (notify) last announced it, else the setting's; read from this service's
    own copy, cached for a few seconds."""

    def __init__(self, db, fallback: AgencyProfiles) -> None:
        self._collection = db[KNOWN_AGENCIES] if db is not None else None
        self._fallback = fallback
        self._cache: dict[str, tuple[float, AgencyProfile | None]] = {}

    async def for_tenant(self, tenant_id: str) -> AgencyProfile | None:
        cached = self._cache.get(tenant_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        document = await self._collection.find_one({"_id": tenant_id}) if self._collection is not None else None
        profile = profile_from_document(document) if document else self._fallback.for_tenant(tenant_id)
        self._cache[tenant_id] = (time.monotonic() + CACHE_S, profile)
        return profile

    def forget(self, tenant_id: str) -> None:
        self._cache.pop(tenant_id, None)


def profile_from_document(document: dict) -> AgencyProfile:
    return AgencyProfile(**{name: document[name] for name in FIELDS if document.get(name) is not None})


async def record_agency_profile(event, uow) -> None:
    """A service's copy of the agency's profile, from ``agency.profile_changed`` (newest version wins)."""
    await apply_if_newer(uow.collection(KNOWN_AGENCIES, event.tenant_id), event.tenant_id, event.aggregate_version,
                         event.data.model_dump(mode="json"))
