"""The final itinerary reaches each point of contact with its PDF and calendar attached, in their language, once."""
import asyncio
from email import message_from_bytes, policy

import icalendar
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph

from trip_shared.contracts.customers import CustomerCreated, CustomerErased, CustomerSnapshot, ErasedCustomer
from trip_shared.contracts.itinerary import (
    FinalDocumentsData,
    FinalDocumentsIssued,
    IssuedDocument,
    ItemSnapshot,
    ItinerarySummary,
    TravellerSnapshot,
)
from trip_shared.pdf import LATIN, a4_document, register_fonts, rich
from trip_shared.testing.documents import pdf_text
from trip_shared.testing.service import auth

SUMMARY = ItinerarySummary(
    itinerary_id="it-1", title="Kyoto in autumn", stage="booked",
    items=[ItemSnapshot(item_id="i1", kind="flight", title="BA5", timezone="Europe/London", start="2027-10-01T19:50",
                        end_timezone="Asia/Tokyo")],
    travellers=[TravellerSnapshot(customer_id="c1", is_poc=True), TravellerSnapshot(customer_id="c2", is_poc=True),
                TravellerSnapshot(customer_id="c3")])


def pdf(line: str) -> bytes:
    register_fonts()
    return a4_document([Paragraph(rich(line), ParagraphStyle("body", fontName=LATIN, fontSize=10))], "Kyoto")


def calendar(summary: str) -> bytes:
    feed = icalendar.Calendar()
    feed.add("prodid", "-//test//EN")
    feed.add("version", "2.0")
    event = icalendar.Event()
    event.add("uid", "i1@it-1")
    event.add("summary", summary)
    event.add("dtstamp", icalendar.vDatetime.from_ical("20270901T000000Z"))
    feed.add_component(event)
    return feed.to_ical()


DOCUMENTS = [
    IssuedDocument(language="en", kind="pdf", filename="Kyoto in autumn.pdf", media_type="application/pdf",
                   content=pdf("BA5 departs 19:50 (Europe/London)")),
    IssuedDocument(language="en", kind="calendar", filename="Kyoto in autumn.ics", media_type="text/calendar",
                   content=calendar("BA5")),
    IssuedDocument(language="zh-Hans", kind="pdf", filename="Kyoto in autumn (中文).pdf",
                   media_type="application/pdf", content=pdf("BA5 出发 19:50 (Europe/London)")),
    IssuedDocument(language="zh-Hans", kind="calendar", filename="Kyoto in autumn (中文).ics",
                   media_type="text/calendar", content=calendar("BA5 航班")),
]


def issued(reason="booked", note=None) -> FinalDocumentsIssued:
    return FinalDocumentsIssued(tenant_id="tenant-a", aggregate_id="it-1", aggregate_version=7, trip_id="it-1",
                                producer="itinerary",
                                data=FinalDocumentsData(itinerary=SUMMARY, reason=reason, note=note,
                                                        documents=DOCUMENTS, issued_by="system"))


async def people(service):
    for customer_id, name, email, language in (("c1", "Mei", "mei@example.com", "zh-Hans"),
                                               ("c2", "Ann", "ann@example.com", "en"),
                                               ("c3", "Bo", "bo@example.com", "en")):
        await service.publish(CustomerCreated(
            tenant_id="tenant-a", aggregate_id=customer_id, aggregate_version=1, producer="customers",
            data=CustomerSnapshot(customer_id=customer_id, first_name=name, emails=[email],
                                  preferred_language=language)))


async def mails(smtp, address: str, count: int):
    for _ in range(100):
        if len(found := smtp.to(address)) >= count:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} e-mail(s) to {address} expected, {len(smtp.to(address))} came")


def parsed(message):
    return message_from_bytes(message.as_bytes(), policy=policy.default)


def attachments_of(message) -> dict[str, tuple[str, bytes, dict]]:
    return {part.get_filename(): (part.get_content_type(), part.get_content(), dict(part.get_params() or []))
            for part in parsed(message).iter_attachments()}


async def test_each_point_of_contact_gets_the_final_itinerary_in_their_language_with_both_files_once(service, smtp):
    await people(service)
    event = issued()
    await service.publish(event)
    await service.publish(event)  # redelivered: nothing twice
    [english] = await mails(smtp, "ann@example.com", 1)
    [chinese] = await mails(smtp, "mei@example.com", 1)

    assert smtp.subject(english) == "Your final itinerary: Kyoto in autumn"
    assert english.get_content_type() == "multipart/mixed"
    body = parsed(english).get_body(("plain",)).get_content()
    assert "Everything for your trip \"Kyoto in autumn\" is confirmed" in body
    assert "Kyoto in autumn.pdf: your day-by-day itinerary" in body and "Kyoto in autumn.ics: a calendar file" in body
    assert parsed(english).get_body(("html",)) is not None
    files = attachments_of(english)
    assert set(files) == {"Kyoto in autumn.pdf", "Kyoto in autumn.ics"}
    kind, content, _ = files["Kyoto in autumn.pdf"]
    assert kind == "application/pdf" and content == DOCUMENTS[0].content
    assert "departs 19:50 (Europe/London)" in pdf_text(content)
    kind, content, params = files["Kyoto in autumn.ics"]
    assert kind == "text/calendar" and params.get("method") == "PUBLISH"
    content = content.encode() if isinstance(content, str) else content
    assert [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(content).walk("VEVENT")] == ["BA5"]

    assert smtp.subject(chinese) == "最终行程：Kyoto in autumn"
    assert "所有服务均已确认" in parsed(chinese).get_body(("plain",)).get_content()
    chinese_files = attachments_of(chinese)
    assert set(chinese_files) == {"Kyoto in autumn (中文).pdf", "Kyoto in autumn (中文).ics"}
    assert "出发 19:50" in pdf_text(chinese_files["Kyoto in autumn (中文).pdf"][1])

    await asyncio.sleep(0.3)
    assert smtp.to("bo@example.com") == []  # a traveller who is not a point of contact: the POCs by default
    assert len(smtp.to("ann@example.com")) == 1 and len(smtp.to("mei@example.com")) == 1
    logged = (await service.client.get("/v1/notifications", params={"kind": "final_itinerary"},
                                       headers=auth())).json()["items"]
    assert sorted(n["customer_id"] for n in logged if n["audience"] == "client") == ["c1", "c2"]


async def test_a_resend_carries_the_files_again_and_an_erased_traveller_takes_them_with_them(service, smtp):
    await people(service)
    await service.publish(issued(reason="reissued", note="Dinner on day 2 is now at 19:30."))
    [first] = await mails(smtp, "ann@example.com", 1)
    assert smtp.subject(first) == "Your updated itinerary: Kyoto in autumn"
    assert "Dinner on day 2 is now at 19:30." in parsed(first).get_body(("plain",)).get_content()
    resent = await service.client.post(f"/v1/notifications/{first['X-Notification-Id']}/resend", headers=auth())
    assert resent.status_code in (200, 201, 202), resent.text
    _, again = await mails(smtp, "ann@example.com", 2)
    assert set(attachments_of(again)) == {"Kyoto in autumn.pdf", "Kyoto in autumn.ics"}

    await service.publish(CustomerErased(tenant_id="tenant-a", aggregate_id="c3", aggregate_version=2,
                                         producer="customers", data=ErasedCustomer(customer_id="c3")))
    resent = await service.client.post(f"/v1/notifications/{first['X-Notification-Id']}/resend", headers=auth())
    assert resent.status_code in (200, 201, 202), resent.text
    *_, after_erasure = await mails(smtp, "ann@example.com", 3)
    # The files named an erased traveller: they are gone, and the message goes without them.
    assert attachments_of(after_erasure) == {}


async def test_the_preview_shows_the_latest_final_itinerary_email_as_each_poc_would_get_it(service, smtp):
    await people(service)
    preview = "/v1/itineraries/it-1/message-preview"
    await service.publish(issued())
    await mails(smtp, "ann@example.com", 1)
    later = issued(reason="reissued", note="Dinner on day 2 is now at 19:30.")
    await service.publish(later.model_copy(update={"aggregate_version": 8}))
    await mails(smtp, "ann@example.com", 2)

    english = await service.client.get(preview, params={"kind": "final_itinerary", "customer_id": "c2"},
                                       headers=auth())
    assert english.status_code == 200, english.text
    shown = english.json()
    assert shown["subject"] == "Your updated itinerary: Kyoto in autumn", "the latest issue, not the first"
    assert "Dinner on day 2 is now at 19:30." in shown["text"] and "Dinner on day 2" in shown["html"]
    assert shown["attachments"] == ["Kyoto in autumn.pdf", "Kyoto in autumn.ics"]
    chinese = (await service.client.get(preview, params={"kind": "final_itinerary", "customer_id": "c1"},
                                        headers=auth())).json()
    assert chinese["language"] == "zh-Hans" and chinese["attachments"] == ["Kyoto in autumn (中文).pdf",
                                                                           "Kyoto in autumn (中文).ics"]
    assert len(smtp.to("ann@example.com")) == 2, "a preview sends nothing"

    await service.publish(CustomerErased(tenant_id="tenant-a", aggregate_id="c3", aggregate_version=2,
                                         producer="customers", data=ErasedCustomer(customer_id="c3")))
    gone = await service.client.get(preview, params={"kind": "final_itinerary", "customer_id": "c2"},
                                    headers=auth())
    assert gone.status_code == 404 and gone.json()["code"] == "nothing-to-tell"
