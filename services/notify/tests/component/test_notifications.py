import asyncio
from datetime import UTC, datetime, timedelta

from trip_shared.contracts.customers import CustomerCreated, CustomerSnapshot, CustomerUpdated
from trip_shared.contracts.itinerary import (
    CustomerLinked,
    CustomerUnlinked,
    ItineraryMember,
    ItinerarySummary,
    MembershipChange,
    PocChanged,
)
from trip_shared.testing.maildir import text_of
from trip_shared.testing.polling import arrives
from trip_shared.testing.service import assert_every_v1_route_requires_auth, auth, unbounded_inputs
from trip_shared.web import ops

TRIP = ItinerarySummary(itinerary_id="it-1", title="Kyoto in autumn")


def contact(customer_id="c1", version=1, emails=("mei@example.com",), tenant="tenant-a", language="en"):
    contract = CustomerCreated if version == 1 else CustomerUpdated
    return contract(tenant_id=tenant, aggregate_id=customer_id, aggregate_version=version, producer="customers",
                    data=CustomerSnapshot(customer_id=customer_id, first_name="Mei", emails=list(emails),
                                          preferred_language=language))


def membership(contract, customer_id, is_poc, members, version, tenant="tenant-a"):
    return contract(tenant_id=tenant, aggregate_id="it-1", aggregate_version=version, trip_id="it-1",
                    producer="itinerary",
                    data=MembershipChange(itinerary=TRIP, customer_id=customer_id, is_poc=is_poc,
                                          customers=[ItineraryMember(customer_id=c, is_poc=p) for c, p in members]))


async def listed(service, tenant="tenant-a", **params):
    response = await service.client.get("/v1/notifications", params=params, headers=auth(tenant))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_customer_linked_as_poc_gets_one_email_and_a_visible_record(service, smtp, spans):
    await service.publish(contact())
    linked = membership(CustomerLinked, "c1", True, [("c1", True)], 2)
    await service.publish(linked)
    await arrives(lambda: asyncio.sleep(0, smtp.to("mei@example.com")))
    [message] = smtp.to("mei@example.com")
    assert smtp.subject(message) == "You are the point of contact for Kyoto in autumn"
    assert message["X-Trip-Id"] == "it-1"
    [record] = await listed(service, itinerary_id="it-1")
    assert record["status"] == "sent" and record["customer_id"] == "c1" and record["recipient"] == "mei@example.com"
    assert record["kind"] == "poc_assigned" and record["attempts"] == 0 and record["sent_at"]
    await service.publish(linked)  # redelivered
    await asyncio.sleep(0.3)
    assert len(smtp.to("mei@example.com")) == 1 and len(await listed(service)) == 1
    smtp_spans = [s for s in spans.get_finished_spans() if s.name == "smtp send"]
    assert len(smtp_spans) == 1
    consume_span = next(s for s in spans.get_finished_spans() if s.name.startswith("customer.linked") and "process" in s.name)
    assert smtp_spans[0].context.trace_id == consume_span.context.trace_id, "the send is part of the consumer's trace"
    assert record["trace_id"] == format(consume_span.context.trace_id, "032x"), "the log names the trace"
    assert record["source_event_id"] == str(linked.event_id)
    assert "mei@example.com" not in str(dict(smtp_spans[0].attributes)), "no personal data in spans"


async def test_the_time_to_send_is_counted_from_the_event_not_from_when_notify_took_it(service, smtp):
    from prometheus_client.parser import text_string_to_metric_families

    await service.publish(contact())
    five_minutes_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    linked = membership(CustomerLinked, "c1", True, [("c1", True)], 2).model_copy(
        update={"occurred_at": five_minutes_ago})
    await service.publish(linked)
    await arrives(lambda: asyncio.sleep(0, smtp.to("mei@example.com")))
    stored = await service.runtime.store.db["notifications"].find_one({"kind": "poc_assigned"})
    assert stored["requested_at"] == five_minutes_ago
    samples = {(sample.name, sample.labels.get("channel")): sample.value for family in
               text_string_to_metric_families((await service.client.get("/metrics")).text)
               for sample in family.samples if sample.name.startswith("notification_time_to_send_seconds")}
    assert samples[("notification_time_to_send_seconds_count", "email")] == 1
    assert 300 <= samples[("notification_time_to_send_seconds_sum", "email")] < 330
    assert samples[("notification_time_to_send_seconds_bucket", "email")] is not None


async def test_non_poc_links_and_unlinks_send_nothing_but_a_new_poc_flag_does(service, smtp):
    await service.publish(contact("c1"))
    await service.publish(contact("c2", emails=("bo@example.com",)))
    await service.publish(membership(CustomerLinked, "c1", True, [("c1", True)], 2))
    await service.publish(membership(CustomerLinked, "c2", False, [("c1", True), ("c2", False)], 3))
    await service.publish(membership(PocChanged, "c2", True, [("c1", True), ("c2", True)], 4))
    await service.publish(membership(CustomerUnlinked, "c1", False, [("c2", True)], 5))
    await arrives(lambda: asyncio.sleep(0, smtp.to("bo@example.com")))
    await asyncio.sleep(0.2)
    assert len(smtp.to("mei@example.com")) == 1 and len(smtp.to("bo@example.com")) == 1
    trip = await service.runtime.store.db["trips"].find_one({"_id": "it-1"})
    assert trip["members"] == [{"customer_id": "c2", "is_poc": True}] and trip["version"] == 5


async def test_a_poc_link_that_arrives_before_the_contact_waits_then_is_sent(service, smtp):
    await service.publish(membership(CustomerLinked, "c1", True, [("c1", True)], 2))
    [record] = await listed(service)
    assert record["status"] == "waiting_for_contact" and smtp.messages == []
    await service.publish(contact("c1", language="zh-Hans"))
    await arrives(lambda: asyncio.sleep(0, smtp.to("mei@example.com")))
    assert smtp.subject(smtp.to("mei@example.com")[0]) == "您是行程「Kyoto in autumn」的联系人"
    assert (await listed(service))[0]["status"] == "sent"


async def test_a_customer_without_email_is_kept_as_no_address_until_one_is_added(service, smtp):
    await service.publish(contact("c1", emails=()))
    await service.publish(membership(CustomerLinked, "c1", True, [("c1", True)], 2))
    assert (await listed(service))[0]["status"] == "no_address"
    await service.publish(contact("c1", version=2, emails=("new@example.com",)))
    await arrives(lambda: asyncio.sleep(0, smtp.to("new@example.com")))
    assert (await listed(service))[0]["status"] == "sent"


async def test_a_stale_poc_link_is_not_announced_once_the_customer_was_removed(service, smtp):
    await service.publish(contact("c1"))
    await service.publish(membership(CustomerUnlinked, "c1", False, [], 3))
    await service.publish(membership(CustomerLinked, "c1", True, [("c1", True)], 2))
    await asyncio.sleep(0.2)
    assert smtp.messages == [] and await listed(service) == []


async def test_a_long_smtp_outage_uses_up_no_attempts_and_what_waited_goes_out_by_itself(service, smtp_port):
    # No SMTP server listens yet on smtp_port: the channel is down, and the record and /readyz say so.
    await service.publish(contact("c1"))
    await service.publish(membership(CustomerLinked, "c1", True, [("c1", True)], 2))
    [record] = await listed(service)
    assert record["status"] == "pending" and record["attempts"] == 0
    assert "waiting for the mail server" in record["last_error"] and "Connection" in record["last_error"]
    dispatcher = service.app.state.dispatcher
    for _ in range(20):  # far more probes than the 8 attempts a message gets
        dispatcher.channel.next_probe_at = 0
        await dispatcher.sweep()
    [record] = await listed(service)
    assert record["status"] == "pending" and record["attempts"] == 0, "an outage is not the message's fault"
    ready = (await service.client.get("/readyz")).json()
    assert ready["status"] == "ready" and ready["deliveries"]["smtp"]["status"] == "unreachable"
    assert ready["deliveries"]["pending"] == 1
    metrics = (await service.client.get("/metrics")).text
    assert "smtp_up 0.0" in metrics and 'notifications{channel="email",status="pending"} 1.0' in metrics
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            received.append(envelope)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        dispatcher.channel.next_probe_at = 0  # the next probe is due now rather than in up to 30 s
        [sent] = await arrives(lambda: listed(service, status="sent"))
        assert len(received) == 1 and sent["attempts"] == 0
        assert (await service.client.get("/readyz")).json()["deliveries"]["smtp"]["status"] == "ok"
        assert "smtp_up 1.0" in (await service.client.get("/metrics")).text
    finally:
        controller.stop()


async def test_a_message_the_server_refuses_counts_and_a_permanent_refusal_fails_it_at_once(service, smtp_port):
    from aiosmtpd.controller import Controller

    replies = {"mei@example.com": "451 4.3.0 try again later", "bo@example.com": "550 5.1.1 no such mailbox"}

    class Refusing:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
            return replies[address]

    controller = Controller(Refusing(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        await service.publish(contact("c1"))
        await service.publish(contact("c2", emails=("bo@example.com",)))
        await service.publish(membership(CustomerLinked, "c1", True, [("c1", True)], 2))
        await service.publish(membership(CustomerLinked, "c2", True, [("c1", True), ("c2", True)], 3))
        records = {r["customer_id"]: r for r in await arrives(
            lambda: _when(listed(service), lambda items: len(items) == 2 and all(i["attempts"] for i in items)))}
        assert records["c1"]["status"] == "pending" and records["c1"]["attempts"] == 1
        assert "451" in records["c1"]["last_error"]
        assert records["c2"]["status"] == "failed" and "550" in records["c2"]["last_error"]
        assert service.app.state.dispatcher.channel.up, "the server answered: the channel is fine"
    finally:
        controller.stop()


async def _when(listing, condition):
    items = await listing
    return items if condition(items) else None


async def test_a_send_interrupted_by_a_crash_is_sent_once_when_its_lease_expires(service, smtp):
    from notify.adapters.repository import NOTIFICATIONS

    await service.publish(contact("c1"))
    await service.publish(membership(CustomerLinked, "c1", True, [("c1", True)], 2))
    [record] = await arrives(lambda: listed(service, status="sent"))
    # Simulate a process that claimed a notification and died before sending: status sending, lease running.
    collection = service.runtime.store.db[NOTIFICATIONS]
    await collection.update_one({"_id": record["id"]}, {"$set": {"status": "sending", "sent_at": None,
                                "lease_until": datetime.now(UTC) + timedelta(seconds=0.5)}})
    await asyncio.sleep(0.3)
    assert len(smtp.messages) == 1, "a live lease is respected"
    await arrives(lambda: listed(service, status="sent"))
    await asyncio.sleep(0.3)
    assert len(smtp.messages) == 2, "re-sent exactly once after the lease expired"


async def test_bad_input_tenant_isolation_and_auth(service, smtp):
    await service.publish(contact("c1"))
    await service.publish(membership(CustomerLinked, "c1", True, [("c1", True)], 2))
    [record] = await arrives(lambda: listed(service, status="sent"))
    client = service.client
    assert (await client.get(f"/v1/notifications/{record['id']}", headers=auth())).json()["status"] == "sent"
    assert (await client.get(f"/v1/notifications/{record['id']}", headers=auth("tenant-b"))).status_code == 404
    assert await listed(service, tenant="tenant-b") == []
    now = datetime.now(UTC)
    assert [r["id"] for r in await listed(service, kind="poc_assigned", channel="email",
                                          created_from=(now - timedelta(minutes=5)).isoformat())] == [record["id"]]
    assert await listed(service, kind="trip_changes") == [] and await listed(service, channel="webhook") == []
    assert await listed(service, created_to=(now - timedelta(minutes=5)).isoformat()) == []
    cases = [
        (await client.get("/v1/notifications", params={"created_from": now.isoformat(),
                                                         "created_to": now.isoformat()}, headers=auth()), 422,
         "invalid-period"),
        (await client.get("/v1/notifications?kind=DROP%20TABLE", headers=auth()), 422, "invalid-request"),
        (await client.get("/v1/notifications/nope", headers=auth()), 404, "notification-not-found"),
        (await client.get("/v1/notifications?status=lost", headers=auth()), 422, "invalid-request"),
        (await client.get("/v1/notifications?limit=0", headers=auth()), 422, "invalid-request"),
        (await client.post(f"/v1/notifications/{record['id']}/retry", headers=auth()), 409, "not-failed"),
        (await client.post(f"/v1/notifications/{record['id']}/retry", headers=auth("read-only")), 403, "forbidden"),
    ]
    for response, status, code in cases:
        assert response.status_code == status and response.json()["code"] == code, response.text
    assert await assert_every_v1_route_requires_auth(service) == 17 + len(ops.router.routes)
    assert unbounded_inputs(service.app) == [], "every field a client sends has a size limit"


async def test_a_deleted_customer_is_forgotten_and_nothing_more_is_sent_to_them(service, smtp):
    from trip_shared.contracts.customers import CustomerDeleted, DeletedCustomer

    await service.publish(membership(CustomerLinked, "c1", True, [("c1", True)], 2))
    assert (await listed(service))[0]["status"] == "waiting_for_contact"
    await service.publish(CustomerDeleted(tenant_id="tenant-a", aggregate_id="c1", aggregate_version=5,
                                          producer="customers", data=DeletedCustomer(customer_id="c1")))
    [record] = await listed(service)
    assert record["status"] == "cancelled" and record["last_error"] == "customer deleted"
    assert await service.runtime.store.db["contacts"].count_documents({}) == 0
    assert smtp.messages == []


async def test_a_merge_moves_the_poc_without_telling_them_again(service, smtp):
    from trip_shared.contracts.customers import CustomersMerged, MergedCustomers

    await service.publish(contact("dup"))
    await service.publish(membership(CustomerLinked, "dup", True, [("dup", True)], 2))
    await arrives(lambda: asyncio.sleep(0, smtp.to("mei@example.com")))
    await service.publish(CustomersMerged(
        tenant_id="tenant-a", aggregate_id="c1", aggregate_version=3, producer="customers",
        data=MergedCustomers(survivor=CustomerSnapshot(customer_id="c1", first_name="Mei", emails=["mei@example.com"]),
                             merged_customer_id="dup")))
    relinked = membership(CustomerUnlinked, "dup", False, [], 3)
    await service.publish(relinked)
    moved = membership(CustomerLinked, "c1", True, [("c1", True)], 4)
    await service.publish(moved.model_copy(update={"data": moved.data.model_copy(update={"reason": "customers_merged"})}))
    await asyncio.sleep(0.3)
    assert len(smtp.to("mei@example.com")) == 1
    assert await service.runtime.store.db["contacts"].find_one({"_id": "dup"}) is None


async def test_an_erased_customer_leaves_only_the_fact_that_a_message_was_sent(service, smtp):
    from trip_shared.contracts.customers import CustomerErased, ErasedCustomer
    from trip_shared.contracts.privacy import ErasureConfirmed

    await service.publish(contact("c1"))
    await service.publish(membership(CustomerLinked, "c1", True, [("c1", True)], 2))
    await arrives(lambda: listed(service, status="sent"))
    await service.publish(CustomerErased(tenant_id="tenant-a", aggregate_id="c1", aggregate_version=7,
                                         producer="customers", data=ErasedCustomer(customer_id="c1")))
    [record] = await listed(service)
    assert record["status"] == "sent" and record["recipient"] is None and record["subject"] == "[erased]"
    stored = await service.runtime.store.db["notifications"].find_one({})
    assert "mei" not in str(stored).lower() and "Kyoto" not in stored["body"]
    assert await service.runtime.store.db["contacts"].count_documents({}) == 0
    row = await service.runtime.outbox.rows.find_one({"event_type": "customer.erasure_confirmed"})
    confirmation = ErasureConfirmed.model_validate_json(row["payload"])
    assert confirmation.data.service == "notify" and confirmation.data.customer_id == "c1"


async def test_a_profile_link_is_emailed_to_the_customer_once(service, smtp):
    from trip_shared.contracts.customers import ProfileLink, ProfileLinkIssued

    await service.publish(contact("c1"))
    issued = ProfileLinkIssued(tenant_id="tenant-a", aggregate_id="c1", aggregate_version=1, producer="customers",
                               data=ProfileLink(customer_id="c1", url="http://desk/forms/profile/tok",
                                                expires_at=datetime(2027, 1, 8, tzinfo=UTC)))
    await service.publish(issued)
    await service.publish(issued)
    [mail] = await arrives(lambda: asyncio.sleep(0, smtp.to("mei@example.com")))
    assert smtp.subject(mail) == "Please complete your travel profile"
    assert "http://desk/forms/profile/tok" in text_of(mail) and mail["X-Trip-Id"] is None
    [record] = await listed(service, customer_id="c1")
    assert record["kind"] == "profile_form" and record["itinerary_id"] is None and record["status"] == "sent"


async def test_each_poc_gets_their_own_proposal_link_and_everyone_hears_the_answer(service, smtp):
    from trip_shared.contracts.itinerary import (
        CustomerLinked,
        ProposalAnswered,
        ProposalAnsweredData,
        ProposalOptionSummary,
        ProposalRecipient,
        ProposalSent,
        ProposalSentData,
    )

    await service.publish(contact("c1", emails=("mei@example.com",), language="zh-Hans"))
    await service.publish(contact("c2", emails=("tom@example.com",)))
    members = [("c1", True), ("c2", True)]
    await service.publish(membership(CustomerLinked, "c1", True, members[:1], 2))
    await service.publish(membership(CustomerLinked, "c2", True, members, 3))
    await arrives(lambda: asyncio.sleep(0, len(smtp.to("tom@example.com")) == 1 or None))
    trip = TRIP
    sent = ProposalSent(tenant_id="tenant-a", aggregate_id="it-1", aggregate_version=4, producer="itinerary",
                        trip_id="it-1", data=ProposalSentData(
                            itinerary=trip, proposal_id="p1", message="Two ways to stay",
                            options=[ProposalOptionSummary(option_id="a", title="Ryokan", prices={"EUR": "900.00"})],
                            recipients=[ProposalRecipient(customer_id=c, url=f"http://desk/proposals/{c}-token",
                                                          expires_at=datetime(2027, 1, 8, tzinfo=UTC))
                                        for c in ("c1", "c2")]))
    await service.publish(sent)
    await service.publish(sent)
    mails = await arrives(lambda: asyncio.sleep(0, len(smtp.to("tom@example.com")) == 2 or None))
    assert mails
    [tom] = [m for m in smtp.to("tom@example.com") if "proposal" in smtp.subject(m)]
    tom_body = text_of(tom)
    assert "http://desk/proposals/c2-token" in tom_body and "c1-token" not in tom_body
    assert "Ryokan: 900.00 EUR" in tom_body and "Two ways to stay" in tom_body
    [mei] = [m for m in smtp.to("mei@example.com") if "方案" in smtp.subject(m)]
    mei_body = text_of(mei)
    assert "http://desk/proposals/c1-token" in mei_body
    # Each message is signed by the agency, with its on-trip contacts, in the client's language.
    assert "Your trip is arranged by Lotus & Maple Travel." in tom_body
    assert "24/7 emergency line: +86 21 5555 0199" in tom_body
    assert "本行程由Lotus & Maple Travel为您安排。" in mei_body and "24小时紧急电话：+86 21 5555 0199" in mei_body
    answered = ProposalAnswered(tenant_id="tenant-a", aggregate_id="it-1", aggregate_version=5,
                                producer="itinerary", trip_id="it-1", data=ProposalAnsweredData(
                                    itinerary=trip, proposal_id="p1", customer_id="c1", outcome="approved",
                                    option_id="a", option_title="Ryokan"))
    await service.publish(answered)
    await arrives(lambda: asyncio.sleep(0, len(smtp.to("tom@example.com")) == 3 or None))
    assert smtp.subject(smtp.to("tom@example.com")[-1]) == "Kyoto in autumn: approved"



async def test_a_poc_linked_before_a_newer_item_change_arrives_is_still_told(service, smtp):
    from trip_shared.contracts.itinerary import CustomerLinked, ItineraryChanged

    await service.publish(contact("c1"))
    await service.publish(ItineraryChanged(tenant_id="tenant-a", aggregate_id="it-1", aggregate_version=3,
                                           trip_id="it-1", producer="itinerary", data=TRIP, action="item_added"))
    await service.publish(membership(CustomerLinked, "c1", True, [("c1", True)], 2))
    [mail] = await arrives(lambda: asyncio.sleep(0, smtp.to("mei@example.com")))
    assert smtp.subject(mail).startswith("You are the point of contact")


async def test_a_new_address_is_confirmed_by_a_message_to_that_address_not_to_the_current_one(service, smtp):
    from trip_shared.contracts.customers import EmailConfirmation, EmailConfirmationRequested

    await service.publish(contact("c1", language="zh-Hans"))
    await service.publish(EmailConfirmationRequested(
        tenant_id="tenant-a", aggregate_id="c1", aggregate_version=2, producer="customers",
        data=EmailConfirmation(customer_id="c1", email="mei.new@example.com",
                               url="https://customers.example/forms/email/tok", expires_at=datetime.now(UTC))))
    await arrives(lambda: asyncio.sleep(0, smtp.to("mei.new@example.com")))
    [message] = smtp.to("mei.new@example.com")
    assert smtp.subject(message) == "请确认您的电子邮箱" and smtp.to("mei@example.com") == []
    assert "https://customers.example/forms/email/tok" in text_of(message)


async def test_a_supplier_gets_the_request_in_its_language_with_its_answer_link(service, smtp):
    from trip_shared.contracts.booking import (
        BookingDetails,
        BookingRequested,
        RequestedService,
        RequirementLine,
        SupplierMessage,
    )
    from trip_shared.contracts.itinerary import Place

    def requested(language, supplier_id, email="reserve@karyo.example"):
        return BookingRequested(
            tenant_id="tenant-a", aggregate_id=f"b-{supplier_id}", aggregate_version=1, trip_id="it-1",
            producer="booking",
            data=BookingDetails(
                booking_id=f"b-{supplier_id}", itinerary_id="it-1", vendor_name="Gion Karyo",
                service=RequestedService(kind="dining", title="Kaiseki dinner", timezone="Asia/Tokyo",
                                         start="2027-10-02T19:00", end="2027-10-02T21:00",
                                         place=Place(address="Gion, Kyoto")),
                party_adults=2, party_children=1, traveller_names=["Ana Silva", "Ben Silva"],
                requirements=[RequirementLine(requirement_id="r1", traveller_name="Ana Silva", kind="dietary",
                                              text="vegetarian")],
                respond_by=datetime(2027, 8, 20, 9, tzinfo=UTC)),
            to_supplier=SupplierMessage(kind="request", supplier_id=supplier_id, supplier_name="Gion Karyo",
                                        channel="email", language=language, email=email,
                                        contact_name="Reservations", vendor_note="A quiet table, please",
                                        response_url=f"http://booking.test/supplier/bookings/{supplier_id}-token"))

    english = requested("en", "s1")
    await service.publish(english)
    await service.publish(english)  # redelivered: one e-mail
    await service.publish(requested("zh-Hans", "s2", email="yoyaku@karyo.example"))
    await arrives(lambda: asyncio.sleep(0, len(smtp.messages) == 2))
    await asyncio.sleep(0.2)
    [mail] = smtp.to("reserve@karyo.example")
    text = text_of(mail)
    assert smtp.subject(mail).startswith("Booking request: Kaiseki dinner · Sat 02 Oct 2027, 19:00 (Asia/Tokyo)")
    for shown in ("Dear Reservations,", "Lotus & Maple Travel would like to book", "Where: Gion, Kyoto",
                  "Party: 2 adult(s), 1 child(ren)", "Travellers: Ana Silva, Ben Silva",
                  "  - Dietary — Ana Silva: vegetarian", "Note: A quiet table, please",
                  "Please answer by: Fri 20 Aug 2027, 18:00 (Asia/Tokyo)",
                  "http://booking.test/supplier/bookings/s1-token",
                  "Lotus & Maple Travel: phone +86 21 5555 0100 · e-mail care@lotusmaple.example",
                  "24/7 emergency line: +86 21 5555 0199"):
        assert shown in text, shown
    assert "On-trip support" not in text, "a supplier is not a traveller: it gets the agency's contacts only"
    [chinese] = smtp.to("yoyaku@karyo.example")
    assert smtp.subject(chinese).startswith("预订请求: Kaiseki dinner")
    body = text_of(chinese)
    assert "2027年10月2日 周六, 19:00 (Asia/Tokyo)" in body and "饮食 — Ana Silva: vegetarian" in body
    [record] = [r for r in await listed(service) if r["customer_id"] == "s1"]
    assert record["kind"] == "supplier_request" and record["status"] == "sent"


async def test_a_reminder_repeats_the_unanswered_request_and_an_escalation_reaches_the_planners(service, smtp):
    from trip_shared.contracts.booking import (
        BookingEscalated,
        BookingState,
        BookingSupplierReminded,
        Escalation,
        RequestedService,
        SupplierMessage,
    )

    state = BookingState(booking_id="b-9", itinerary_id="it-1", vendor_name="Gion Karyo", status="requested",
                         chases=1, service=RequestedService(kind="dining", title="Kaiseki dinner",
                                                            timezone="Asia/Tokyo", start="2027-10-02T19:00"))
    await service.publish(BookingSupplierReminded(
        tenant_id="tenant-a", aggregate_id="b-9", aggregate_version=2, trip_id="it-1", producer="booking",
        data=state, to_supplier=SupplierMessage(kind="reminder", supplier_id="s9", supplier_name="Gion Karyo",
                                                channel="email", email="reserve@karyo.example",
                                                response_url="http://booking.test/supplier/bookings/t9")))
    await service.publish(BookingEscalated(
        tenant_id="tenant-a", aggregate_id="b-9", aggregate_version=3, trip_id="it-1", producer="booking",
        data=state, escalation=Escalation(reason="Gion Karyo has not answered after 1 reminder(s).",
                                          notify_email="planners@agency.example")))
    await arrives(lambda: asyncio.sleep(0, len(smtp.messages) == 2))
    [reminder] = smtp.to("reserve@karyo.example")
    assert smtp.subject(reminder).startswith("Reminder: Booking request: Kaiseki dinner")
    assert "http://booking.test/supplier/bookings/t9" in text_of(reminder)
    [escalation] = smtp.to("planners@agency.example")
    assert smtp.subject(escalation) == "No answer from Gion Karyo: Kaiseki dinner"
    assert "has not answered after 1 reminder" in text_of(escalation)


async def test_a_webhook_supplier_gets_the_request_as_signed_json_retried_until_taken(service, smtp):
    import json
    import time

    from trip_shared.contracts.booking import BookingDetails, BookingRequested, RequestedService, SupplierMessage
    from trip_shared.testing.http_recorder import HttpRecorder
    from trip_shared.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, supplier_secret, verify

    with HttpRecorder(statuses=[503, 200]) as endpoint:
        event = BookingRequested(
            tenant_id="tenant-a", aggregate_id="b-7", aggregate_version=1, trip_id="it-1", producer="booking",
            data=BookingDetails(booking_id="b-7", itinerary_id="it-1", vendor_name="Kansai Private Cars",
                                service=RequestedService(kind="transfer", title="Car to Kyoto Station",
                                                         timezone="Asia/Tokyo", start="2027-10-04T11:30"),
                                party_adults=2, traveller_names=["Ana Silva"]),
            to_supplier=SupplierMessage(kind="request", supplier_id="s7", supplier_name="Kansai Private Cars",
                                        channel="webhook", webhook_url=f"{endpoint.url}/bookings",
                                        callback_url="http://booking.test/supplier/callbacks/tok",
                                        secret_generation=3))
        await service.publish(event)
        await service.publish(event)  # redelivered: one delivery
        await arrives(lambda: asyncio.sleep(0, len(endpoint.requests) == 2), timeout=15)
        await asyncio.sleep(0.3)
    assert len(endpoint.requests) == 2, "a 503 is retried, a 200 ends it"
    first, taken = endpoint.requests
    key = service.runtime.settings.supplier_secret_key
    verify(supplier_secret(key, "tenant-a", "s7", 3), taken.headers[TIMESTAMP_HEADER],
           taken.headers[SIGNATURE_HEADER], taken.body, time.time())
    assert int(taken.headers[TIMESTAMP_HEADER]) > int(first.headers[TIMESTAMP_HEADER]), \
        "the retry is signed when it is sent, so a receiver's five-minute window holds"
    payload = json.loads(taken.body)
    assert (payload["type"], payload["booking_id"], payload["service"]["start"]) == (
        "booking.request", "b-7", "2027-10-04T11:30")
    assert payload["callback_url"] == "http://booking.test/supplier/callbacks/tok" and payload["round"] == 1
    assert smtp.messages == [], "a webhook supplier gets no e-mail"
    [record] = [r for r in await listed(service) if r["customer_id"] == "s7"]
    assert (record["status"], record["attempts"]) == ("sent", 1)


async def test_the_agency_keeps_its_profile_here_and_every_message_carries_it(service, smtp):
    from trip_shared.contracts.agency import AgencyProfileChanged

    before = await service.client.get("/v1/agency", headers=auth())
    assert before.status_code == 200 and before.json()["version"] == 0, "the setting's profile until one is saved"
    assert before.json()["name"] == "Lotus & Maple Travel"
    assert (await service.client.get("/v1/agency", headers=auth("tenant-b"))).status_code == 404
    profile = {"name": "Kyoto Bound Journeys", "sender_email": "trips@kyotobound.example",
               "reply_to": "desk@kyotobound.example", "signature": "With warm regards, the Kyoto Bound team",
               "support_phone": "+81 75 000 1111", "emergency_phone": "+81 90 0000 2222",
               "messaging": "LINE: kyotobound", "default_language": "en", "timezone": "Asia/Tokyo",
               "quiet_hours_start": "22:00", "quiet_hours_end": "07:00"}
    saved = await service.client.put("/v1/agency", json=profile, headers=auth())
    assert saved.status_code == 200 and saved.json()["version"] == 1, saved.text
    [announced] = [AgencyProfileChanged.model_validate_json(row["payload"]) async for row in
                   service.runtime.outbox.rows.find({"event_type": "agency.profile_changed"})]
    assert announced.data.name == "Kyoto Bound Journeys" and announced.aggregate_id == "tenant-a"
    for bad, code in (({**profile, "timezone": "Kyoto"}, "invalid-agency-profile"),
                      ({**profile, "quiet_hours_end": None}, "invalid-agency-profile"),
                      ({**profile, "sender_email": "not-an-address"}, "invalid-agency-profile"),
                      ({"name": "No contacts"}, "support-contact-required"),
                      ({**profile, "name": " "}, "name-required")):
        refused = await service.client.put("/v1/agency", json=bad, headers=auth())
        assert refused.status_code == 422 and refused.json()["code"] == code, (bad, refused.text)
    assert (await service.client.get("/v1/agency", headers=auth())).json()["version"] == 1
    resaved = await service.client.put("/v1/agency", json={**profile, "messaging": "LINE: kyotobound2"},
                                       headers=auth())
    assert resaved.status_code == 200 and resaved.json()["version"] == 2, resaved.text

    await service.publish(contact("c1"))
    await service.publish(membership(CustomerLinked, "c1", True, [("c1", True)], 2))
    [mail] = await arrives(lambda: asyncio.sleep(0, smtp.to("mei@example.com")))
    body = text_of(mail)
    assert "Kyoto Bound Journeys" in body and "+81 90 0000 2222" in body and "Lotus" not in body
    assert "With warm regards, the Kyoto Bound team" in body
    from email.utils import parsedate_to_datetime

    assert mail["From"] == "Kyoto Bound Journeys <trips@kyotobound.example>"
    assert mail["Reply-To"] == "desk@kyotobound.example" and mail["Auto-Submitted"] == "auto-generated"
    assert mail["Message-ID"].endswith("@kyotobound.example>"), "on the sender's own domain"
    assert parsedate_to_datetime(mail["Date"]).tzinfo is not None


async def test_a_webhook_goes_out_while_the_mail_server_is_down(service, smtp_port):
    from trip_shared.contracts.booking import BookingDetails, BookingRequested, SupplierMessage
    from trip_shared.testing.http_recorder import HttpRecorder

    # No SMTP server listens on smtp_port: an e-mail waits for it...
    await service.publish(contact("c1"))
    await service.publish(membership(CustomerLinked, "c1", True, [("c1", True)], 2))
    assert not service.app.state.dispatcher.channel.up
    with HttpRecorder() as endpoint:
        # ...and a supplier's webhook does not.
        await service.publish(BookingRequested(
            tenant_id="tenant-a", aggregate_id="b-8", aggregate_version=1, trip_id="it-1", producer="booking",
            data=BookingDetails(booking_id="b-8", itinerary_id="it-1", vendor_name="Kansai Private Cars"),
            to_supplier=SupplierMessage(kind="request", supplier_id="s8", supplier_name="Kansai Private Cars",
                                        channel="webhook", webhook_url=f"{endpoint.url}/in", secret_generation=1)))
        await arrives(lambda: asyncio.sleep(0, len(endpoint.requests) == 1))
    statuses = {r["customer_id"]: r["status"] for r in await listed(service)}
    assert statuses == {"c1": "pending", "s8": "sent"}


async def test_an_optional_message_is_html_and_text_and_one_click_stops_that_kind_only(service, smtp):
    from trip_shared.testing.maildir import html_of, text_of

    await service.publish(contact("c1"))
    await service.publish(membership(CustomerLinked, "c1", True, [("c1", True)], 2))
    [message] = await arrives(lambda: asyncio.sleep(0, smtp.to("mei@example.com")))
    assert message.get_content_type() == "multipart/alternative"
    text, html = text_of(message), html_of(message)
    assert "point of contact" in text and "point of contact" in html and html.startswith("<!doctype html>")
    # The same agency footer in both, escaped in HTML, its contacts in the footer block.
    assert "Lotus & Maple Travel" in text and "Lotus &amp; Maple Travel" in html and "Lotus & Maple" not in html
    assert html.index("border-top") < html.index("+86 21 5555 0199")
    url = "".join(message["List-Unsubscribe"].split()).strip("<>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and url in text
    assert f'href="{url}"' in html
    path = url.split("://", 1)[1].split("/", 1)[1]
    page = await service.client.get(f"/{path}")  # opening it only asks
    assert page.status_code == 200 and "Unsubscribe" in page.text
    preferences = "/v1/customers/c1/message-preferences"
    assert (await service.client.get(preferences, headers=auth())).json()["opted_out"] == []
    one_click = await service.client.post(f"/{path}", content="List-Unsubscribe=One-Click",
                                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert one_click.status_code == 200 and "no longer" in one_click.text
    assert (await service.client.post(f"/{path}")).status_code == 200  # again: harmless
    assert (await service.client.get(preferences, headers=auth())).json()["opted_out"] == ["poc_assigned"]
    assert (await service.client.get(f"/{path[:-3]}xyz")).status_code == 403

    # Named POC of another trip: recorded as opted out, not sent; a proposal (essential) still goes.
    other = MembershipChange(itinerary=ItinerarySummary(itinerary_id="it-2", title="Hokkaido"), customer_id="c1",
                             is_poc=True, customers=[ItineraryMember(customer_id="c1", is_poc=True)])
    await service.publish(CustomerLinked(tenant_id="tenant-a", aggregate_id="it-2", aggregate_version=2,
                                         trip_id="it-2", producer="itinerary", data=other))
    [skipped] = await arrives(lambda: listed(service, itinerary_id="it-2"))
    assert skipped["status"] == "opted_out" and len(smtp.to("mei@example.com")) == 1
    refused = await service.client.put(preferences, json={"opted_out": ["trip_changes"]}, headers=auth())
    assert refused.status_code == 422 and refused.json()["code"] == "essential-message"
    assert (await service.client.get(preferences, headers=auth())).json()["opted_out"] == ["poc_assigned"]
    cleared = await service.client.put(preferences, json={"opted_out": []}, headers=auth())
    assert cleared.status_code == 200 and cleared.json()["opted_out"] == []
    assert (await service.client.get(preferences, headers=auth("tenant-b"))).json()["opted_out"] == []


async def test_an_agency_platform_subscribed_to_kinds_gets_each_message_signed_and_retried(service, smtp):
    import json

    from trip_shared.testing.http_recorder import HttpRecorder
    from trip_shared.webhooks import verify

    with HttpRecorder(statuses=[503, 200]) as crm:
        for bad in ({"url": "http://crm.example/hook", "kinds": ["poc_assigned"]},
                    {"url": crm.url + "/hook", "kinds": ["poc_assigned", "no_such_kind"]},
                    {"url": crm.url + "/hook", "kinds": []}):
            refused = await service.client.post("/v1/webhook-endpoints", json=bad, headers=auth())
            assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
        created = await service.client.post("/v1/webhook-endpoints", headers=auth(), json={
            "url": crm.url + "/hook", "kinds": ["poc_assigned"], "description": "CRM"})
        assert created.status_code == 201, created.text
        endpoint = created.json()
        listed = (await service.client.get("/v1/webhook-endpoints", headers=auth())).json()
        assert [e["id"] for e in listed["items"]] == [endpoint["id"]] and listed["items"][0]["secret"] is None
        assert (await service.client.get("/v1/webhook-endpoints", headers=auth("tenant-b"))).json()["items"] == []
        await service.publish(contact("c1"))
        await service.publish(membership(CustomerLinked, "c1", True, [("c1", True)], 2))
        [delivered] = await arrives(lambda: listed_hooks(service, "sent"), timeout=15)
        assert delivered["audience"] == "platform" and delivered["attempts"] == 1, "the 503 was retried"
        assert len(crm.requests) == 2 and crm.requests[0].body == crm.requests[1].body
        posted = crm.requests[-1]
        verify(endpoint["secret"], posted.headers["Trip-Desk-Timestamp"], posted.headers["Trip-Desk-Signature"],
               posted.body, datetime.now(UTC).timestamp())
        payload = json.loads(posted.body)
        assert payload["type"] == "message.poc_assigned" and payload["message"]["recipient"] == "mei@example.com"
        assert payload["message"]["subject"] == "You are the point of contact for Kyoto in autumn"
        # A kind it did not subscribe to is not posted; once removed, nothing more is.
        await service.publish(membership(CustomerUnlinked, "c1", False, [], 3))
        rotated = await service.client.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", headers=auth())
        assert rotated.status_code == 200 and rotated.json()["secret"] != endpoint["secret"]
        assert (await service.client.delete(f"/v1/webhook-endpoints/{endpoint['id']}",
                                            headers=auth())).status_code == 204
        await service.publish(membership(CustomerLinked, "c1", True, [("c1", True)], 4))
        await arrives(lambda: asyncio.sleep(0, len(smtp.to("mei@example.com")) == 2))
        await asyncio.sleep(0.3)
        assert len(crm.requests) == 2
        gone = await service.client.delete(f"/v1/webhook-endpoints/{endpoint['id']}", headers=auth())
        assert gone.status_code == 404 and gone.json()["code"] == "webhook-endpoint-not-found"


async def listed_hooks(service, status):
    return [n for n in await listed(service, channel="webhook", status=status) if n["audience"] == "platform"]


def delivery_report(original, action="failed", status="5.1.1",
                    diagnostic="smtp; 550 5.1.1 <mei@example.com>: mailbox unknown") -> bytes:
    """A mail server's bounce (RFC 3464) for ``original``, as an MTA writes it."""
    from email.message import EmailMessage
    from email.mime.base import MIMEBase
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"], report["To"] = "MAILER-DAEMON@mx.example", "trips@agency.example"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.attach(MIMEText("I'm sorry to have to inform you that your message could not be delivered.\n"))
    from email.message import Message

    status_part = MIMEBase("message", "delivery-status")
    per_message, per_recipient = Message(), Message()
    per_message["Reporting-MTA"] = "dns; mx.example"
    for name, value in (("Final-Recipient", f"rfc822; {original['To']}"), ("Action", action), ("Status", status),
                        ("Diagnostic-Code", diagnostic)):
        per_recipient[name] = value
    status_part.set_payload([per_message, per_recipient])
    report.attach(status_part)
    headers = EmailMessage()
    for name in ("From", "To", "Subject", "Message-ID", "X-Notification-Id"):
        headers[name] = original[name]
    headers_part = MIMEBase("text", "rfc822-headers")
    headers_part.set_payload(headers.as_string().split("\n\n", 1)[0] + "\n")
    report.attach(headers_part)
    return report.as_bytes()


async def test_a_bounce_the_mail_gateway_posts_marks_that_email_bounced_and_the_trip_hears_of_it(service, smtp):
    from trip_shared.contracts.notify import NotificationUndeliverable

    await service.publish(contact("c1"))
    await service.publish(membership(CustomerLinked, "c1", True, [("c1", True)], 2))
    await arrives(lambda: asyncio.sleep(0, smtp.to("mei@example.com")))
    [sent] = smtp.to("mei@example.com")
    post = {"headers": {**auth(), "Content-Type": "message/rfc822"}}
    forged = dict(sent.items())
    forged["Message-ID"] = "<someone-else@agency.example>"
    answer = await service.client.post("/v1/inbound/mail-reports", content=delivery_report(forged), **post)
    assert answer.status_code == 200 and answer.json()["items"][0]["recorded"] is False
    other = await service.client.post("/v1/inbound/mail-reports", content=delivery_report(sent),
                                      headers={**auth("tenant-b"), "Content-Type": "message/rfc822"})
    assert other.json()["items"][0]["recorded"] is False, "another agency cannot bounce this one's mail"
    assert (await listed(service))[0]["status"] == "sent"
    answer = await service.client.post("/v1/inbound/mail-reports", content=delivery_report(sent), **post)
    assert answer.status_code == 200 and answer.json()["items"] == [
        {"notification_id": sent["X-Notification-Id"], "status": "bounced", "recorded": True}]
    [record] = await listed(service)
    assert record["status"] == "bounced" and "5.1.1" in record["last_error"] and "mailbox unknown" in record["last_error"]
    problems = await arrives(lambda: service.emitted(NotificationUndeliverable))
    assert problems[0].data.reason == "bounced" and problems[0].data.notification_id == record["id"]
    again = await service.client.post("/v1/inbound/mail-reports", content=delivery_report(sent), **post)
    assert again.json()["items"][0]["recorded"] is False, "the same report twice has one effect"
    junk = await service.client.post("/v1/inbound/mail-reports", content=b"Subject: hi\n\nnot a report\n", **post)
    assert junk.status_code == 422 and junk.json()["code"] == "not-a-delivery-report"


async def test_an_incident_nobody_acknowledged_reaches_the_planners_desk_with_its_internal_account(service, smtp):
    from datetime import UTC, datetime, timedelta

    from trip_shared.contracts.feedback import IncidentEscalated, IncidentState

    occurred = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
    escalated = IncidentEscalated(
        tenant_id="tenant-a", aggregate_id="inc-7", aggregate_version=2, trip_id="it-1", producer="feedback",
        reason="Not acknowledged within 15 min of being reported (critical).",
        data=IncidentState(incident_id="inc-7", itinerary_id="it-1", kind="illness_or_injury", severity="critical",
                           status="open", summary="Traveller fell on the temple steps",
                           description="Ankle, conscious; taken to Kyoto City Hospital.",
                           occurred_local="2026-12-01T03:00", timezone="Asia/Tokyo", occurred_at=occurred,
                           response_due_at=occurred + timedelta(minutes=15), travellers=["c1", "c2"]))
    await service.publish(escalated)
    await service.publish(escalated)  # redelivered: told once
    await arrives(lambda: asyncio.sleep(0, len(smtp.to("care@lotusmaple.example")) >= 1))
    [told] = smtp.to("care@lotusmaple.example")
    assert smtp.subject(told) == "Unacknowledged critical incident: Traveller fell on the temple steps"
    text = text_of(told)
    assert "2026-12-01 03:00 (Asia/Tokyo)" in text and "Kyoto City Hospital" in text and "15 min" in text
    [logged] = [n for n in (await service.client.get("/v1/notifications", headers=auth())).json()["items"]
                if n["kind"] == "incident_escalated"]
    assert logged["customer_id"] == "agency"
    from trip_shared.contracts.customers import CustomerErased, ErasedCustomer

    await service.publish(CustomerErased(tenant_id="tenant-a", aggregate_id="c2", aggregate_version=2,
                                         producer="customers", data=ErasedCustomer(customer_id="c2")))
    stored = await service.runtime.store.db["notifications"].find_one({"_id": logged["id"]})
    assert "Hospital" not in stored["body"], "the desk's copy goes with the erasure of anyone it happened to"
