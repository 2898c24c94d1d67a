from __future__ import annotations

from feedback.adapters.repository import (
    COMPLAINTS,
    FEEDBACK,
    INCIDENTS,
    KNOWN_BOOKINGS,
    KNOWN_TRIPS,
    SCORECARDS,
    SURVEY_ANSWERS,
    SURVEY_SETTINGS,
    SURVEYS,
    URGENT_MESSAGES,
    ComplaintRepository,
    FeedbackRepository,
    IncidentRepository,
    KnownBookings,
    KnownTrips,
    Scorecards,
    SurveyRepository,
    UrgentMessages,
)
from trip_shared.unit_of_work import UnitOfWork


class FeedbackUnitOfWork(UnitOfWork):
    def feedback(self, tenant_id: str) -> FeedbackRepository:
        return FeedbackRepository(self.collection(FEEDBACK, tenant_id))

    def known_trips(self, tenant_id: str) -> KnownTrips:
        return KnownTrips(self.collection(KNOWN_TRIPS, tenant_id))

    def incidents(self, tenant_id: str) -> IncidentRepository:
        return IncidentRepository(self.collection(INCIDENTS, tenant_id))

    def known_bookings(self, tenant_id: str) -> KnownBookings:
        return KnownBookings(self.collection(KNOWN_BOOKINGS, tenant_id))

    def complaints(self, tenant_id: str) -> ComplaintRepository:
        return ComplaintRepository(self.collection(COMPLAINTS, tenant_id))

    def surveys(self, tenant_id: str) -> SurveyRepository:
        return SurveyRepository(self.collection(SURVEYS, tenant_id), self.collection(SURVEY_ANSWERS, tenant_id),
                                self.collection(SURVEY_SETTINGS, tenant_id))

    def scorecards(self, tenant_id: str) -> Scorecards:
        return Scorecards(self.collection(SCORECARDS, tenant_id))

    def urgent_messages(self, tenant_id: str) -> UrgentMessages:
        return UrgentMessages(self.collection(URGENT_MESSAGES, tenant_id))
