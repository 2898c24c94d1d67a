"""Proposals answered by a POC on the client page, and the shareable itinerary page."""
from urllib.parse import urlsplit

from trip_shared.contracts.customers import CustomerCreated, CustomerSnapshot
from trip_shared.contracts.itinerary import ProposalAnswered, ProposalSent
from trip_shared.testing.documents import pdf_text
from trip_shared.testing.service import auth

HOTEL = {"kind": "accommodation", "start": "2027-05-02T15:00", "end": "2027-05-05T11:00", "timezone": "Asia/Tokyo"}


async def known_customer(service, customer_id, language="en"):
    await service.publish(CustomerCreated(
        tenant_id="tenant-a", aggregate_id=customer_id, aggregate_version=1, producer="customers",
        data=CustomerSnapshot(customer_id=customer_id, first_name=customer_id.title(), preferred_language=language)))


async def planned_trip(service):
    await known_customer(service, "mei", "zh-Hans")
    await known_customer(service, "tom")
    created = await service.client.post("/v1/itineraries", json={
        "title": "Kyoto", "start_date": "2027-05-01", "end_date": "2027-05-06"}, headers=auth())
    trip = created.json()
    base = f"/v1/itineraries/{trip['id']}"
    for customer in ("mei", "tom"):
        assert (await service.client.post(f"{base}/customers", json={"customer_id": customer},
                                          headers=auth())).status_code == 201
    items = {}
    for title, body in (("Walk", {"kind": "activity", "start": "2027-05-03T10:00", "end": "2027-05-03T12:00",
                                  "timezone": "Asia/Tokyo"}),
                        ("Ryokan", {**HOTEL, "cost": {"amount": 900, "currency": "EUR"}}),
                        ("Hotel", {**HOTEL, "cost": {"amount": 600, "currency": "EUR"}})):
        response = await service.client.post(f"{base}/items", json={"title": title, **body}, headers=auth())
        items[title] = response.json()["id"]
    await service.client.post(f"{base}/stage", json={"stage": "planning"}, headers=auth())
    return base, items


async def send(service, base, items):
    response = await service.client.post(f"{base}/proposals", headers=auth(), json={
        "message": "Two ways to stay", "options": [
            {"title": "Classic ryokan", "item_ids": [items["Walk"], items["Ryokan"]]},
            {"title": "City hotel", "note": "Closer to the station", "item_ids": [items["Walk"], items["Hotel"]]}]})
    assert response.status_code == 201, response.text
    [event] = [ProposalSent.model_validate_json(row["payload"]) async for row in
               service.runtime.outbox.rows.find({"event_type": "itinerary.proposal_sent"})]
    return response.json(), {r.customer_id: urlsplit(r.url).path for r in event.data.recipients}


async def test_a_poc_approves_one_option_from_their_link_and_the_trip_becomes_that_option(service):
    base, items = await planned_trip(service)
    proposal, links = await send(service, base, items)
    assert list(links) == ["mei"], "only points of contact are asked"
    assert [o["prices"] for o in proposal["options"]] == [{"EUR": "900.00"}, {"EUR": "600.00"}]
    assert (await service.client.get(base, headers=auth())).json()["stage"] == "proposed"
    page = await service.client.get(links["mei"])
    assert page.status_code == 200 and "确认此方案" in page.text and "Closer to the station" in page.text
    city = proposal["options"][1]["id"]
    answered = await service.client.post(links["mei"], data={"action": "approve", "option": city})
    assert answered.status_code == 200 and "City hotel" in answered.text
    trip = (await service.client.get(base, headers=auth())).json()
    assert trip["stage"] == "approved" and [i["title"] for i in trip["items"]] == ["Hotel", "Walk"]
    assert trip["stage_history"][-1]["actor"] == "customer mei"
    assert "approved option 'City hotel'" in trip["stage_history"][-1]["reason"]
    [event] = [ProposalAnswered.model_validate_json(row["payload"]) async for row in
               service.runtime.outbox.rows.find({"event_type": "itinerary.proposal_answered"})]
    assert (event.data.outcome, event.data.option_title, event.data.customer_id) == ("approved", "City hotel", "mei")
    again = await service.client.post(links["mei"], data={"action": "approve", "option": city})
    assert again.status_code == 409 and "already been answered" in again.text
    assert "确认此方案" not in (await service.client.get(links["mei"])).text
    listed = (await service.client.get(f"{base}/proposals", headers=auth())).json()["items"]
    assert listed[0]["decision"]["option_id"] == city and listed[0]["current"] is True


async def test_asking_for_changes_sends_the_trip_back_to_planning_with_the_clients_words(service):
    base, items = await planned_trip(service)
    _, links = await send(service, base, items)
    empty = await service.client.post(links["mei"], data={"action": "changes", "comment": "  "})
    assert empty.status_code == 422 and "修改" in empty.text
    escape_codes = await service.client.post(links["mei"], data={"action": "changes", "comment": "no \x1b[2J fish"})
    assert escape_codes.status_code == 422 and "U+001B" in escape_codes.text
    too_large = await service.client.post(links["mei"], data={"action": "changes", "comment": "x" * 300_000})
    assert too_large.status_code == 413
    assert (await service.client.get(base, headers=auth())).json()["stage"] == "proposed"
    answered = await service.client.post(links["mei"], data={"action": "changes", "comment": "No raw fish, please"})
    assert answered.status_code == 200
    trip = (await service.client.get(base, headers=auth())).json()
    assert trip["stage"] == "planning" and trip["item_count"] == 3
    assert trip["notices"][-1]["kind"] == "changes_requested" and "No raw fish" in trip["notices"][-1]["message"]


async def test_a_new_round_supersedes_the_old_links_and_bad_links_are_refused(service):
    base, items = await planned_trip(service)
    _, first = await send(service, base, items)
    await service.runtime.outbox.rows.delete_many({})
    _, second = await send(service, base, items)
    superseded = await service.client.post(first["mei"], data={"action": "changes", "comment": "x"})
    assert superseded.status_code == 409 and "newer proposal" in superseded.text
    token = second["mei"].rsplit("/", 1)[1]
    forged = await service.client.get(f"/proposals/{token[:-2]}xx")
    assert forged.status_code == 403
    wrong_purpose = await service.client.get(f"/trips/{token}")
    assert wrong_purpose.status_code == 403


async def test_the_shared_itinerary_page_and_its_calendar_open_without_an_api_key(service):
    base, _ = await planned_trip(service)
    link = await service.client.post(f"{base}/share-link", json={"valid_days": 7}, headers=auth())
    assert link.status_code == 201
    page = await service.client.get(urlsplit(link.json()["url"]).path)
    assert page.status_code == 200 and "Ryokan" in page.text and "Day 3 · Mon 03 May 2027" in page.text
    assert "10:00–12:00 (Asia/Tokyo)" in page.text and "@media print" in page.text
    # The page's policy forbids inline scripts: printing is wired up by the script file the page names.
    assert "javascript:" not in page.text and "script-src 'self'" in page.headers["content-security-policy"]
    script = await service.client.get("/assets/print.js")
    assert 'src="/assets/print.js"' in page.text and "window.print()" in script.text
    assert script.headers["content-type"].startswith("text/javascript")
    chinese = await service.client.get(urlsplit(link.json()["url"]).path, params={"lang": "zh-Hans"})
    assert "第3天" in chinese.text
    feed = await service.client.get(urlsplit(link.json()["calendar_url"]).path)
    assert feed.status_code == 200 and feed.text.count("BEGIN:VEVENT") == 3
    assert (await service.client.post(f"{base}/share-link", headers=auth("tenant-b"))).status_code == 404


async def test_bad_proposal_and_deliverable_requests_get_problem_details_and_change_nothing(service):
    base, items = await planned_trip(service)
    before = (await service.client.get(base, headers=auth())).json()
    client = service.client
    cases = [
        (await client.post(f"{base}/proposals", json={"options": []}, headers=auth()), 422, "invalid-request"),
        (await client.post(f"{base}/proposals", json={"options": [{"title": "A", "item_ids": ["nope"]}]},
                           headers=auth()), 422, "unknown-item"),
        (await client.post(f"{base}/proposals", json={"options": [{"title": "A", "item_ids": []}]},
                           headers=auth()), 422, "invalid-options"),
        (await client.post(f"{base}/proposals", json={"options": [{"title": "A"}] * 6}, headers=auth()), 422,
         "invalid-request"),
        (await client.post(f"{base}/proposals", json={"options": [{"title": "A"}], "valid_days": 0},
                           headers=auth()), 422, "invalid-request"),
        (await client.post(f"{base}/proposals", json={"options": [{"title": "A"}]}, headers=auth("read-only")),
         403, "forbidden"),
        (await client.post("/v1/itineraries/nope/proposals", json={"options": [{"title": "A"}]}, headers=auth()),
         404, "itinerary-not-found"),
        (await client.post(f"{base}/share-link", json={"valid_days": 1000}, headers=auth()), 422, "invalid-request"),
        (await client.get(f"{base}/history", params={"after_version": -1}, headers=auth()), 422, "invalid-request"),
        # Found by Schemathesis: a number past MongoDB's 8-byte integers was a 500.
        (await client.get(f"{base}/history", params={"after_version": 2**70}, headers=auth()), 422, "invalid-request"),
        (await client.post(f"{base}/stage", json={"stage": "flying"}, headers=auth()), 422, "invalid-request"),
        (await client.get("/v1/itineraries/nope/calendar.ics", headers=auth()), 404, "itinerary-not-found"),
        (await client.get(f"{base}/calendar.ics"), 401, "unauthorized"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, (response.request.url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == code, (response.request.url, response.json())
    after = (await service.client.get(base, headers=auth())).json()
    assert after["version"] == before["version"] and after["stage"] == "planning"
    assert (await service.client.get(f"{base}/proposals", headers=auth())).json()["items"] == []


async def test_signed_link_tokens_do_not_reach_traces(mongodb_url, mongo_database_name):
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from itinerary.bootstrap import create_app
    from trip_shared.testing.service import component_settings, running_service

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(component_settings("itinerary", mongodb_url, mongo_database_name), tracer_provider=provider)
    async with running_service(app) as service:
        base, _ = await planned_trip(service)
        link = (await service.client.post(f"{base}/share-link", headers=auth())).json()
        path = urlsplit(link["url"]).path
        assert (await service.client.get(f"{path}/calendar.ics")).status_code == 200
        assert (await service.client.get(path, params={"lang": "zh-Hans"})).status_code == 200
    token = path.rsplit("/", 1)[1]
    recorded = " ".join(f"{span.name} {dict(span.attributes)}" for span in exporter.get_finished_spans())
    assert "/trips/[link]/calendar.ics" in recorded
    assert token not in recorded and token[:20] not in recorded


INTERNAL = "INTERNAL-7f3a: net rate 620, do not quote"


async def test_no_client_deliverable_shows_an_internal_note_and_each_shows_the_client_note_travellers_and_agency(
        service):
    base, items = await planned_trip(service)
    for title in items:
        changed = await service.client.patch(f"{base}/items/{items[title]}", headers=auth(), json={
            "notes": INTERNAL, "client_note": f"Meet your guide at the {title} entrance."})
        assert changed.status_code == 200, changed.text
    _, links = await send(service, base, items)
    share = (await service.client.post(f"{base}/share-link", json={"valid_days": 7}, headers=auth())).json()
    share_path, calendar_path = urlsplit(share["url"]).path, urlsplit(share["calendar_url"]).path
    deliverables = {}
    for language in ("en", "zh-Hans"):
        deliverables[f"trip page {language}"] = (await service.client.get(share_path, params={"lang": language})).text
        deliverables[f"calendar {language}"] = (await service.client.get(calendar_path,
                                                                         params={"lang": language})).text
        pdf = await service.client.get(f"{share_path}/itinerary.pdf", params={"lang": language})
        deliverables[f"pdf {language}"] = pdf_text(pdf.content)
        planner_pdf = await service.client.get(f"{base}/itinerary.pdf", params={"language": language},
                                               headers=auth())
        deliverables[f"planner's pdf {language}"] = pdf_text(planner_pdf.content)
        planner_calendar = await service.client.get(f"{base}/calendar.ics", params={"language": language},
                                                    headers=auth())
        deliverables[f"planner's calendar {language}"] = planner_calendar.text
    deliverables["proposal page"] = (await service.client.get(links["mei"])).text
    for name, text in deliverables.items():
        flat = text.replace("\r\n ", "").replace("\\,", ",")  # unfold and unescape calendar lines
        assert "INTERNAL-7f3a" not in flat, name
        assert "Meet your guide at the Walk entrance." in flat, name
        assert "Lotus & Maple Travel" in flat or "Lotus &amp; Maple Travel" in flat, name
        assert "+86 21 5555 0199" in flat, name
        assert "Mei" in flat and "Tom" in flat, name


async def test_the_client_s_pages_carry_the_profile_the_agency_saved_in_notify(service):
    from trip_shared.contracts.agency import AgencyProfileChanged, AgencyProfileData

    base, _ = await planned_trip(service)
    path = urlsplit((await service.client.post(f"{base}/share-link", headers=auth())).json()["url"]).path
    assert "Lotus &amp; Maple Travel" in (await service.client.get(path)).text, "the setting's, until one is saved"
    changed = AgencyProfileChanged(tenant_id="tenant-a", aggregate_id="tenant-a", aggregate_version=2,
                                   producer="notify", data=AgencyProfileData(
                                       name="Kyoto Bound Journeys", emergency_phone="+81 90 0000 2222"))
    await service.publish(changed)
    await service.publish(changed.model_copy(update={"aggregate_version": 1, "data": AgencyProfileData(
        name="An older name", emergency_phone="+1")}))  # late and older: ignored
    service.runtime.agencies.forget("tenant-a")  # this replica's few seconds of cache
    page = (await service.client.get(path)).text
    assert "Kyoto Bound Journeys" in page and "+81 90 0000 2222" in page and "Lotus" not in page
    assert "An older name" not in page


async def test_a_change_the_clients_must_agree_to_is_asked_and_their_answers_are_on_the_trip(service):
    from datetime import UTC, datetime, timedelta

    from trip_shared.contracts.itinerary import ItineraryChanged
    from trip_shared.contracts.notify import AgreementAnswer, ChangeAgreementAnswered

    base, items = await planned_trip(service)
    refused = await service.client.patch(f"{base}/items/{items['Walk']}", headers=auth(), json={
        "start": "2027-05-03T09:00", "ask_client": {"reason": "The guide starts earlier"}})
    assert refused.status_code == 409 and refused.json()["code"] == "not-approved-yet"
    walk = (await service.client.get(f"{base}/items/{items['Walk']}", headers=auth())).json()
    assert walk["start"].startswith("2027-05-03T10:00"), "a refused change changes nothing"
    proposal, links = await send(service, base, items)
    await service.client.post(links["mei"], data={"action": "approve", "option": proposal["options"][1]["id"]})
    unseen = await service.client.patch(f"{base}/items/{items['Walk']}", headers=auth(), json={
        "notes": "guide paid in cash", "cost": {"amount": 80, "currency": "EUR"}, "ask_client": {}})
    assert unseen.status_code == 422 and unseen.json()["code"] == "nothing-to-agree"
    walk = (await service.client.get(f"{base}/items/{items['Walk']}", headers=auth())).json()
    assert walk["notes"] is None and walk["cost"] is None, "refused whole: the change did not happen either"
    asked = await service.client.patch(f"{base}/items/{items['Walk']}", headers=auth(), json={
        "start": "2027-05-03T09:00", "ask_client": {"reason": "The guide starts earlier"}})
    assert asked.status_code == 200, asked.text
    events = [ItineraryChanged.model_validate_json(row["payload"]) async for row in
              service.runtime.outbox.rows.find({"event_type": "itinerary.changed"}).sort("_id", -1).limit(1)]
    agreement = events[0].agreement
    assert agreement.reason == "The guide starts earlier" and events[0].changes[0].field.endswith(".start")
    trip = (await service.client.get(base, headers=auth())).json()
    [shown] = trip["agreements"]
    assert shown["id"] == agreement.agreement_id and shown["status"] == "asked" and shown["answers"] == []

    def answer(value, at, version):
        return ChangeAgreementAnswered(
            tenant_id="tenant-a", aggregate_id=f"{agreement.agreement_id}:mei", aggregate_version=version,
            trip_id=trip["id"], producer="notify",
            data=AgreementAnswer(agreement_id=agreement.agreement_id, itinerary_id=trip["id"], customer_id="mei",
                                 answer=value, answered_at=at))

    now = datetime.now(UTC)
    await service.publish(answer("agreed", now, 1))
    assert (await service.client.get(base, headers=auth())).json()["agreements"][0]["status"] == "agreed"
    await service.publish(answer("call_me", now + timedelta(seconds=5), 2))
    await service.publish(answer("agreed", now, 1))  # redelivered late: the newer answer stands
    trip = (await service.client.get(base, headers=auth())).json()
    assert trip["agreements"][0]["status"] == "call_requested"
    assert [a["answer"] for a in trip["agreements"][0]["answers"]] == ["call_me"]
    assert any(n["kind"] == "call_requested" and "mei" in n["message"] for n in trip["notices"])
