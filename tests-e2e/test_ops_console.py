"""The ops console as an operator uses it, in Debian's Chromium at a phone's width and a desktop's: signed in with
the agency's key, it shows what is stuck across the five services and one trip's chain of events and deliveries with
their traces, and its buttons replay a dead letter and retry a failed delivery through the services' own APIs."""
from __future__ import annotations

import asyncio
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiokafka import AIOKafkaProducer

from trip_shared.testing.browser import assert_fits, screenshot_dir
from trip_shared.testing.maildir import unique
from trip_shared.testing.polling import eventually

pytestmark = pytest.mark.e2e
TENANT = "console-agency"


class AgencyEndpoint:
    """The agency's own system, taking notify's webhooks: it refuses them (400) until told to take them."""

    def __init__(self) -> None:
        self.status, self.received = 400, []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if endpoint.status == 200:
                    endpoint.received.append(json.loads(body))
                self.send_response(endpoint.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/trip-desk"


async def publish_poison(bootstrap: str, trip_id: str) -> None:
    """A message on the trip's key that no consumer can read: each group dead-letters it."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait("customer.linked", b"\xff not an event", key=trip_id.encode(),
                                     headers=[("tenant_id", TENANT.encode()),
                                              ("event_id", str(uuid.uuid4()).encode())])
    finally:
        await producer.stop()


def test_the_console_shows_a_trip_and_what_is_stuck_and_settles_it(stack, traces, browser, tmp_path_factory,
                                                                   console_agency, trace_ui_url):
    agency = console_agency
    endpoint = AgencyEndpoint()
    agency.ok("POST", "notify", "/v1/webhook-endpoints", 201, json={"url": endpoint.url, "kinds": ["poc_assigned"]})
    customer = agency.ok("POST", "customers", "/v1/customers", 201, json={
        "first_name": "Mei", "last_name": unique("Lin"), "email": f"{unique('mei')}@example.com"})
    trip = agency.ok("POST", "itinerary", "/v1/itineraries", 201, json={
        "title": unique("Kyoto in autumn "), "start_date": "2027-10-01", "end_date": "2027-10-05"})
    eventually(lambda: agency.request("POST", "itinerary", f"/v1/itineraries/{trip['id']}/customers",
                                      json={"customer_id": customer["id"]}).status_code == 201, timeout=30)
    with ThreadPoolExecutor(1) as thread:  # Playwright's loop holds this thread
        thread.submit(asyncio.run, publish_poison(stack.kafka_bootstrap, trip["id"])).result()

    def deliveries() -> dict[str, dict]:
        found = agency.ok("GET", "notify", "/v1/notifications", params={"itinerary_id": trip["id"]})["items"]
        return {item["channel"]: item for item in found}

    eventually(lambda: {c: d["status"] for c, d in deliveries().items()} == {"email": "sent", "webhook": "failed"},
               timeout=30, message="the POC's e-mail sent, the agency's webhook refused for good")
    eventually(lambda: len(agency.ok("GET", "booking", "/v1/ops/dead-letters")["items"]) == 1, timeout=30)
    console = stack.stack_info["console"]
    folder = screenshot_dir(tmp_path_factory)
    page = browser.new_page()

    page.goto(console + "/")
    assert page.url.endswith("/sign-in"), "nothing without a key"
    page.fill("input[name=api_key]", "not-a-key")
    page.click("button:has-text('Sign in')")
    assert "not known to the platform" in page.inner_text("main")
    page.fill("input[name=api_key]", agency.key)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(console + "/")

    stuck = page.inner_text("main")
    assert "Messages a consumer gave up on 3" in stuck, "notify, booking and feedback each gave up on it"
    assert stuck.count("customer.linked") >= 3
    assert "Messages that failed for good 1" in stuck and "HTTP 400" in stuck
    assert page.locator(f"a[href='/trips/{trip['id']}']").count() == 1, "the failed message leads to its trip"
    assert_fits(page, folder, "ops-console-stuck")

    page.goto(f"{console}/trips/{trip['id']}")
    chain = page.inner_text("main")
    assert trip["title"] in chain and "itinerary.created" in chain and "customer.linked" in chain
    linked = page.locator("tr.step", has_text="customer.linked")
    handled = linked.locator("td[data-label='Handled by']").inner_text()
    assert all(service in handled for service in ("notify", "booking", "feedback")), handled
    led_to = linked.locator("td[data-label='Led to']").inner_text()
    assert "poc_assigned by email" in led_to and "sent" in led_to
    assert "poc_assigned by webhook" in led_to and "failed" in led_to
    trace = linked.locator("td[data-label='Trace'] a")
    href = trace.get_attribute("href")
    trace_id = trace.get_attribute("title")
    assert href == f"{trace_ui_url}/trace/{trace_id}", "each trace id links to the trace store"
    spans = eventually(lambda: traces.trace(trace_id), timeout=30)
    assert {"itinerary", "notify"} <= {span.service for span in spans}, "that trace is the flow's, end to end"
    assert "Dead letters that are not an event 3" in chain
    assert_fits(page, folder, "ops-console-trip")

    # A replay of what still cannot be read fails again, says why, and leaves the dead letter waiting.
    page.locator("form[action^='/actions/replay/booking/'] button").click()
    assert "not done" in page.inner_text("[role=alert]") and "failed again" in page.inner_text("[role=alert]")
    assert [row["status"] for row in agency.ok("GET", "booking", "/v1/ops/dead-letters")["items"]] == ["open"]

    # The agency's system is fixed: one click sends the message again, and it arrives.
    endpoint.status = 200
    page.locator("form[action^='/actions/retry-delivery/'] button").click()
    assert "is being sent again" in page.inner_text("[role=status]")
    eventually(lambda: deliveries()["webhook"]["status"] == "sent", timeout=30)
    assert [(body["type"], body["message"]["itinerary_id"]) for body in endpoint.received] == [
        ("message.poc_assigned", trip["id"])]
    page.goto(f"{console}/trips/{trip['id']}")
    led_to = page.locator("tr.step", has_text="customer.linked").locator("td[data-label='Led to']").inner_text()
    assert "failed" not in led_to and led_to.count("sent") == 2

    page.click("button:has-text('Sign out')")
    page.goto(console + "/")
    assert page.url.endswith("/sign-in"), "signed out: the key is gone from the browser"
    page.close()
