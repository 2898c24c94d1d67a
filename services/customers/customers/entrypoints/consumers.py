"""Kafka subscribers of the customers service. It consumes nothing yet: it is the source of customer events."""
from __future__ import annotations

from trip_shared.runtime import ServiceRuntime

GROUP_ID = "customers"


def register(runtime: ServiceRuntime) -> None:
    """Customers owns the master record and reacts to no other service's events yet."""
