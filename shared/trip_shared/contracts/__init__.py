"""Integration-event contracts: one module per producing service, all built on :class:`Event`.

Consumers import the producer's module; no service imports another service's package.
"""
from trip_shared.contracts.envelope import Event
from trip_shared.contracts.registry import CONTRACTS, TOPICS, TopicSpec, contract_for, dlq_topic

__all__ = ["CONTRACTS", "TOPICS", "Event", "TopicSpec", "contract_for", "dlq_topic"]
