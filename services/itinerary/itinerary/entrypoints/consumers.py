"""Kafka subscribers of the itinerary service: it learns of customers only from their events."""
from __future__ import annotations

from itinerary.service_layer import services
from trip_shared.contracts.customers import (
    CustomerCreated,
    CustomerDeactivated,
    CustomerDeleted,
    CustomerErased,
    CustomersMerged,
    CustomerUpdated,
)
from trip_shared.runtime import ServiceRuntime

GROUP_ID = "itinerary"


def register(runtime: ServiceRuntime) -> None:
    consumer = runtime.consumer(GROUP_ID)
    consumer.handles(CustomerCreated)(services.record_customer)
    consumer.handles(CustomerUpdated)(services.record_customer)
    consumer.handles(CustomerDeactivated)(services.record_customer)
    consumer.handles(CustomerDeleted)(services.customer_deleted)
    consumer.handles(CustomersMerged)(services.customers_merged)
    consumer.handles(CustomerErased)(services.customer_erased)
