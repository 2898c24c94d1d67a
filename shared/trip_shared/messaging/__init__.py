"""Kafka plumbing: broker factory, transactional outbox and relay, idempotent consumers with a dead-letter policy."""
