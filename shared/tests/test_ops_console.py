"""The ops console's own parts: the trip chain put together from the services' answers (who handled what, who has
not, what is stuck), and the span view fed by the standard OTLP encoder."""
from datetime import UTC, datetime, timedelta

import httpx
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from trip_shared.ops_console import pages
from trip_shared.ops_console.app import ConsoleSettings, create_app
from trip_shared.ops_console.chain import trip_chain
from trip_shared.ops_console.spans import SpanStore, parse_export

NOW = datetime(2027, 10, 1, 12, 0, tzinfo=UTC)


def event(event_id: str, topic: str, minutes_ago: float, status: str = "published", trace: str = "ab" * 16) -> dict:
    at = NOW - timedelta(minutes=minutes_ago)
    return {"event_id": event_id, "event_type": topic, "topic": topic, "status": status, "created_at": at,
            "published_at": at if status == "published" else None, "trace_id": trace}


def handled(group: str, topics: list[str], *event_ids: str) -> dict:
    return {"consumes": {group: topics}, "items": [
        {"group_id": group, "event_id": event_id, "event_type": "x", "processed_at": NOW} for event_id in event_ids]}


def test_the_chain_says_who_handled_each_event_who_has_not_and_what_is_stuck():
    announced = {"itinerary": {"announced": [event("e2", "customer.linked", 5), event("e1", "itinerary.created", 6),
                                             event("s1", "itinerary.state", 6),
                                             event("e3", "itinerary.changed", 0.1)], "dead_lettered": []},
                 "feedback": {"announced": [], "dead_lettered": [
                     {"id": "d1", "group_id": "feedback", "topic": "customer.linked", "event_id": None,
                      "error": "not an event", "status": "open"}]}}
    answers = {"notify": handled("notify", ["itinerary.created", "customer.linked", "itinerary.changed"], "e1", "e2"),
               "feedback": handled("feedback", ["itinerary.created", "customer.linked", "itinerary.changed"], "e1"),
               "itinerary": handled("itinerary", ["feedback.incident_reported"])}
    deliveries = [{"id": "n1", "source_event_id": "e2", "kind": "poc_assigned", "created_at": NOW},
                  {"id": "n2", "source_event_id": "it-1:reminder", "kind": "reminder", "created_at": NOW}]
    chain = trip_chain("it-1", announced, answers, deliveries, [], NOW, frozenset({"itinerary.state"}))

    assert [step.event_id for step in chain.steps] == ["e1", "e2", "e3"], "in the order they happened; no state"
    first, second, third = chain.steps
    assert ([(h.service, h.group) for h in first.handled], first.waiting_for, first.stuck) == (
        [("notify", "notify"), ("feedback", "feedback")], [], False)
    assert second.waiting_for == ["feedback"] and second.stuck, "feedback reads it and, 5 minutes on, has not"
    assert third.waiting_for == ["notify", "feedback"] and not third.stuck, "6 seconds is not stuck"
    assert [d["id"] for d in second.deliveries] == ["n1"]
    assert [d["id"] for d in chain.other_deliveries] == ["n2"], "a clock's message has no event in the chain"
    assert [d["id"] for d in chain.other_dead_letters] == ["d1"]


def test_an_event_a_group_dead_lettered_is_stuck_there_not_waiting():
    announced = {"itinerary": {"announced": [event("e1", "customer.linked", 1)], "dead_lettered": []},
                 "booking": {"announced": [], "dead_lettered": [
                     {"id": "d1", "group_id": "booking", "topic": "customer.linked", "event_id": "e1",
                      "error": "boom", "status": "open"}]}}
    chain = trip_chain("it-1", announced, {"booking": handled("booking", ["customer.linked"])}, [], [], NOW)
    [step] = chain.steps
    assert step.waiting_for == [] and step.stuck and step.dead_lettered[0]["service"] == "booking"
    parked = trip_chain("it-1", {"itinerary": {"announced": [event("e1", "customer.linked", 0, "parked")],
                                               "dead_lettered": []}}, {}, [], [], NOW)
    assert parked.steps[0].stuck, "Kafka refused it: nobody downstream will see it"


def exported_trace() -> tuple[str, bytes]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "itinerary"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("POST /v1/itineraries/{itinerary_id}/customers") as root:
        with tracer.start_as_current_span("itinerary.insert"):
            pass
        with tracer.start_as_current_span("outbox relay customer.linked"):
            with tracer.start_as_current_span("customer.linked publish"):
                pass
    trace_id = format(root.get_span_context().trace_id, "032x")
    return trace_id, encode_spans(exporter.get_finished_spans()).SerializeToString()


def test_spans_in_the_exporters_own_encoding_are_shown_nested_in_time_order():
    trace_id, body = exported_trace()
    store = SpanStore(max_traces=2)
    store.add(parse_export(body))
    spans = store.trace(trace_id)
    assert [span.name for span in spans][0] == "POST /v1/itineraries/{itinerary_id}/customers"
    assert {span.service for span in spans} == {"itinerary"} and all(s.end_ns >= s.start_ns > 0 for s in spans)
    html = pages.trace_page(trace_id, spans).body.decode()
    assert "4 spans across itinerary" in html
    assert "&nbsp;" * 4 + "customer.linked publish" in html, "a grandchild sits two levels in"
    for other in range(2):  # older traces make room for newer ones
        store.add([spans[0].__class__(**{**spans[0].__dict__, "trace_id": f"{other:032x}"})])
    assert store.trace(trace_id) == []


async def test_the_console_takes_spans_over_otlp_and_shows_nothing_without_a_key():
    trace_id, body = exported_trace()
    app = create_app(ConsoleSettings(service_urls={}, receive_spans=True, secure_cookie=False))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://console") as client:
        taken = await client.post("/v1/traces", content=body, headers={"content-type": "application/x-protobuf"})
        assert taken.status_code == 200 and taken.headers["content-type"] == "application/x-protobuf"
        assert (await client.post("/v1/traces", content=b"\xffnot protobuf")).status_code == 400
        refused = await client.get(f"/traces/{trace_id}")
        assert refused.status_code == 303 and refused.headers["location"] == "/sign-in"
        assert (await client.get("/")).headers["location"] == "/sign-in"
        client.cookies.set("trip_desk_ops_key", "k")
        assert (await client.post("/actions/retry-delivery/n1", headers={"origin": "http://elsewhere"})
                ).status_code == 403, "only its own pages act"
