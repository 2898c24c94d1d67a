"""The booking's lifecycle as plain Python: guarded moves, rounds, requirements, the trip changing under it."""
from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.model import Booking, BookingConflict, InvalidBooking
from booking.domain.suppliers import Supplier

NOW = datetime(2027, 8, 1, 9, tzinfo=UTC)
ITEM = {"item_id": "dinner-1", "kind": "dining", "title": "Kaiseki dinner", "timezone": "Asia/Tokyo",
        "start": "2027-10-02T19:00", "end": "2027-10-02T21:00", "place": {"address": "Gion"}}
TRAVELLERS = [{"customer_id": "c1", "name": "Ana", "requirements": [{"kind": "dietary", "text": "vegetarian"}]},
              {"customer_id": "c2", "name": "Ben", "requirements": []}]


def supplier(**changes) -> Supplier:
    return Supplier.register("t", {"name": "Gion Karyo", "kind": "restaurant",
                                   "contacts": [{"email": "r@karyo.example"}], **changes})


def booking(**kwargs) -> Booking:
    return Booking.request("t", "it-1", supplier=supplier(), item=ITEM, travellers=TRAVELLERS,
                           party={"adults": 2, "children": 0}, actor="planner", now=NOW, **kwargs)


def test_a_request_copies_what_the_supplier_is_told_and_each_need_is_its_own_line():
    made = booking(respond_by=NOW + timedelta(days=3))
    assert (made.status, made.round, made.vendor_name) == ("requested", 1, "Gion Karyo")
    assert made.service["start"] == "2027-10-02T19:00" and made.traveller_names == ["Ana", "Ben"]
    assert [(line.traveller_name, line.kind, line.text) for line in made.requirements] == [
        ("Ana", "dietary", "vegetarian")]
    with pytest.raises(InvalidBooking):
        booking(respond_by=NOW - timedelta(minutes=1))
    with pytest.raises(BookingConflict):
        Booking.request("t", "it-1", supplier=supplier(active=False), item=ITEM, travellers=[], party=None,
                        actor="planner", now=NOW)


def test_the_moves_are_guarded_and_recorded_with_who_and_how():
    made = booking()
    assert made.confirm("GK-1", actor="supplier:s", channel="email", now=NOW) is True
    assert made.confirm("GK-1", actor="supplier:s", channel="email") is False, "the same answer again: no effect"
    with pytest.raises(BookingConflict):
        made.confirm("GK-2", actor="x", channel="phone")
    with pytest.raises(BookingConflict):
        made.decline("full", actor="x", channel="phone")
    made.request_amendment(ITEM, TRAVELLERS, None, changes=["4 guests"], reason="a friend joins", actor="planner")
    assert (made.status, made.round) == ("amendment_requested", 2)
    assert made.decline("cannot seat 4", actor="supplier:s", channel="email") is True
    with pytest.raises(BookingConflict):
        made.request_cancellation("no longer needed", actor="planner")
    assert [(step.from_status, step.to_status, step.channel) for step in made.history] == [
        (None, "requested", "api"), ("requested", "confirmed", "email"),
        ("confirmed", "amendment_requested", "api"), ("amendment_requested", "declined", "email")]


def test_only_the_current_round_awaits_an_answer():
    made = booking()
    assert made.awaits(1) == "request" and made.awaits(0) is None
    made.confirm("GK-1", actor="s", channel="email")
    assert made.awaits(1) is None
    made.request_cancellation("trip cancelled", actor="planner")
    assert made.awaits(1) is None and made.awaits(2) == "cancellation"
    with pytest.raises(InvalidBooking):
        made.confirm_cancellation(" ", actor="s", channel="email")
    assert made.confirm_cancellation("CX-1", actor="s", channel="email") is True
    assert made.confirm_cancellation("CX-1", actor="s", channel="email") is False
    assert made.status == "cancelled" and made.awaits(2) is None


def test_an_unanswered_request_expires_at_its_deadline_only():
    made = booking(respond_by=NOW + timedelta(days=1))
    assert made.expire(NOW) is False and made.status == "requested"
    assert made.expire(NOW + timedelta(days=1)) is True and made.status == "expired"
    assert made.expire(NOW + timedelta(days=2)) is False


def test_the_trip_changing_marks_what_is_due_and_changing_back_clears_it():
    made = booking()
    made.confirm("GK-1", actor="s", channel="email")
    moved = {**ITEM, "start": "2027-10-02T20:00"}
    assert made.trip_changed(moved, TRAVELLERS, {"adults": 2, "children": 0}) is True
    assert made.attention == "amendment" and made.attention_changes == ["start: 2027-10-02T19:00 → 2027-10-02T20:00"]
    assert made.trip_changed(moved, TRAVELLERS, {"adults": 2, "children": 0}) is False, "the same change: once"
    assert made.trip_changed(ITEM, TRAVELLERS, {"adults": 2, "children": 0}) is True and made.attention is None
    assert made.trip_changed(None, TRAVELLERS, None) is True and made.attention == "cancellation"
    made.request_cancellation("item removed", actor="planner")
    assert made.attention is None


def test_an_acknowledged_need_stays_acknowledged_when_the_request_is_re_sent():
    made = booking()
    [line] = made.requirements
    assert [ack.id for ack in made.acknowledge([line.id], actor="s", channel="email")] == [line.id]
    assert made.acknowledge([line.id], actor="s", channel="email") == []
    with pytest.raises(InvalidBooking):
        made.acknowledge(["nope"], actor="s", channel="email")
    more = [TRAVELLERS[0], {**TRAVELLERS[1], "requirements": [{"kind": "other", "text": "child seat"}]}]
    made.request_amendment({**ITEM, "start": "2027-10-02T19:30"}, more, None, changes=[], reason=None,
                           actor="planner")
    assert made.status == "requested" and made.round == 2
    assert [(line.text, line.acknowledged_at is not None) for line in made.requirements] == [
        ("vegetarian", True), ("child seat", False)]
