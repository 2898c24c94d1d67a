"""A minimal OTLP/HTTP trace receiver: services export real spans to it, tests read them back.

It accepts ``POST /v1/traces`` with protobuf ``ExportTraceServiceRequest`` bodies, the format the standard
``OTLPSpanExporter`` sends, so the services' production export path is what gets exercised.
"""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from trip_shared.ops_console.spans import ReceivedSpan, parse_export


class OtlpReceiver:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.spans: list[ReceivedSpan] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path.rstrip("/") == "/v1/traces":
                    receiver._ingest(body)
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _ingest(self, body: bytes) -> None:
        received = parse_export(body)
        with self._lock:
            self.spans.extend(received)

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        with self._lock:
            return [span for span in self.spans if span.trace_id == trace_id]

    def snapshot(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self.spans)

    def orphans(self, trace_id: str, settle_s: float = 15.0) -> list[str]:
        """The spans of a trace whose parent is not in it, once it has settled: services export in batches and a
        span after its children, so a missing parent may still be on its way; one that never arrives (within
        ``settle_s``) is a broken chain."""
        deadline = time.monotonic() + settle_s
        while True:
            spans = self.trace(trace_id)
            ids = {span.span_id for span in spans}
            missing = [span.name for span in spans if span.parent_span_id and span.parent_span_id not in ids]
            if not missing or time.monotonic() >= deadline:
                return missing
            time.sleep(0.2)
