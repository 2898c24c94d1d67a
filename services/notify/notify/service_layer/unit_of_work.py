from __future__ import annotations

import contextvars

from notify.adapters.repository import (
    AGENCY_PROFILES,
    AGREEMENTS,
    CHANGE_DIGESTS,
    CONTACTS,
    FINAL_DOCUMENTS,
    MESSAGE_PREFERENCES,
    NOTIFICATIONS,
    TRIPS,
    WEBHOOK_ENDPOINTS,
    AgencyProfileRepository,
    Agreements,
    ChangeDigests,
    FinalDocumentSets,
    MessagePreferencesRepository,
    NotificationRepository,
    ReadModels,
    WebhookEndpointRepository,
)
from trip_shared.unit_of_work import UnitOfWork


class NotifyUnitOfWork(UnitOfWork):
    def bind(self) -> None:
        # What to send once committed, in the order it was recorded, each with the context it was recorded in.
        self.to_send: dict[str, contextvars.Context] = {}
        self._read: dict[tuple[str, str], dict] = {}  # what repositories read, by (what, tenant)

    def read_models(self, tenant_id: str) -> ReadModels:
        return ReadModels(self.collection(CONTACTS, tenant_id), self.collection(TRIPS, tenant_id))

    def notifications(self, tenant_id: str) -> NotificationRepository:
        return NotificationRepository(self.collection(NOTIFICATIONS, tenant_id))

    def agency_profile(self, tenant_id: str) -> AgencyProfileRepository:
        return AgencyProfileRepository(self.collection(AGENCY_PROFILES, tenant_id))

    def change_digests(self, tenant_id: str) -> ChangeDigests:
        return ChangeDigests(self.collection(CHANGE_DIGESTS, tenant_id))

    def final_documents(self, tenant_id: str) -> FinalDocumentSets:
        return FinalDocumentSets(self.collection(FINAL_DOCUMENTS, tenant_id))

    def agreements(self, tenant_id: str) -> Agreements:
        return Agreements(self.collection(AGREEMENTS, tenant_id))

    def webhook_endpoints(self, tenant_id: str) -> WebhookEndpointRepository:
        return WebhookEndpointRepository(self.collection(WEBHOOK_ENDPOINTS, tenant_id),
                                         self._read.setdefault((WEBHOOK_ENDPOINTS, tenant_id), {}))

    def message_preferences(self, tenant_id: str) -> MessagePreferencesRepository:
        return MessagePreferencesRepository(self.collection(MESSAGE_PREFERENCES, tenant_id),
                                            self._read.setdefault((MESSAGE_PREFERENCES, tenant_id), {}))
