"""Spans received over OTLP/HTTP (the protobuf the standard exporters send), kept in memory for the console's
trace view under ``make up``; in production the trace store (Jaeger) has them."""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    attributes: dict
    start_ns: int = 0
    end_ns: int = 0
    failed: bool = False


def parse_export(body: bytes) -> list[ReceivedSpan]:
    """The spans of one ``ExportTraceServiceRequest``."""
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    received = []
    for resource_spans in request.resource_spans:
        attributes = {kv.key: kv.value.string_value for kv in resource_spans.resource.attributes}
        service = attributes.get("service.name", "")
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                received.append(ReceivedSpan(
                    service=service, name=span.name, trace_id=span.trace_id.hex(), span_id=span.span_id.hex(),
                    parent_span_id=span.parent_span_id.hex(), kind=span.kind,
                    attributes={kv.key: kv.value.string_value or kv.value.int_value for kv in span.attributes},
                    start_ns=span.start_time_unix_nano, end_ns=span.end_time_unix_nano,
                    failed=span.status.code == 2))  # STATUS_CODE_ERROR
    return received


class SpanStore:
    """The spans of the last ``max_traces`` traces: a trace seen again moves to the newest end."""

    def __init__(self, max_traces: int = 2000) -> None:
        self.max_traces = max_traces
        self._traces: OrderedDict[str, list[ReceivedSpan]] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, spans: list[ReceivedSpan]) -> None:
        with self._lock:
            for span in spans:
                self._traces.setdefault(span.trace_id, []).append(span)
                self._traces.move_to_end(span.trace_id)
            while len(self._traces) > self.max_traces:
                self._traces.popitem(last=False)

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        with self._lock:
            return sorted(self._traces.get(trace_id, []), key=lambda span: (span.start_ns, span.end_ns))
