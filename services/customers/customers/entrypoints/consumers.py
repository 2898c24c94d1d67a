"""Kafka subscribers of the customers service: it hears back from services that erased their copies."""
from __future__ import annotations

from customers.service_layer import services
from trip_shared.contracts.privacy import ErasureConfirmed
from trip_shared.runtime import ServiceRuntime

GROUP_ID = "customers"


def register(runtime: ServiceRuntime) -> None:
    runtime.consumer(GROUP_ID).handles(ErasureConfirmed)(services.record_erasure_confirmation)
