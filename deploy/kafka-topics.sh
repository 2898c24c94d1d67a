#!/usr/bin/env bash
# Create every topic and its dead-letter twin on a real Kafka cluster (idempotent).
#   KAFKA_BOOTSTRAP_SERVERS=broker:9092 PARTITIONS=6 REPLICATION=3 MIN_INSYNC_REPLICAS=2 deploy/kafka-topics.sh
# With acks=all (the services' producers), min.insync.replicas=2 of 3 replicas means a published event is on two
# brokers before it counts, and the topic stays writable with one broker down.
# The list mirrors shared/trip_shared/contracts/registry.py; a test fails when they drift apart.
set -euo pipefail
BOOTSTRAP="${KAFKA_BOOTSTRAP_SERVERS:?set KAFKA_BOOTSTRAP_SERVERS}"
PARTITIONS="${PARTITIONS:-6}"
REPLICATION="${REPLICATION:-1}"
MIN_INSYNC_REPLICAS="${MIN_INSYNC_REPLICAS:-$(( REPLICATION > 2 ? 2 : 1 ))}"
KAFKA_TOPICS="${KAFKA_TOPICS_BIN:-kafka-topics.sh}"
TOPICS="customer.created customer.updated customer.deactivated customer.preferences_recorded customer.deleted customer.merged
customer.erased customer.erasure_confirmed customer.profile_link_issued customer.email_confirmation_requested
itinerary.created itinerary.changed itinerary.proposal_sent itinerary.proposal_answered itinerary.final_documents_issued customer.linked customer.unlinked
customer.poc_changed booking.requested booking.confirmed booking.declined booking.expired booking.amendment_requested
booking.cancellation_requested booking.cancelled booking.requirements_acknowledged booking.attention_changed
booking.supplier_reminded booking.escalated booking.reconfirmed
agency.profile_changed notification.undeliverable notification.recovered notification.urgent_sent
notification.urgent_acknowledged client.agreement_answered feedback.submitted
feedback.incident_reported feedback.incident_updated feedback.incident_escalated feedback.complaint_recorded
feedback.complaint_updated feedback.survey_issued feedback.survey_reminder_due feedback.survey_answered
feedback.supplier_scorecard_changed"
# Customer events carry personal details, itinerary and booking events travellers' names and needs, incidents what
# happened to whom (an illness), complaints what a client said: an erasure scrubs every service's copy at once, and Kafka drops what it still holds
# after this retention (7 days unless set).
PERSONAL_DATA_RETENTION_MS="${PERSONAL_DATA_RETENTION_MS:-604800000}"
# State topics (registry: compacted=True): the latest value per key until a tombstone, read from the start by a
# service rebuilding its copies; no .dlq (no consumer group reads them). Segments close daily and every key is
# compacted within 7 days, so an erased customer's details (tombstoned) leave Kafka as the change topics' do.
STATE_TOPICS="customer.state itinerary.state"
COMPACTED=(--config cleanup.policy=compact --config segment.ms=86400000 --config max.compaction.lag.ms=604800000
           --config delete.retention.ms=86400000)
for topic in $STATE_TOPICS; do
  "$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$topic" \
    --partitions "$PARTITIONS" --replication-factor "$REPLICATION" \
    --config "min.insync.replicas=$MIN_INSYNC_REPLICAS" "${COMPACTED[@]}"
done
for topic in $TOPICS; do
  retention=()
  case "$topic" in customer.*|itinerary.*|booking.*|feedback.incident_*|feedback.complaint_*) retention=(--config "retention.ms=$PERSONAL_DATA_RETENTION_MS") ;; esac
  # The whole agency profile, keyed by the agency: compacted, so a service started any time later still finds it.
  case "$topic" in agency.profile_changed) retention=("${COMPACTED[@]}") ;; esac
  for name in "$topic" "$topic.dlq"; do
    "$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$name" \
      --partitions "$PARTITIONS" --replication-factor "$REPLICATION" \
      --config "min.insync.replicas=$MIN_INSYNC_REPLICAS" "${retention[@]}"
  done
done
