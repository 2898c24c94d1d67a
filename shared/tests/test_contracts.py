"""Contracts are checked in as JSON Schema snapshots; an incompatible change must fail here."""
import json
from copy import deepcopy
from typing import Literal

import pytest
from pydantic import Field

from trip_shared.contracts import CONTRACTS, TOPICS, dlq_topic
from trip_shared.contracts.envelope import Event, Payload
from trip_shared.contracts.itinerary import CustomerLinked, ItineraryMember, ItinerarySummary, MembershipChange
from trip_shared.contracts.registry import all_topic_names
from trip_shared.contracts.snapshots import current_schemas, incompatibilities, load_snapshot


@pytest.mark.parametrize("name", sorted(current_schemas()))
def test_every_contract_is_compatible_with_its_checked_in_snapshot(name):
    snapshot = load_snapshot(name)
    assert snapshot is not None, f"no snapshot for {name}: run python -m trip_shared.contracts.snapshots --write"
    current = current_schemas()[name]
    assert incompatibilities(snapshot, current) == [], f"{name} changed incompatibly: bump event_version"
    assert current == snapshot, f"{name} changed compatibly: refresh with python -m trip_shared.contracts.snapshots --write"


class _Data(Payload):
    name: str
    count: int
    tags: list[str] = Field(default_factory=list)


class _Sample(Event):
    TOPIC = "sample.happened"
    event_type: Literal["sample.happened"] = "sample.happened"
    aggregate_type: Literal["sample"] = "sample"
    data: _Data


def _schema_with(mutate) -> tuple[dict, dict]:
    old = _Sample.model_json_schema()
    new = deepcopy(old)
    mutate(new)
    return old, new


def test_adding_an_optional_property_is_compatible():
    old, new = _schema_with(lambda s: s["$defs"]["_Data"]["properties"].update(note={"type": "string"}))
    assert incompatibilities(old, new) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda s: s["$defs"]["_Data"]["properties"].pop("count"), "data.count: property removed"),
        (lambda s: s["$defs"]["_Data"]["properties"]["count"].update(type="string"), "data.count: type changed"),
        (lambda s: (s["$defs"]["_Data"]["properties"].update(extra={"type": "string"}),
                    s["$defs"]["_Data"]["required"].append("extra")), "data.extra: new required property"),
        (lambda s: s["$defs"]["_Data"]["required"].remove("name"), "data.name: no longer required"),
        (lambda s: s["$defs"]["_Data"]["properties"]["tags"]["items"].update(type="integer"), "data.tags[]: type changed"),
        (lambda s: s["properties"].pop("tenant_id"), "tenant_id: property removed"),
    ],
)
def test_breaking_changes_are_reported(mutate, expected):
    old, new = _schema_with(mutate)
    assert any(problem.startswith(expected) for problem in incompatibilities(old, new)), incompatibilities(old, new)


def test_registry_names_each_topic_once_with_its_dead_letter_twin():
    names = [spec.name for spec in TOPICS]
    assert len(names) == len(set(names)) == len(CONTRACTS)
    assert all_topic_names().count("customer.linked.dlq") == 1
    assert dlq_topic("booking.confirmed") == "booking.confirmed.dlq"
    assert {"customer.linked", "booking.confirmed", "itinerary.changed"} <= set(names)


def test_events_round_trip_and_are_keyed_by_trip():
    summary = ItinerarySummary(itinerary_id="it-1", title="Kyoto")
    event = CustomerLinked(
        tenant_id="acme", aggregate_id="it-1", aggregate_version=3, trip_id="it-1", producer="itinerary",
        data=MembershipChange(itinerary=summary, customer_id="c-1", is_poc=True,
                              customers=[ItineraryMember(customer_id="c-1", is_poc=True)]),
    )
    parsed = CustomerLinked.model_validate_json(event.model_dump_json())
    assert parsed == event and parsed.partition_key == "it-1"
    assert json.loads(event.model_dump_json())["event_type"] == "customer.linked"


def test_consumers_ignore_fields_they_do_not_know_yet():
    payload = json.loads(CustomerLinked(
        tenant_id="acme", aggregate_id="it-1", aggregate_version=1, producer="itinerary",
        data=MembershipChange(itinerary=ItinerarySummary(itinerary_id="it-1", title="T"), customer_id="c",
                              is_poc=True, customers=[]),
    ).model_dump_json())
    payload["added_later"] = {"x": 1}
    payload["data"]["also_new"] = True
    assert CustomerLinked.model_validate(payload).aggregate_version == 1


def test_an_event_without_a_tenant_is_refused():
    with pytest.raises(ValueError):
        CustomerLinked.model_validate({"tenant_id": "", "aggregate_id": "a", "aggregate_version": 1,
                                       "producer": "p", "data": {}})


def test_the_production_topic_script_creates_every_registered_topic():
    import re
    from pathlib import Path

    script = (Path(__file__).resolve().parents[2] / "deploy" / "kafka-topics.sh").read_text()
    listed = re.search(r"^TOPICS=\"([^\"]+)\"", script, re.MULTILINE).group(1).split()
    assert sorted(listed) == sorted(spec.name for spec in TOPICS if spec.consumed)
    state = re.search(r"^STATE_TOPICS=\"([^\"]+)\"", script, re.MULTILINE).group(1).split()
    assert sorted(state) == sorted(spec.name for spec in TOPICS if not spec.consumed)
