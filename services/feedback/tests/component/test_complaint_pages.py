"""The client's complaint pages: telling the agency from the trip page's link, answering its offer from theirs."""
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from trip_shared.client_links import complaint_token, trip_token
from trip_shared.contracts.feedback import ComplaintRecorded, ComplaintUpdated
from trip_shared.contracts.itinerary import (
    ItemSnapshot,
    ItinerarySummary,
    TravellerSnapshot,
)
from trip_shared.testing.service import auth

TRIP = ItinerarySummary(
    itinerary_id="it-1", title="Kyoto in autumn", stage="in_progress",
    items=[ItemSnapshot(item_id="class", kind="activity", title="Cooking class", timezone="Asia/Tokyo",
                        start="2026-10-03T10:00")],
    travellers=[TravellerSnapshot(customer_id="c1", name="Mei Lin", is_poc=True),
                TravellerSnapshot(customer_id="c2", name="Tom Lin")])
FORM = "application/x-www-form-urlencoded"


def trip_link(service, tenant="tenant-a") -> str:
    token, _ = trip_token(service.app.state.link_signer, tenant, "it-1", timedelta(days=30))
    return f"/trips/{token}/complaints"


def form_id(page: str) -> str:
    return re.search(r'name="form_id" value="([^"]+)"', page).group(1)


async def send(service, path, lang="en", **fields):
    return await service.client.post(f"{path}?lang={lang}", data=fields, headers={"content-type": FORM})


async def test_a_traveller_tells_the_agency_on_the_trip_page_once_and_what_they_wrote_survives_a_mistake(service):
    await service.publish_trip(TRIP, ["c1", "c2"])
    path = trip_link(service)
    page = await service.client.get(path, params={"lang": "zh-Hans"})
    assert page.status_code == 200 and 'lang="zh-Hans"' in page.text
    assert "告诉我们哪里出了问题" in page.text and "Mei Lin" in page.text and "Tom Lin" in page.text
    assert "Cooking class" in page.text and "(Asia/Tokyo)" in page.text
    written = "课程晚了一个小时，没有人通知我们。<script>alert(1)</script>"
    nobody = await send(service, path, "zh-Hans", form_id=form_id(page.text), complainant="", account=written)
    assert nobody.status_code == 422 and "请选择您是哪位出行人" in nobody.text
    assert "课程晚了一个小时" in nobody.text and "<script>alert" not in nobody.text, "kept, and escaped"
    assert await service.runtime.store.db["complaints"].count_documents({}) == 0
    fields = {"form_id": form_id(nobody.text), "complainant": "c2", "item_id": "class", "account": written}
    sent = await send(service, path, "zh-Hans", **fields)
    assert sent.status_code == 201 and "谢谢，我们已收到" in sent.text and "(Asia/Tokyo)" in sent.text
    again = await send(service, path, "zh-Hans", **fields)
    assert again.status_code == 201, "the same form sent twice (a double tap, a reload)"
    [complaint] = await service.runtime.store.db["complaints"].find({}).to_list(None)
    assert (complaint["source"], complaint["complainant"], complaint["item_id"], complaint["language"]) == \
        ("client", "c2", "class", "zh-Hans")
    assert complaint["account"] == written and complaint["timeline"][0]["actor"] == "client:c2"
    [recorded] = await service.emitted(ComplaintRecorded)
    assert recorded.data.source == "client"
    follow = re.search(r'href="(http://[^"]+/complaints/[^"?]+)\?lang=zh-Hans"', sent.text).group(1)
    mine = await service.client.get(urlsplit(follow).path)
    assert mine.status_code == 200 and "课程晚了一个小时" in mine.text and "我们正在调查" in mine.text


async def test_an_offer_is_accepted_or_escalated_on_the_clients_page_and_a_stale_page_changes_nothing(service):
    await service.publish_trip(TRIP, ["c1", "c2"])
    made = (await service.client.post("/v1/complaints", json={
        "itinerary_id": "it-1", "complainant": "c1", "account": "The class started an hour late.",
        "item_id": "class"}, headers=auth())).json()
    path = f"/v1/complaints/{made['id']}"
    await service.client.post(f"{path}/analysis", json={"cause": "supplier", "supplier": "Kyoto Cooking School",
                                                         "finding": "Teacher double-booked."}, headers=auth())
    await service.client.post(f"{path}/offer", json={"remedy": "apology", "message": "We are truly sorry."},
                              headers=auth())
    page_path = f"/complaints/{complaint_token(service.app.state.link_signer, 'tenant-a', made['id'])}"
    page = await service.client.get(page_path)
    assert page.status_code == 200 and 'lang="en"' in page.text
    assert "We are truly sorry." in page.text and "Our apology" in page.text and "(Asia/Tokyo)" in page.text
    assert "double-booked" not in page.text, "the agency's finding is internal"
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    empty = await send(service, page_path, answer="escalate", reason="  ", version=version)
    assert empty.status_code == 422 and "Please tell us why" in empty.text
    escalated = await send(service, page_path, answer="escalate", reason="We lost the whole morning.",
                           version=version)
    assert escalated.status_code == 200 and "we will come back to you by" in escalated.text
    shown = (await service.client.get(path, headers=auth())).json()
    assert (shown["status"], shown["escalation_reason"]) == ("escalated", "We lost the whole morning.")
    assert shown["timeline"][-1]["actor"] == "client:c1"
    await service.client.post(f"{path}/offer", json={"remedy": "refund", "amount": "90", "currency": "JPY",
                                                      "message": "We refund the class."}, headers=auth())
    stale = await send(service, page_path, answer="accept", version=version)
    assert "Our offer changed since you opened this page" in stale.text and "A refund of 90.00 JPY" in stale.text
    assert (await service.client.get(path, headers=auth())).json()["status"] == "proposed", "nothing accepted"
    current = re.search(r'name="version" value="(\d+)"', stale.text).group(1)
    accepted = await send(service, page_path, answer="accept", version=current)
    assert "Thank you: you accepted our offer." in accepted.text and "carrying it out" in accepted.text
    assert (await service.client.get(path, headers=auth())).json()["status"] == "accepted"
    changes = [u.change for u in await service.emitted(ComplaintUpdated)]
    assert changes == ["analysed", "proposed", "escalated", "proposed", "accepted"]


async def test_a_lapsed_offer_cannot_be_accepted_on_the_page(service):
    await service.publish_trip(TRIP, ["c1", "c2"])
    made = (await service.client.post("/v1/complaints", json={
        "itinerary_id": "it-1", "complainant": "c1", "account": "Cold room."}, headers=auth())).json()
    path = f"/v1/complaints/{made['id']}"
    await service.client.post(f"{path}/analysis", json={"cause": "external", "finding": "Power cut."},
                              headers=auth())
    await service.client.post(f"{path}/offer", json={"remedy": "apology", "message": "Sorry."}, headers=auth())
    await service.runtime.store.db["complaints"].update_one(
        {"_id": made["id"]}, {"$set": {"answer_by": datetime.now(UTC) - timedelta(minutes=1)}})
    page_path = f"/complaints/{complaint_token(service.app.state.link_signer, 'tenant-a', made['id'])}"
    page = await service.client.get(page_path, params={"lang": "zh-Hans"})
    assert "此方案的答复期限已过" in page.text and 'name="answer"' not in page.text
    refused = await send(service, page_path, "zh-Hans", answer="accept", version="3")
    assert "此方案的答复期限已过" in refused.text
    assert (await service.client.get(path, headers=auth())).json()["status"] == "proposed"


async def test_links_that_are_forged_or_for_something_else_open_nothing(service):
    await service.publish_trip(TRIP, ["c1", "c2"])
    trip_path = trip_link(service)
    token = trip_path.split("/")[2]
    forged = await service.client.get(f"/trips/{token[:-2]}xx/complaints")
    assert forged.status_code == 403 and "此链接无法使用" in forged.text
    wrong_purpose = await service.client.get(f"/complaints/{token}")
    assert wrong_purpose.status_code == 403
    other_agency = await service.client.get(trip_link(service, "tenant-b"))
    assert other_agency.status_code == 404, "another agency's token names no trip of theirs"
    posted = await send(service, f"/trips/{token[:-2]}xx/complaints", complainant="c1", account="x")
    assert posted.status_code == 403
    assert await service.runtime.store.db["complaints"].count_documents({}) == 0
