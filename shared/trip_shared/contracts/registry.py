"""The topic registry: every topic, who produces it, its contract, and its dead-letter twin."""
from __future__ import annotations

from dataclasses import dataclass

from trip_shared.contracts import agency, booking, customers, feedback, itinerary, notify, privacy
from trip_shared.contracts.envelope import Event

DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    producer: str
    contract: type[Event]
    description: str
    # Compacted: the latest value per key kept until a tombstone, read from its start by a service rebuilding a read
    # model (trip_shared.messaging.state_topics). A state topic no consumer group reads (consumed=False) has no .dlq.
    compacted: bool = False
    consumed: bool = True

    @property
    def dlq(self) -> str:
        return dlq_topic(self.name)


def dlq_topic(topic: str) -> str:
    return topic + DLQ_SUFFIX


def _spec(contract: type[Event], producer: str, description: str, *, compacted: bool = False,
          consumed: bool = True) -> TopicSpec:
    return TopicSpec(contract.TOPIC, producer, contract, description, compacted, consumed)


# Compaction drops a value once a newer one (or a tombstone) of its key is in a closed segment: segments close
# daily and the cleaner must get to every key within 7 days, so an erased customer's details leave Kafka within
# the 7 days the change topics keep them; tombstones stay a day, for readers part-way through.
COMPACTED_TOPIC_CONFIG = {"cleanup.policy": "compact", "segment.ms": "86400000",
                          "max.compaction.lag.ms": "604800000", "delete.retention.ms": "86400000"}


TOPICS: tuple[TopicSpec, ...] = (
    _spec(customers.CustomerCreated, "customers", "A customer record was created."),
    _spec(customers.CustomerUpdated, "customers", "A customer's master record changed."),
    _spec(customers.CustomerState, "customers", "Each customer as they are now, keyed by id (compacted; a "
                                                "tombstone when deleted, erased or merged away).", compacted=True,
          consumed=False),
    _spec(customers.CustomerDeactivated, "customers", "A customer became inactive."),
    _spec(customers.PreferencesRecorded, "customers", "A consultation recorded the customer's preferences."),
    _spec(customers.ProfileLinkIssued, "customers", "A customer was sent a link to their profile form."),
    _spec(customers.EmailConfirmationRequested, "customers", "A customer gave a new e-mail address on their "
                                                             "profile form; it is confirmed before it is used."),
    _spec(customers.CustomersMerged, "customers", "A duplicate customer was merged into another record."),
    _spec(customers.CustomerDeleted, "customers", "A customer record was deleted; copies go, links are removed."),
    _spec(customers.CustomerErased, "customers", "A customer's personal data must be erased everywhere."),
    _spec(privacy.ErasureConfirmed, "any", "A service erased its copy of a customer's personal data."),
    _spec(itinerary.ItineraryCreated, "itinerary", "An itinerary was created."),
    _spec(itinerary.ItineraryState, "itinerary", "Each trip as it is now, with its members, keyed by id "
                                                 "(compacted).", compacted=True, consumed=False),
    _spec(itinerary.ItineraryChanged, "itinerary", "An itinerary changed (details, items, stage): what, before "
                                                   "and after, in words too."),
    _spec(itinerary.ProposalSent, "itinerary", "Options were sent to the points of contact for approval."),
    _spec(itinerary.ProposalAnswered, "itinerary", "A point of contact approved an option or asked for changes."),
    _spec(itinerary.FinalDocumentsIssued, "itinerary", "Every booking of a trip is confirmed (or the planner sent "
                                                       "them again): its final PDF and calendar, for the clients."),
    _spec(itinerary.CustomerLinked, "itinerary", "A customer was linked to an itinerary."),
    _spec(itinerary.CustomerUnlinked, "itinerary", "A customer was removed from an itinerary."),
    _spec(itinerary.PocChanged, "itinerary", "A linked customer became, or stopped being, a point of contact."),
    _spec(booking.BookingRequested, "booking", "A booking was requested from a supplier (or the request re-sent "
                                               "as the trip is now); to_supplier is the message notify delivers."),
    _spec(booking.BookingConfirmed, "booking", "A supplier confirmed a booking or its amendment."),
    _spec(booking.BookingDeclined, "booking", "A supplier declined a request or an amendment, maybe offering an "
                                              "alternative."),
    _spec(booking.BookingExpired, "booking", "A request got no answer by its respond_by."),
    _spec(booking.BookingAmendmentRequested, "booking", "The agency asked a supplier to change a confirmed "
                                                        "booking."),
    _spec(booking.BookingCancellationRequested, "booking", "The agency asked a supplier to cancel a booking."),
    _spec(booking.BookingCancelled, "booking", "A supplier confirmed a cancellation, with its reference."),
    _spec(booking.BookingRequirementsAcknowledged, "booking", "A supplier acknowledged travellers' special "
                                                              "requirements."),
    _spec(booking.BookingSupplierReminded, "booking", "A supplier was reminded of an unanswered message, or asked to "
                                                      "reconfirm before the service."),
    _spec(booking.BookingEscalated, "booking", "A supplier did not answer after every reminder: the planner must "
                                               "act."),
    _spec(booking.BookingReconfirmed, "booking", "A supplier reconfirmed a booking before the service."),
    _spec(booking.BookingNeedsAttention, "booking", "The trip changed under a booking: an amendment or a "
                                                    "cancellation is due (or no longer is)."),
    _spec(agency.AgencyProfileChanged, "notify", "An agency saved its profile: name, senders, support contacts, "
                                                 "language, zone, quiet hours (the whole profile, keyed by the "
                                                 "agency: compacted, so the latest is always there).", compacted=True),
    _spec(notify.NotificationUndeliverable, "notify", "A message did not reach a client on a trip: no address, "
                                                      "bounced, or failed."),
    _spec(notify.NotificationRecovered, "notify", "A message announced undeliverable reached the client after all."),
    _spec(notify.UrgentMessageSent, "notify", "An urgent message went to a client, asking them to confirm reading "
                                              "it."),
    _spec(notify.UrgentMessageAcknowledged, "notify", "A client confirmed reading an urgent message."),
    _spec(notify.ChangeAgreementAnswered, "notify", "A client agreed to a change, or asked to be called about it."),
    _spec(feedback.FeedbackSubmitted, "feedback", "A traveller submitted post-trip feedback."),
    _spec(feedback.IncidentReported, "feedback", "Something went wrong on a trip (a delay, a cancellation, an "
                                                 "illness...): a documented deviation with its response deadline."),
    _spec(feedback.IncidentUpdated, "feedback", "An incident was acknowledged, acted on, costed, resolved, reopened "
                                                "or closed."),
    _spec(feedback.IncidentEscalated, "feedback", "Nobody acknowledged an incident by its response deadline."),
    _spec(feedback.ComplaintRecorded, "feedback", "A client complained (to staff, on their trip page, or through a "
                                                  "low survey score)."),
    _spec(feedback.ComplaintUpdated, "feedback", "A complaint was assigned, analysed, offered a resolution, accepted "
                                                 "or escalated by the client, or closed."),
    _spec(feedback.SurveyIssued, "feedback", "A trip's mid-trip check-in or post-trip survey was sent to its "
                                             "travellers."),
    _spec(feedback.SurveyReminderDue, "feedback", "A survey's one reminder is due to those who have not answered."),
    _spec(feedback.SurveyAnswered, "feedback", "A traveller answered a survey (or changed their answer): the scores."),
    _spec(feedback.SupplierScorecardChanged, "feedback", "A supplier's scorecard moved: its ratings, incidents and "
                                                         "complaints against its bookings."),
)

CONTRACTS: dict[str, type[Event]] = {spec.contract.model_fields["event_type"].default: spec.contract for spec in TOPICS}


def contract_for(event_type: str) -> type[Event]:
    return CONTRACTS[event_type]


def all_topic_names() -> list[str]:
    """Every topic and its dead-letter twin (state topics have none), as the broker must have them."""
    return [name for spec in TOPICS for name in ((spec.name, spec.dlq) if spec.consumed else (spec.name,))]


def topic_configs() -> dict[str, dict[str, str]]:
    """The topic-level settings a topic is created with, by name (the compacted state topics')."""
    return {spec.name: dict(COMPACTED_TOPIC_CONFIG) for spec in TOPICS if spec.compacted}
