"""The agency's suppliers through the HTTP API: kinds, channels, contacts, search, webhook signing secrets."""
from trip_shared.testing.service import auth

RYOKAN = {"name": "Hiiragiya Ryokan", "kind": "hotel", "language": "zh-Hans", "address": "Nakagyo-ku, Kyoto",
          "contacts": [{"role": "reservations", "email": "reserve@hiiragiya.example", "phone": "+81 75 221 1136"}],
          "notes": "Pays commission monthly"}
TRANSFERS = {"name": "Kansai Private Cars", "kind": "transfer", "channel": "webhook",
             "webhook_url": "https://api.kansaicars.example/bookings"}


async def test_suppliers_are_registered_found_by_name_and_changed(service):
    created = await service.client.post("/v1/suppliers", json=RYOKAN, headers=auth())
    assert created.status_code == 201, created.text
    ryokan = created.json()
    assert ryokan["channel"] == "email" and ryokan["active"] and ryokan["signing_secret"] is None
    assert created.headers["location"] == f"/v1/suppliers/{ryokan['id']}"
    cars = (await service.client.post("/v1/suppliers", json=TRANSFERS, headers=auth())).json()
    assert cars["signing_secret"].startswith("whsec_"), "a webhook supplier's secret is shown when it is made"

    def names(response):
        return [supplier["name"] for supplier in response.json()["items"]]

    assert names(await service.client.get("/v1/suppliers", headers=auth())) == ["Hiiragiya Ryokan",
                                                                                 "Kansai Private Cars"]
    assert names(await service.client.get("/v1/suppliers", params={"q": "hiira ryo"}, headers=auth())) == [
        "Hiiragiya Ryokan"]
    assert names(await service.client.get("/v1/suppliers", params={"kind": "transfer"}, headers=auth())) == [
        "Kansai Private Cars"]
    assert names(await service.client.get("/v1/suppliers", headers=auth("tenant-b"))) == [], "agencies apart"

    changed = await service.client.patch(f"/v1/suppliers/{ryokan['id']}", json={"active": False}, headers=auth())
    assert changed.status_code == 200 and changed.json()["active"] is False and changed.json()["version"] == 2
    assert names(await service.client.get("/v1/suppliers", params={"active": "true"}, headers=auth())) == [
        "Kansai Private Cars"]
    read = (await service.client.get(f"/v1/suppliers/{cars['id']}", headers=auth())).json()
    assert read["signing_secret"] is None, "the secret is not shown again"
    again = await service.client.patch(f"/v1/suppliers/{cars['id']}", json={"channel": "webhook"}, headers=auth())
    assert again.status_code == 200 and again.json()["signing_secret"] is None, "nor by a change that makes none"
    webhook = await service.client.patch(f"/v1/suppliers/{ryokan['id']}", headers=auth(), json={
        "channel": "webhook", "webhook_url": "https://api.hiiragiya.example/requests"})
    assert webhook.json()["signing_secret"].startswith("whsec_"), "one made by the change is shown, once"


async def test_a_webhook_suppliers_secret_rotates_and_an_email_supplier_has_none(service):
    cars = (await service.client.post("/v1/suppliers", json=TRANSFERS, headers=auth())).json()
    rotated = await service.client.post(f"/v1/suppliers/{cars['id']}/signing-secret", headers=auth())
    assert rotated.status_code == 200
    assert rotated.json()["signing_secret"].startswith("whsec_")
    assert rotated.json()["signing_secret"] != cars["signing_secret"]
    stored = await service.runtime.store.db["suppliers"].find_one({"_id": cars["id"]})
    assert stored["secret_generation"] == 2 and "whsec_" not in str(stored), "the secret itself is never stored"
    from trip_shared.webhooks import supplier_secret

    key = service.runtime.settings.supplier_secret_key
    assert supplier_secret(key, "tenant-a", cars["id"], 2) == rotated.json()["signing_secret"], \
        "the new one is what signs from now on"
    ryokan = (await service.client.post("/v1/suppliers", json=RYOKAN, headers=auth())).json()
    refused = await service.client.post(f"/v1/suppliers/{ryokan['id']}/signing-secret", headers=auth())
    assert refused.status_code == 422 and refused.json()["code"] == "not-a-webhook-supplier"


async def test_bad_suppliers_are_refused_with_problems_and_change_nothing(service):
    cases = [({**RYOKAN, "kind": "spaceport"}, "invalid-request"),
             ({**RYOKAN, "contacts": []}, "no-email"),
             ({**RYOKAN, "contacts": [{"email": "not-an-address"}]}, "invalid-request"),
             ({**TRANSFERS, "webhook_url": "ftp://cars.example"}, "no-webhook"),
             ({**RYOKAN, "name": "  "}, "name-required"),
             ({**RYOKAN, "colour": "red"}, "invalid-request")]
    for body, code in cases:
        response = await service.client.post("/v1/suppliers", json=body, headers=auth())
        assert response.status_code == 422 and response.json()["code"] == code, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert (await service.client.get("/v1/suppliers", headers=auth())).json()["items"] == []
    missing = await service.client.get("/v1/suppliers/nope", headers=auth())
    assert missing.status_code == 404 and missing.json()["code"] == "supplier-not-found"
    ryokan = (await service.client.post("/v1/suppliers", json=RYOKAN, headers=auth())).json()
    emptied = await service.client.patch(f"/v1/suppliers/{ryokan['id']}", json={"contacts": []}, headers=auth())
    assert emptied.status_code == 422 and emptied.json()["code"] == "no-email"
    assert (await service.client.get(f"/v1/suppliers/{ryokan['id']}", headers=auth())).json()["version"] == 1


async def test_a_patch_cannot_null_what_a_supplier_cannot_be_without(service):
    created = await service.client.post("/v1/suppliers", headers=auth(), json={
        "name": "Hiiragiya", "kind": "hotel", "contacts": [{"email": "reserve@hiiragiya.example"}]})
    supplier_id = created.json()["id"]
    for field in ("contacts", "name", "kind", "channel", "language", "active"):
        refused = await service.client.patch(f"/v1/suppliers/{supplier_id}", json={field: None}, headers=auth())
        assert refused.status_code == 422 and field in refused.json()["detail"], (field, refused.text)
    got = await service.client.get(f"/v1/suppliers/{supplier_id}", headers=auth())
    assert got.json()["version"] == 1 and got.json()["contacts"][0]["email"] == "reserve@hiiragiya.example"


async def test_a_supplier_shows_its_scorecard_as_feedback_last_published_it(service):
    from trip_shared.contracts.feedback import SupplierScorecard, SupplierScorecardChanged

    made = (await service.client.post("/v1/suppliers", json=RYOKAN, headers=auth())).json()
    assert made["scorecard"] is None, "none until feedback has counted something"

    def card(version: int, ratings: int, tenant: str = "tenant-a") -> SupplierScorecardChanged:
        return SupplierScorecardChanged(
            tenant_id=tenant, aggregate_id=RYOKAN["name"], aggregate_version=version, producer="feedback",
            data=SupplierScorecard(supplier=RYOKAN["name"], ratings=ratings, average_rating=4.5, bookings=10,
                                   incidents=1, incidents_per_100_bookings=10.0, complaints=0))

    await service.publish(card(2, 4))
    await service.publish(card(1, 3))  # an older one, late: ignored
    await service.publish(card(9, 99, tenant="tenant-b"))  # another agency's supplier of the same name
    shown = (await service.client.get(f"/v1/suppliers/{made['id']}", headers=auth())).json()
    assert shown["scorecard"] == {"ratings": 4, "average_rating": 4.5, "bookings": 10, "incidents": 1,
                                  "incidents_per_100_bookings": 10.0, "complaints": 0}
    listed = (await service.client.get("/v1/suppliers", headers=auth())).json()["items"]
    assert next(s for s in listed if s["id"] == made["id"])["scorecard"]["ratings"] == 4
