"""The embedded Kafka broker dies mid-flow and comes back empty: nothing is lost, nothing is sent twice."""
from __future__ import annotations

import mailbox
import uuid

import httpx
import pytest

from trip_shared import embedded
from trip_shared.contracts.registry import all_topic_names
from trip_shared.devstack import EmbeddedStack
from trip_shared.testing.polling import eventually

pytestmark = pytest.mark.e2e


def mail_count(stack, address: str) -> int:
    return sum(1 for message in mailbox.Maildir(stack.maildir, create=False) if address in str(message["To"]))


def test_a_broker_that_comes_back_empty_loses_no_email_and_sends_none_twice(tmp_path):
    with EmbeddedStack(tmp_path, ephemeral=True, extra_env={"KAFKA_WATCH_INTERVAL_S": "1"}) as stack:
        http = httpx.Client(timeout=20, headers={"Authorization": f"Bearer {stack.api_key}"})

        def post(service: str, path: str, body: dict) -> dict:
            # A client retries what the outage refused; the Idempotency-Key makes the retry safe.
            key = uuid.uuid4().hex

            def attempt():
                response = http.post(stack.service_url(service) + path, json=body, headers={"Idempotency-Key": key})
                return response.json() if response.status_code in (200, 201) else None

            return eventually(attempt, timeout=60, message=f"POST {path} never succeeded")

        def trip_flow(n: int) -> str:
            email = f"poc{n}-{uuid.uuid4().hex[:6]}@example.com"
            customer = post("customers", "/v1/customers", {"first_name": f"Poc{n}", "email": email})
            itinerary = post("itinerary", "/v1/itineraries", {"title": f"Trip {n}"})
            post("itinerary", f"/v1/itineraries/{itinerary['id']}/customers", {"customer_id": customer["id"]})
            return email

        emails = [trip_flow(n) for n in range(4)]  # their events are on their way, some e-mails not yet sent
        stack.restart_kafka()
        emails += [trip_flow(n) for n in range(4, 8)]

        eventually(lambda: all(mail_count(stack, email) >= 1 for email in emails), timeout=120,
                   message="some POC e-mails were lost with the broker")
        for name in stack.services:
            eventually(lambda name=name: httpx.get(stack.service_url(name) + "/readyz").status_code == 200,
                       timeout=60, message=f"{name} did not become ready again")
            metrics = httpx.get(stack.service_url(name) + "/metrics").text
            assert "kafka_recoveries_total 1.0" in metrics, name
        present = embedded._run_async(lambda: embedded.list_topics(stack.kafka_bootstrap))
        assert set(all_topic_names()) <= present, "every topic and its .dlq twin is back"
        import time
        time.sleep(3)  # republished events already handled must not send anything again
        assert {email: mail_count(stack, email) for email in emails} == {email: 1 for email in emails}
