import json

from trip_shared.contracts.customers import CustomerCreated, CustomerDeactivated
from trip_shared.testing.service import assert_every_v1_route_requires_auth, auth, unbounded_inputs


async def create(service, tenant="tenant-a", **body):
    response = await service.client.post("/v1/customers", json=body, headers=auth(tenant))
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_then_get_and_find_by_every_field(service):
    created = await create(service, first_name="Ana", last_name="Lima", email="Ana@Example.com",
                           phone="+44 7911 123456")
    assert created["phone"] == "+447911123456" and created["email"] == "ana@example.com"
    assert (await service.client.get(f"/v1/customers/{created['id']}", headers=auth())).json()["id"] == created["id"]
    for query in ("an", "AN", "lim", "ana l", "ana@ex", "+44 7911", "07911", "123456"):
        found = await service.client.get("/v1/customers", params={"q": query}, headers=auth())
        assert [c["id"] for c in found.json()["items"]] == [created["id"]], query
    none = await service.client.get("/v1/customers", params={"q": "bob"}, headers=auth())
    assert none.json()["items"] == []


async def test_creating_a_customer_publishes_customer_created(service):
    created = await create(service, first_name="Ana", email="ana@example.com")
    await service.flush_outbox()  # the relay may already have published it; either way it is out now
    row = await service.runtime.outbox.rows.find_one({"event_type": "customer.created"})
    event = CustomerCreated.model_validate_json(row["payload"])
    assert event.aggregate_id == created["id"] and event.tenant_id == "tenant-a"
    assert event.data.emails == ["ana@example.com"] and row["status"] == "published"


async def test_where_a_customer_lives_is_a_real_time_zone_shared_with_the_other_services(service):
    created = await create(service, first_name="Mei", email="mei@example.com", home_timezone="Asia/Shanghai")
    assert created["home_timezone"] == "Asia/Shanghai"
    url = f"/v1/customers/{created['id']}"
    for bad in ("Shanghai", "UTC+8", "Asia/Shanghai/../x"):
        refused = await service.client.patch(url, json={"home_timezone": bad}, headers=auth())
        assert refused.status_code == 422 and refused.json()["code"] == "invalid-timezone", refused.text
    assert (await service.client.get(url, headers=auth())).json()["home_timezone"] == "Asia/Shanghai"
    moved = await service.client.patch(url, json={"home_timezone": "Europe/London"}, headers=auth())
    assert moved.json()["home_timezone"] == "Europe/London"
    cleared = await service.client.patch(url, json={"home_timezone": None}, headers=auth())
    assert cleared.json()["home_timezone"] is None
    rows = service.runtime.outbox.rows.find({"aggregate_id": created["id"]}).sort("_id", 1)
    zones = [(row["event_type"], json.loads(row["payload"])["data"].get("home_timezone")) async for row in rows]
    assert [zone for kind, zone in zones if kind != "customer.state"] == ["Asia/Shanghai", "Europe/London", None]
    assert [zone for kind, zone in zones if kind == "customer.state"] == ["Asia/Shanghai", "Europe/London", None], \
        "the state topic has each change too"


async def test_deactivated_customers_are_found_only_when_asked_for(service):
    created = await create(service, first_name="Ines")
    patched = await service.client.patch(f"/v1/customers/{created['id']}", json={"status": "inactive"},
                                         headers=auth())
    assert patched.status_code == 200 and patched.json()["status"] == "inactive"
    assert (await service.client.get("/v1/customers?q=ines", headers=auth())).json()["items"] == []
    found = await service.client.get("/v1/customers?q=ines&include_inactive=true", headers=auth())
    assert [c["id"] for c in found.json()["items"]] == [created["id"]]
    row = await service.runtime.outbox.rows.find_one({"event_type": "customer.deactivated"})
    deactivated = CustomerDeactivated.model_validate_json(row["payload"])
    assert deactivated.data.status == "inactive" and deactivated.aggregate_version == 2
    assert await service.runtime.outbox.rows.count_documents({"event_type": "customer.updated"}) == 0


async def test_search_pages_through_results_in_name_order(service):
    for name in ("Carla", "Abel", "Bruno", "Alba", "Bea"):
        await create(service, first_name=name)
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await service.client.get("/v1/customers", params=params, headers=auth())).json()
        seen += [c["first_name"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["Abel", "Alba", "Bea", "Bruno", "Carla"]


async def test_search_ranks_whole_names_then_name_starts_then_emails(service):
    await create(service, first_name="Ann", last_name="Smith", email="li.smith@example.com")
    await create(service, first_name="Carlos", last_name="Lima")
    await create(service, first_name="Bo", last_name="Li")
    await create(service, first_name="Amy", last_name="Li")
    await create(service, first_name="Lisa", last_name="Zhou")
    found = await service.client.get("/v1/customers", params={"q": "li"}, headers=auth())
    names = [f"{c['first_name']} {c['last_name']}" for c in found.json()["items"]]
    assert names == ["Amy Li", "Bo Li", "Carlos Lima", "Lisa Zhou", "Ann Smith"]


async def test_ranked_pages_mix_active_and_inactive_customers_without_gaps(service):
    ids = {}
    for first, last, status in (("Mei", "Chen", "inactive"), ("Meiling", "Wong", "active"), ("Amei", "Mei", "active"),
                                ("Zoe", "Tan", "inactive"), ("Mei", "Adams", "active")):
        ids[first, last] = (await create(service, first_name=first, last_name=last))["id"]
        if status == "inactive":
            await service.client.patch(f"/v1/customers/{ids[first, last]}", json={"status": "inactive"},
                                       headers=auth())
    await service.client.patch(f"/v1/customers/{ids['Zoe', 'Tan']}", json={"emails": ["mei.tan@example.com"]},
                               headers=auth())
    seen, cursor = [], None
    while True:
        params = {"q": "mei", "include_inactive": "true", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await service.client.get("/v1/customers", params=params, headers=auth())).json()
        seen += [(c["first_name"], c["last_name"]) for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [("Amei", "Mei"), ("Mei", "Adams"), ("Mei", "Chen"), ("Meiling", "Wong"), ("Zoe", "Tan")]


async def test_another_agency_cannot_see_or_change_the_customer(service):
    created = await create(service, first_name="Ana")
    url = f"/v1/customers/{created['id']}"
    assert (await service.client.get(url, headers=auth("tenant-b"))).status_code == 404
    patched = await service.client.patch(url, json={"first_name": "Eve"}, headers=auth("tenant-b"))
    assert patched.status_code == 404
    assert (await service.client.get("/v1/customers?q=ana", headers=auth("tenant-b"))).json()["items"] == []
    assert (await service.client.get(url, headers=auth())).json()["first_name"] == "Ana"


async def test_bad_input_gets_problem_details_and_changes_nothing(service):
    client = service.client
    cases = [
        (await client.post("/v1/customers", content=b"{not json", headers={**auth(), "content-type": "application/json"}), 400, "malformed-json"),
        (await client.post("/v1/customers", json={"last_name": "Lima"}, headers=auth()), 422, "invalid-request"),
        (await client.post("/v1/customers", json={"first_name": "  "}, headers=auth()), 422, "first-name-required"),
        (await client.post("/v1/customers", json={"first_name": "A", "email": "nope"}, headers=auth()), 422, "invalid-email"),
        (await client.post("/v1/customers", json={"first_name": "A", "phone": "12"}, headers=auth()), 422, "invalid-phone"),
        (await client.post("/v1/customers", json={"first_name": "A", "shoe": 42}, headers=auth()), 422, "invalid-request"),
        (await client.post("/v1/customers", json={"first_name": "A"}), 401, "unauthorized"),
        (await client.post("/v1/customers", json={"first_name": "A"}, headers={"Authorization": "Bearer wrong"}), 401, "unauthorized"),
        (await client.post("/v1/customers", json={"first_name": "A"}, headers=auth("read-only")), 403, "forbidden"),
        (await client.get("/v1/customers/unknown", headers=auth()), 404, "customer-not-found"),
        (await client.patch("/v1/customers/unknown", json={"last_name": "x"}, headers=auth()), 404, "customer-not-found"),
        (await client.get("/v1/customers?cursor=%%%", headers=auth()), 400, "invalid-cursor"),
        (await client.get("/v1/customers?limit=0", headers=auth()), 422, "invalid-request"),
        # Control characters would break e-mail headers and calendar lines; bidi overrides disguise names.
        (await client.post("/v1/customers", json={"first_name": "Ana\r\nBcc: x@evil.example"}, headers=auth()), 422, "invalid-request"),
        (await client.post("/v1/customers", json={"first_name": "\u202eanA"}, headers=auth()), 422, "invalid-request"),
        (await client.post("/v1/customers", json={"first_name": "Ana", "notes": "red \x1b[31m"}, headers=auth()), 422, "invalid-request"),
        (await client.post("/v1/customers", json={"first_name": "x" * 201}, headers=auth()), 422, "invalid-request"),
        (await client.post("/v1/customers", json={"first_name": "Ana", "date_of_birth": 19900517}, headers=auth()), 422, "invalid-request"),
        (await client.post("/v1/customers", json={"first_name": "Ana", "emails": ["a@example.com" + "m" * 400]}, headers=auth()), 422, "invalid-request"),
        (await client.post("/v1/customers", json={"first_name": "x" * 300_000}, headers=auth()), 413, "payload-too-large"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, (response.request.url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == status and problem["code"] == code and problem["title"] and problem["detail"]
    assert await service.runtime.store.db["customers"].count_documents({}) == 0
    assert await service.runtime.outbox.rows.count_documents({}) == 0


async def test_a_rejected_update_changes_nothing(service):
    created = await create(service, first_name="Ana", phone="+447911123456")
    response = await service.client.patch(f"/v1/customers/{created['id']}",
                                          json={"last_name": "Lima", "phones": ["bad"]}, headers=auth())
    assert response.status_code == 422
    current = (await service.client.get(f"/v1/customers/{created['id']}", headers=auth())).json()
    assert current["last_name"] is None and current["phones"] == ["+447911123456"] and current["version"] == 1


async def test_probes_and_metrics_are_open(service):
    assert (await service.client.get("/healthz")).json()["status"] == "ok"
    ready = await service.client.get("/readyz")
    assert ready.json()["mongodb"] == "ok", ready.text
    await service.client.get("/v1/customers", headers=auth())
    metrics = (await service.client.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="/v1/customers",status="200"}' in metrics
    assert "outbox_pending_events" in metrics


async def test_every_route_requires_an_api_key(service):
    assert await assert_every_v1_route_requires_auth(service) >= 4
    assert unbounded_inputs(service.app) == [], "every field a client sends has a size limit"


async def test_search_terms_do_not_reach_traces(mongodb_url, mongo_database_name):
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from customers.bootstrap import create_app
    from trip_shared.testing.service import component_settings, running_service

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(component_settings("customers", mongodb_url, mongo_database_name), tracer_provider=provider)
    async with running_service(app) as service:
        await create(service, first_name="Mei", email="mei@example.com", phone="+44 7911 123456")
        await service.client.get("/v1/customers", params={"q": "mei@example.com"}, headers=auth())
    recorded = " ".join(f"{span.name} {dict(span.attributes)}" for span in exporter.get_finished_spans())
    assert "GET /v1/customers" in recorded
    for personal in ("mei@example.com", "Mei", "447911123456"):
        assert personal not in recorded


async def test_a_likely_duplicate_is_refused_with_the_existing_record_unless_confirmed(service):
    existing = await create(service, first_name="Ana", last_name="Lima", email="ana@example.com")
    refused = await service.client.post("/v1/customers", json={"first_name": "Anna", "email": "ANA@example.com"},
                                        headers=auth())
    assert refused.status_code == 409 and refused.json()["code"] == "possible-duplicate"
    [duplicate] = refused.json()["duplicates"]
    assert duplicate["id"] == existing["id"] and duplicate["reasons"] == ["same e-mail ana@example.com"]
    assert await service.runtime.store.db["customers"].count_documents({}) == 1
    same_name = await service.client.post("/v1/customers", json={"first_name": "ANA", "last_name": "lima"},
                                          headers=auth())
    assert same_name.status_code == 409
    confirmed = await service.client.post("/v1/customers?allow_duplicate=true",
                                          json={"first_name": "Ana", "last_name": "Lima"}, headers=auth())
    assert confirmed.status_code == 201
    other_agency = await service.client.post("/v1/customers", json={"first_name": "Ana", "email": "ana@example.com"},
                                             headers=auth("tenant-b"))
    assert other_agency.status_code == 201, "another agency's customers are not duplicates"


async def test_every_change_is_kept_with_who_made_it(service):
    created = await create(service, first_name="Ana", nationality="pt")
    url = f"/v1/customers/{created['id']}"
    await service.client.patch(url, json={"last_name": "Lima", "passport_number": "P1234567",
                                          "passport_expiry": "2031-02-03"}, headers=auth())
    await service.client.patch(url, json={"status": "inactive"}, headers=auth())
    history = (await service.client.get(f"{url}/history", headers=auth())).json()["items"]
    assert [(h["version"], h["action"], h["actor"]) for h in history] == [
        (1, "created", "a"), (2, "updated", "a"), (3, "updated", "a")]
    assert {(c["field"], c["before"], c["after"]) for c in history[1]["changes"]} == {
        ("last_name", None, "Lima"), ("passport_number", None, "P1234567"), ("passport_expiry", None, "2031-02-03")}
    assert history[2]["changes"] == [{"field": "status", "before": "active", "after": "inactive"}]
    current = (await service.client.get(url, headers=auth())).json()
    assert current["nationality"] == "PT" and current["passport_expiry"] == "2031-02-03"


async def test_consultations_are_versioned_and_announced(service):
    from trip_shared.contracts.customers import PreferencesRecorded

    created = await create(service, first_name="Mei")
    url = f"/v1/customers/{created['id']}/consultations"
    first = await service.client.post(url, headers=auth(), json={
        "source": "questionnaire", "interests": ["temples", "food"], "pace": "relaxed",
        "budget": {"minimum": 3000, "maximum": 5000, "currency": "EUR"},
        "travel_dates": {"start": "2027-10-01", "end": "2027-10-09", "flexible_days": 2},
        "party_adults": 2, "dietary": ["vegetarian"], "accessibility": ["step-free access"]})
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1 and first.json()["recorded_by"] == "a"
    second = await service.client.post(url, headers=auth(), json={"pace": "standard", "interests": ["gardens"]})
    assert second.json()["version"] == 2
    listed = (await service.client.get(url, headers=auth())).json()["items"]
    assert [c["version"] for c in listed] == [2, 1], "a new consultation keeps the old one"
    assert listed[1]["preferences"]["dietary"] == ["vegetarian"]
    rows = service.runtime.outbox.rows.find({"event_type": "customer.preferences_recorded"}).sort("_id", 1)
    events = [PreferencesRecorded.model_validate_json(row["payload"]) async for row in rows]
    assert [(e.consultation_version, e.data.pace) for e in events] == [(1, "relaxed"), (2, "standard")]
    assert [e.aggregate_version for e in events] == [2, 3]
    bad = [
        await service.client.post(url, headers=auth(), json={"pace": "frantic"}),
        await service.client.post(url, headers=auth(), json={"budget": {"minimum": 9, "maximum": 1, "currency": "EUR"}}),
        await service.client.post(url, headers=auth(), json={"moods": ["happy"]}),
        await service.client.post("/v1/customers/nope/consultations", headers=auth(), json={}),
        await service.client.post(url, headers=auth("tenant-b"), json={}),
    ]
    assert [r.status_code for r in bad] == [422, 422, 422, 404, 404]
    assert len((await service.client.get(url, headers=auth())).json()["items"]) == 2


async def test_export_returns_everything_held_about_the_customer(service):
    created = await create(service, first_name="Mei", email="mei@example.com", notes="VIP")
    await service.client.post(f"/v1/customers/{created['id']}/consultations", headers=auth(), json={"pace": "packed"})
    exported = await service.client.get(f"/v1/customers/{created['id']}/export", headers=auth())
    assert exported.status_code == 200
    body = exported.json()
    assert body["customer"]["emails"] == ["mei@example.com"] and body["customer"]["notes"] == "VIP"
    assert body["consultations"][0]["preferences"]["pace"] == "packed"
    assert [h["action"] for h in body["history"]] == ["created", "consultation"]
    assert (await service.client.get(f"/v1/customers/{created['id']}/export", headers=auth("tenant-b"))).status_code == 404


async def test_long_queries_and_phone_fragments_are_exact(service):
    ana = await create(service, first_name="Ana", last_name="Lima", phone="+44 7911 123456")
    await create(service, first_name="Ana", last_name="Limão", email="other@example.com", phone="+33 6 12 34 56 78")

    async def found(q):
        response = await service.client.get("/v1/customers", params={"q": q}, headers=auth())
        return sorted(c["last_name"] for c in response.json()["items"])

    assert await found("ana lim") == ["Lima", "Limão"]
    assert await found("ana lima") == ["Lima", "Limão"], "accents fold: limão starts with lima"
    assert await found("ana limao") == ["Limão"]
    assert await found("ana limz") == []
    assert await found("1112") == ["Lima"], "digits from the middle of the number"
    assert await found("6 12 34") == ["Limão"]
    assert ana["id"] in [c["id"] for c in (await service.client.get(
        "/v1/customers", params={"q": "+44 7911 123 456"}, headers=auth())).json()["items"]]


async def test_deleting_a_customer_removes_the_record_and_announces_it(service):
    from trip_shared.contracts.customers import CustomerDeleted

    created = await create(service, first_name="Ana", email="ana@example.com")
    url = f"/v1/customers/{created['id']}"
    await service.client.post(f"{url}/consultations", headers=auth(), json={"pace": "relaxed"})
    assert (await service.client.delete(url, headers=auth("tenant-b"))).status_code == 404
    assert (await service.client.delete(url, headers=auth("read-only"))).status_code == 403
    response = await service.client.delete(url, headers=auth())
    assert response.status_code == 204
    assert (await service.client.get(url, headers=auth())).status_code == 404
    assert (await service.client.get("/v1/customers?q=ana&include_inactive=true", headers=auth())).json()["items"] == []
    assert (await service.client.delete(url, headers=auth())).status_code == 404
    assert await service.runtime.store.db["consultations"].count_documents({}) == 0
    [tombstone] = await service.runtime.store.db["customer_history"].find({}).to_list(None)
    assert tombstone["action"] == "deleted" and tombstone["actor"] == "a" and tombstone["changes"] == []
    row = await service.runtime.outbox.rows.find_one({"event_type": "customer.deleted"})
    event = CustomerDeleted.model_validate_json(row["payload"])
    assert event.data.customer_id == created["id"] and event.aggregate_version == 3


async def test_merging_a_duplicate_keeps_both_histories_and_announces_it(service):
    from trip_shared.contracts.customers import CustomersMerged

    survivor = await create(service, first_name="Ana", email="ana@example.com")
    duplicate = (await service.client.post("/v1/customers?allow_duplicate=true", headers=auth(), json={
        "first_name": "Ana", "last_name": "Lima", "email": "ana@example.com", "phone": "+44 7911 123456"})).json()
    merged = await service.client.post(f"/v1/customers/{survivor['id']}/merge", headers=auth(),
                                       json={"duplicate_id": duplicate["id"]})
    assert merged.status_code == 200, merged.text
    assert merged.json()["last_name"] == "Lima" and merged.json()["phones"] == ["+447911123456"]
    old = (await service.client.get(f"/v1/customers/{duplicate['id']}", headers=auth())).json()
    assert (old["status"], old["merged_into"]) == ("merged", survivor["id"])
    found = (await service.client.get("/v1/customers?q=ana&include_inactive=true", headers=auth())).json()["items"]
    assert [c["id"] for c in found] == [survivor["id"]], "merged records leave search"
    assert (await service.client.get(f"/v1/customers/{survivor['id']}/history", headers=auth())).json()["items"][-1][
        "action"] == "merged"
    assert (await service.client.get(f"/v1/customers/{duplicate['id']}/history", headers=auth())).json()["items"][-1][
        "changes"] == [{"field": "merged_into", "before": None, "after": survivor["id"]}]
    row = await service.runtime.outbox.rows.find_one({"event_type": "customer.merged"})
    event = CustomersMerged.model_validate_json(row["payload"])
    assert event.data.merged_customer_id == duplicate["id"] and event.aggregate_id == survivor["id"]
    again = await service.client.post(f"/v1/customers/{survivor['id']}/merge", headers=auth(),
                                      json={"duplicate_id": duplicate["id"]})
    assert again.status_code == 409 and again.json()["code"] == "already-merged"
    edit = await service.client.patch(f"/v1/customers/{duplicate['id']}", headers=auth(), json={"notes": "x"})
    assert edit.status_code == 409
    for response in (await service.client.post(f"/v1/customers/{survivor['id']}/merge", headers=auth(), json={"duplicate_id": "nope"}),
                     await service.client.post(f"/v1/customers/{survivor['id']}/merge", headers=auth("tenant-b"), json={"duplicate_id": duplicate["id"]}),
                     await service.client.post(f"/v1/customers/{survivor['id']}/merge", headers=auth(), json={})):
        assert response.status_code in (404, 422)


async def test_erasure_scrubs_the_record_and_tracks_every_services_confirmation(service):
    from trip_shared.contracts.customers import CustomerErased
    from trip_shared.contracts.privacy import ErasureConfirmation, ErasureConfirmed

    created = await create(service, first_name="Mei", last_name="Chen", email="mei@example.com",
                           phone="+44 7911 123456", notes="Allergic to peanuts")
    url = f"/v1/customers/{created['id']}"
    await service.client.patch(url, json={"last_name": "Chan"}, headers=auth())
    await service.client.post(f"{url}/consultations", headers=auth(), json={"dietary": ["no peanuts"]})
    await service.flush_outbox()
    assert await service.runtime.outbox.rows.count_documents({"aggregate_id": created["id"]}) == 5, \
        "created, updated, preferences recorded; and the state after the first two"
    assert (await service.client.get(f"{url}/erasure", headers=auth())).status_code == 404
    started = await service.client.post(f"{url}/erasure", headers=auth())
    assert started.status_code == 202, started.text
    assert started.json()["pending"] == ["itinerary", "booking", "notify", "feedback"]
    assert not started.json()["complete"]
    record = (await service.client.get(url, headers=auth())).json()
    assert record["status"] == "erased" and record["first_name"] == "[erased]"
    assert record["emails"] == [] and record["phones"] == [] and record["notes"] is None
    exported = (await service.client.get(f"{url}/export", headers=auth())).json()
    assert exported["consultations"] == []
    flat = str(exported)
    for personal in ("Mei", "Chen", "Chan", "mei@example.com", "447911123456", "peanuts"):
        assert personal not in flat, personal
    assert (await service.client.get("/v1/customers?q=mei&include_inactive=true", headers=auth())).json()["items"] == []
    assert (await service.client.post(f"{url}/erasure", headers=auth())).status_code == 409
    kept = [row async for row in service.runtime.outbox.rows.find({"aggregate_id": created["id"]})]
    assert sorted(row["event_type"] for row in kept) == ["customer.erased", "tombstone"], \
        "published copies of the details are gone; a tombstone clears them from customer.state too"
    assert all("Chan" not in (row["payload"] or "") and "peanuts" not in (row["payload"] or "") for row in kept)
    assert [(row["topic"], row["key"], row["payload"]) for row in kept if row["event_type"] == "tombstone"] == [
        ("customer.state", created["id"], None)]
    row = await service.runtime.outbox.rows.find_one({"event_type": "customer.erased"})
    request = CustomerErased.model_validate_json(row["payload"])
    for name in ("itinerary", "booking", "notify", "feedback"):
        await service.publish(ErasureConfirmed(
            tenant_id="tenant-a", aggregate_id=created["id"], aggregate_version=request.aggregate_version,
            producer=name, data=ErasureConfirmation(customer_id=created["id"], service=name, scrubbed=["copy"])))
    done = (await service.client.get(f"{url}/erasure", headers=auth())).json()
    assert done["complete"] and done["pending"] == []
    assert set(done["confirmations"]) == {"itinerary", "booking", "notify", "feedback"}


async def test_a_customer_completes_their_profile_through_the_signed_link(service):
    from urllib.parse import urlsplit

    created = await create(service, first_name="Mei", email="mei@example.com", preferred_language="zh-Hans")
    issued = await service.client.post(f"/v1/customers/{created['id']}/profile-link", headers=auth(),
                                       json={"valid_days": 3})
    assert issued.status_code == 201, issued.text
    path = urlsplit(issued.json()["url"]).path
    page = await service.client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "您的旅行资料" in page.text and 'value="Mei"' in page.text and 'value="mei@example.com"' in page.text
    assert "您居住地的时区" in page.text and '<option value="Asia/Shanghai">' in page.text, "the zone is asked, with hints"

    form = {"first_name": "Mei", "last_name": "Chen", "email": "mei.chen@example.com", "phone": "+86 138 0013 8000",
            "preferred_language": "en", "home_timezone": "Asia/Shanghai", "date_of_birth": "1990-05-17",
            "nationality": "cn",
            "passport_number": "E12345678", "passport_expiry": "2031-01-31", "pace": "relaxed",
            "interests": "tea, gardens", "dietary": "vegetarian", "accessibility": "",
            "special_requirements": "Ground-floor rooms please"}
    saved = await service.client.post(path, data=form)
    assert saved.status_code == 200 and "Thank you" in saved.text
    customer = (await service.client.get(f"/v1/customers/{created['id']}", headers=auth())).json()
    assert (customer["last_name"], customer["nationality"], customer["passport_expiry"]) == ("Chen", "CN", "2031-01-31")
    assert customer["home_timezone"] == "Asia/Shanghai", "reminders will reach her at a good hour where she lives"
    assert customer["emails"] == ["mei@example.com"], "a new address is used only once its owner confirms it"
    assert customer["phones"] == ["+8613800138000"] and customer["passport_number"] == "E12345678"
    assert "mei.chen@example.com" in saved.text, "the page says where the confirmation went"
    [consultation] = (await service.client.get(f"/v1/customers/{created['id']}/consultations",
                                               headers=auth())).json()["items"]
    assert consultation["source"] == "profile_form" and consultation["preferences"]["interests"] == ["tea", "gardens"]
    history = (await service.client.get(f"/v1/customers/{created['id']}/history", headers=auth())).json()["items"]
    assert {h["actor"] for h in history[1:]} == {"customer (profile form)"}
    updated = await service.runtime.outbox.rows.count_documents({"event_type": "customer.updated"})
    assert updated == 1

    spent = await service.client.get(path)
    assert spent.status_code == 403 and "already used" in spent.text, "the link works once"
    assert (await service.client.post(path, data=form)).status_code == 403

    import json
    row = await service.runtime.outbox.rows.find_one({"event_type": "customer.email_confirmation_requested"})
    confirmation = json.loads(row["payload"])["data"]
    assert confirmation["email"] == "mei.chen@example.com" and "/forms/email/" in confirmation["url"]
    confirm_path = urlsplit(confirmation["url"]).path
    shown = await service.client.get(confirm_path)
    assert shown.status_code == 200 and "mei.chen@example.com" in shown.text and 'method="post"' in shown.text
    assert (await service.client.get(f"/v1/customers/{created['id']}", headers=auth())).json()["emails"] == \
        ["mei@example.com"], "opening the link (as a mail scanner would) confirms nothing"
    confirmed = await service.client.post(confirm_path)
    assert confirmed.status_code == 200
    customer = (await service.client.get(f"/v1/customers/{created['id']}", headers=auth())).json()
    assert customer["emails"] == ["mei.chen@example.com", "mei@example.com"]
    assert (await service.client.post(confirm_path)).status_code == 403, "a confirmation works once too"


async def test_the_profile_page_never_shows_the_passport_number_and_a_newer_link_supersedes_the_old(service):
    from urllib.parse import urlsplit

    created = await create(service, first_name="Ana", passport_number="P1234567")
    first = urlsplit((await service.client.post(f"/v1/customers/{created['id']}/profile-link",
                                                headers=auth())).json()["url"]).path
    page = await service.client.get(first)
    assert "P1234567" not in page.text and "4567" in page.text and "••••" in page.text
    kept = await service.client.post(first, data={"first_name": "Ana", "passport_number": ""})
    assert kept.status_code == 200
    assert (await service.client.get(f"/v1/customers/{created['id']}", headers=auth())).json()["passport_number"] == \
        "P1234567", "left empty, the number on record stays"
    second = urlsplit((await service.client.post(f"/v1/customers/{created['id']}/profile-link",
                                                 headers=auth())).json()["url"]).path
    third = urlsplit((await service.client.post(f"/v1/customers/{created['id']}/profile-link",
                                                headers=auth())).json()["url"]).path
    superseded = await service.client.get(second)
    assert superseded.status_code == 403 and "newer link" in superseded.text
    assert (await service.client.get(third)).status_code == 200


async def test_the_profile_form_refuses_bad_input_and_bad_links_and_changes_nothing(service):
    from datetime import timedelta
    from urllib.parse import urlsplit

    from trip_shared.web.signed_links import LinkSigner

    created = await create(service, first_name="Ana")
    path = urlsplit((await service.client.post(f"/v1/customers/{created['id']}/profile-link",
                                               headers=auth())).json()["url"]).path
    for form in ({"first_name": "Ana", "date_of_birth": "17/05/1990"}, {"first_name": "Ana", "pace": "frantic"},
                 {"first_name": "", "phone": "12"}, {"first_name": "Ana", "nationality": "Portugal"},
                 {"first_name": "A" * 201}, {"first_name": "Ana\x00"}, {"first_name": "Ana", "interests": "x" * 101},
                 {"first_name": "Ana", "special_requirements": "x" * 2001},
                 {"first_name": "Ana", "home_timezone": "Shanghai"}, {"first_name": "Ana", "home_timezone": "GMT+8"}):
        refused = await service.client.post(path, data=form)
        assert refused.status_code == 422 and 'class="error"' in refused.text, form
    oversized = await service.client.post(path, data={"first_name": "A" * 1_100_000})
    assert oversized.status_code == 413, "the page limits its body like the API: nothing that large is parsed"
    current = (await service.client.get(f"/v1/customers/{created['id']}", headers=auth())).json()
    assert current["version"] == 1 and current["first_name"] == "Ana"

    token = path.rsplit("/", 1)[1]
    assert (await service.client.get(path[:-3] + "abc")).status_code == 403
    assert (await service.client.post(path[:-3] + "abc", data={"first_name": "Eve"})).status_code == 403
    signer = LinkSigner(service.runtime.settings.link_signing_secret)
    expired, _ = signer.sign("customer-profile", "tenant-a", created["id"], timedelta(seconds=-5))
    assert "expired" in (await service.client.get(f"/forms/profile/{expired}")).text
    other_purpose, _ = signer.sign("proposal-approval", "tenant-a", created["id"], timedelta(days=1))
    assert (await service.client.get(f"/forms/profile/{other_purpose}")).status_code == 403
    link_id = (await service.runtime.store.db["issued_links"].find_one({"customer_id": created["id"]}))["_id"]
    other_tenant, _ = signer.sign("customer-profile", "tenant-b", created["id"], timedelta(days=1), link_id)
    assert (await service.client.get(f"/forms/profile/{other_tenant}")).status_code == 403, \
        "a link issued in one agency opens nothing in another"
    never_issued, _ = signer.sign("customer-profile", "tenant-a", created["id"], timedelta(days=1), "made-up")
    assert (await service.client.get(f"/forms/profile/{never_issued}")).status_code == 403
    assert token and (await service.client.post(f"/v1/customers/{created['id']}/profile-link", headers=auth(),
                                                json={"valid_days": 90})).status_code == 422


async def test_a_near_identical_name_is_flagged_as_a_possible_duplicate(service):
    existing = await create(service, first_name="John", last_name="Smith")
    refused = await service.client.post("/v1/customers", json={"first_name": "Jon", "last_name": "smith"},
                                        headers=auth())
    assert refused.status_code == 409
    assert refused.json()["duplicates"] == [{**refused.json()["duplicates"][0], "id": existing["id"],
                                             "reasons": ["similar name"]}]
    other_family = await service.client.post("/v1/customers", json={"first_name": "Jon", "last_name": "Smyth"},
                                             headers=auth())
    assert other_family.status_code == 201


async def test_changes_sent_with_if_match_apply_only_to_the_revision_read(service):
    created = await service.client.post("/v1/customers", json={"first_name": "Ana"}, headers=auth())
    url = f"/v1/customers/{created.json()['id']}"
    read = await service.client.get(url, headers=auth())
    assert read.headers["etag"] == created.headers["etag"] == '"1"'
    changed = await service.client.patch(url, json={"last_name": "Lima"}, headers={**auth(), "If-Match": '"1"'})
    assert changed.status_code == 200 and changed.headers["etag"] == '"2"'
    stale = await service.client.patch(url, json={"last_name": "Costa"}, headers={**auth(), "If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["code"] == "precondition-failed"
    assert stale.json()["current_etag"] == '"2"'
    stale_delete = await service.client.delete(url, headers={**auth(), "If-Match": '"1"'})
    assert stale_delete.status_code == 412
    after = (await service.client.get(url, headers=auth())).json()
    assert (after["last_name"], after["version"]) == ("Lima", 2), "a refused change changed nothing"
    assert (await service.client.patch(url, json={"notes": "x"}, headers={**auth(), "If-Match": "*"})).status_code == 200
    assert (await service.client.delete(url, headers={**auth(), "If-Match": 'W/"3"'})).status_code == 204


async def test_the_state_topic_follows_a_merge_and_a_deletion_with_tombstones(service):
    from trip_shared.contracts.customers import CustomerState

    survivor = await create(service, first_name="Li", last_name="Wei", email="li@example.com")
    duplicate = await create(service, first_name="Lee", last_name="Way", phone="+44 7911 123456")
    merged = await service.client.post(f"/v1/customers/{survivor['id']}/merge", headers=auth(),
                                       json={"duplicate_id": duplicate["id"]})
    assert merged.status_code == 200, merged.text
    states = [state for state in await service.emitted(CustomerState) if state.aggregate_id == survivor["id"]]
    assert states[-1].data.phones == ["+447911123456"] and states[-1].aggregate_version == merged.json()["version"], \
        "the survivor's state now has what it took from the duplicate"

    async def tombstones() -> list[tuple[str, str]]:
        return [(row["topic"], row["key"]) async for row in service.runtime.outbox.rows.find(
            {"event_type": "tombstone"}).sort("_id", 1)]

    assert await tombstones() == [("customer.state", duplicate["id"])], "merged away: its copies go"
    assert (await service.client.delete(f"/v1/customers/{survivor['id']}", headers=auth())).status_code == 204
    assert await tombstones() == [("customer.state", duplicate["id"]), ("customer.state", survivor["id"])]
