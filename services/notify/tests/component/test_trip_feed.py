"""The in-app feed: a trip's news once per piece of news, nothing personal, live over server-sent events, and the
updates page a client reaches from their trip page."""
import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider

from notify.bootstrap import create_app
from trip_shared.client_links import trip_token, trip_updates_url
from trip_shared.contracts.customers import CustomerCreated, CustomerSnapshot
from trip_shared.contracts.itinerary import (
    CustomerLinked,
    DisruptionApplied,
    FieldChange,
    ItemSnapshot,
    ItineraryChanged,
    ItineraryMember,
    ItinerarySummary,
    MembershipChange,
    TravellerSnapshot,
)
from trip_shared.embedded import free_port
from trip_shared.testing.polling import arrives
from trip_shared.testing.service import auth, component_settings, listening, running_service
from trip_shared.web.signed_links import LinkSigner


@pytest.fixture
async def service(mongodb_url, mongo_database_name, smtp_port):
    port = free_port()
    settings = component_settings("notify", mongodb_url, mongo_database_name, smtp_port=smtp_port,
                                  public_base_url=f"http://127.0.0.1:{port}", change_digest_quiet_s=0.3,
                                  itinerary_public_url="http://trips.example")
    app = create_app(settings, tracer_provider=TracerProvider(), sweep_interval_s=0.1)
    async with running_service(app) as running, listening(app, port) as url:
        running.url = url
        yield running


def local(days: float, hour: int, minute: int = 0) -> str:
    return f"{(datetime.now(UTC) + timedelta(days=days)).date().isoformat()}T{hour:02d}:{minute:02d}"


def changed(version, start, before):
    flight = ItemSnapshot(item_id="i1", kind="flight", title="BA5", timezone="Europe/London", start=start)
    return ItineraryChanged(
        tenant_id="tenant-a", aggregate_id="it-1", aggregate_version=version, trip_id="it-1", producer="itinerary",
        data=ItinerarySummary(itinerary_id="it-1", title="Kyoto in autumn", stage="booked", items=[flight],
                              travellers=[TravellerSnapshot(customer_id="c1", is_poc=True),
                                          TravellerSnapshot(customer_id="c2", is_poc=True)]),
        action="item_changed", changes=[FieldChange(field="items.i1.start", before=before, after=start + ":00")])


async def two_pocs(service):
    for customer_id, name in (("c1", "Mei"), ("c2", "Bo")):
        await service.publish(CustomerCreated(
            tenant_id="tenant-a", aggregate_id=customer_id, aggregate_version=1, producer="customers",
            data=CustomerSnapshot(customer_id=customer_id, first_name=name, emails=[f"{name.lower()}@example.com"],
                                  preferred_language="zh-Hans" if name == "Mei" else "en")))
    await service.publish(CustomerLinked(
        tenant_id="tenant-a", aggregate_id="it-1", aggregate_version=2, trip_id="it-1", producer="itinerary",
        data=MembershipChange(itinerary=ItinerarySummary(itinerary_id="it-1", title="Kyoto in autumn"),
                              customer_id="c2", is_poc=True,
                              customers=[ItineraryMember(customer_id="c1", is_poc=True),
                                         ItineraryMember(customer_id="c2", is_poc=True)])))


async def feed(service, **params):
    answer = await service.client.get("/v1/itineraries/it-1/feed", params=params, headers=auth())
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_change_told_to_two_clients_is_one_entry_in_the_readers_language_without_names(service, smtp):
    await two_pocs(service)
    await service.publish(changed(3, local(20, 19, 50), local(20, 20, 20) + ":00"))
    shown = await arrives(lambda: nonempty_feed(service))
    [entry] = shown["items"]
    assert entry["kind"] == "trip_changes" and entry["subject"] == "Changes to your trip Kyoto in autumn"
    assert entry["lines"] == ["Your flight BA5 now leaves at 19:50 London time instead of 20:20."]
    assert entry["at_label"].endswith("(Europe/London)") and not entry["urgent"]
    chinese = (await feed(service, lang="zh-Hans"))["items"][0]
    assert chinese["id"] == entry["id"] and "改为当地时间（Europe/London） 19:50出发" in chinese["lines"][0]
    assert "Mei" not in json.dumps(shown) and "Bo" not in json.dumps(shown), "no greeting, no one's name"
    poc_notices = [n for n in (await service.client.get("/v1/notifications", headers=auth())).json()["items"]
                   if n["kind"] == "poc_assigned"]
    assert poc_notices and all(e["kind"] != "poc_assigned" for e in shown["items"]), "personal messages stay out"
    assert (await feed(service, after=shown["cursor"]))["items"] == []
    bad = await service.client.get("/v1/itineraries/it-1/feed", params={"after": "yesterday"}, headers=auth())
    assert bad.status_code == 422 and bad.json()["code"] == "invalid-cursor"
    unknown = await service.client.get("/v1/itineraries/it-9/feed", headers=auth())
    assert unknown.status_code == 404 and unknown.json()["code"] == "trip-not-found"
    for path, headers, status, code in (("/v1/itineraries/it-9/feed/events", {}, 404, "trip-not-found"),
                                        ("/v1/itineraries/it-1/feed/events", {"Last-Event-ID": "soon"}, 422,
                                         "invalid-cursor")):
        refused = await service.client.get(path, headers={**auth(), **headers})
        assert refused.status_code == status and refused.json()["code"] == code, "a problem, before any stream"

    async def c2_feed_once_delivered():
        items = (await service.client.get("/v1/customers/c2/feed", headers=auth())).json()["items"]
        return items if all(m["status"] == "sent" for m in items) else None

    # The trip entry is shown as soon as the digest is decided; the e-mail to c2 may still be on its way.
    mine = await arrives(c2_feed_once_delivered)
    assert [m["kind"] for m in mine] == ["poc_assigned", "trip_changes"]
    assert mine[1]["lines"] == entry["lines"]


async def test_new_news_arrives_on_the_event_stream_and_a_reconnect_misses_nothing(service, smtp):
    await two_pocs(service)
    await service.publish(changed(3, local(20, 19, 50), local(20, 20, 20) + ":00"))
    first = await arrives(lambda: nonempty_feed(service))

    async def read_events(after, wanted):
        received = []
        async with httpx.AsyncClient(base_url=service.url, timeout=10) as client, client.stream(
                "GET", "/v1/itineraries/it-1/feed/events", headers={**auth(), "Last-Event-ID": after}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            event = {}
            async for line in stream.aiter_lines():
                if line.startswith("id: "):
                    event["id"] = line[4:]
                elif line.startswith("data: "):
                    event["data"] = json.loads(line[6:])
                elif line == "" and "data" in event:
                    received.append(event)
                    event = {}
                    if len(received) == wanted:
                        return received
        return received

    listening = asyncio.create_task(read_events(first["cursor"], 1))
    await asyncio.sleep(0.5)
    await service.publish(changed(4, local(20, 18, 5), local(20, 19, 50) + ":00"))
    [live] = await asyncio.wait_for(listening, 12)
    assert "18:05 London time instead of 19:50" in live["data"]["lines"][0]
    assert live["id"] == live["data"]["cursor"]
    # Reconnecting from the first cursor replays exactly what came after it.
    [again] = await asyncio.wait_for(read_events(first["cursor"], 1), 12)
    assert again["data"]["id"] == live["data"]["id"]


async def test_the_updates_page_opens_from_the_trips_link_and_shows_the_agencys_contacts(service, smtp):
    await two_pocs(service)
    await service.publish(changed(3, local(20, 19, 50), local(20, 20, 20) + ":00"))
    await arrives(lambda: nonempty_feed(service))
    token, _ = trip_token(LinkSigner(service.runtime.settings.link_signing_secret), "tenant-a", "it-1",
                          timedelta(days=30))
    url = trip_updates_url(service.url, token)
    async with httpx.AsyncClient(timeout=10) as client:
        page = await client.get(url, params={"lang": "zh-Hans"})
        assert page.status_code == 200 and "Lotus &amp; Maple Travel的最新消息" in page.text
        assert "19:50出发" in page.text and "+86 21 5555 0199" in page.text
        assert f'href="http://trips.example/trips/{token}?lang=zh-Hans"' in page.text
        assert "connect-src 'self'" in page.headers["content-security-policy"]
        script = await client.get(f"{service.url}/assets/trip-updates.js")
        assert script.status_code == 200 and "EventSource" in script.text and "innerHTML" not in script.text
        forged = await client.get(url.replace(token, token[:-4] + "abcd"))
        assert forged.status_code == 403 and "此链接无法使用" in forged.text


async def nonempty_feed(service):
    shown = await feed(service)
    return shown if shown["items"] else None


async def test_every_trip_message_links_to_the_live_itinerary_with_a_link_that_opens_it(service, smtp):
    import re

    from trip_shared.client_links import TRIP_VIEW
    from trip_shared.testing.maildir import text_of

    await two_pocs(service)
    await service.publish(changed(3, local(20, 19, 50), local(20, 20, 20) + ":00"))
    await arrives(lambda: asyncio.sleep(0, len(smtp.messages) >= 3))  # a POC notice, two digests
    for message in smtp.messages:
        text = text_of(message)
        found = re.search(r"(?:Your itinerary, always up to date: |您的行程（随时更新）：)http://trips\.example/trips/(\S+)",
                          text)
        assert found, text
        claims = LinkSigner(service.runtime.settings.link_signing_secret).verify(found[1], TRIP_VIEW)
        assert (claims.tenant_id, claims.subject_id) == ("tenant-a", "it-1")
        assert claims.expires_at > datetime.now(UTC) + timedelta(days=20 + 59), "it works well after the trip"
        assert text.index(found[0]) < text.index("+86 21 5555 0199"), "above the agency's contacts"


async def test_a_trip_shifted_around_a_delay_tells_each_poc_at_once_why_and_what_moved(service, smtp):
    from trip_shared.testing.maildir import text_of

    await two_pocs(service)
    shifted = changed(3, local(6, 19, 50), local(6, 16, 50) + ":00").model_copy(update={
        "action": "disruption_shift",
        "disruption": DisruptionApplied(incident_id="inc-1", item_id="i1", kind="delay", delay_minutes=180)})
    await service.publish(shifted)
    await arrives(lambda: asyncio.sleep(0, len(smtp.messages) >= 3))  # a POC notice, then one each
    from email.header import decode_header, make_header

    subjects = [str(make_header(decode_header(message["Subject"]))) for message in smtp.messages[-2:]]
    assert sorted(subjects) == ["Important: Changes to your trip Kyoto in autumn", "重要：您的行程「Kyoto in autumn」有变动"], \
        "six days away, yet it goes at once"
    english, chinese = sorted((text_of(message) for message in smtp.messages[-2:]), key=lambda text: "您" in text)
    assert english.index("Your flight BA5 is delayed by 3 h. We have moved what follows:") < english.index(
        "Your flight BA5 now leaves at 19:50 London time instead of 16:50.")
    assert "您的航班 BA5 延误 3 小时。我们已为您调整后续安排：" in chinese
