"""The operations view of one trip: where the party is now, in local time, and what needs a person."""
from datetime import UTC, date, datetime, timedelta

from feedback.domain.incidents import Incident
from feedback.domain.operations import is_watched, watch

NOW = datetime(2027, 10, 1, 18, 30, tzinfo=UTC)  # 20:30 in Rome


def item(item_id, kind, start_local, end_local, starts_at, ends_at):
    return {"item_id": item_id, "kind": kind, "title": item_id, "timezone": "Europe/Rome", "start": start_local,
            "end": end_local, "starts_at": starts_at, "ends_at": ends_at}


TRIP = {"_id": "it-1", "title": "Rome", "stage": "in_progress", "start_date": "2027-09-30", "items": [
    item("hotel", "accommodation", "2027-09-30T15:00", "2027-10-03T11:00", NOW - timedelta(days=1, hours=5),
         NOW + timedelta(days=1, hours=14)),
    item("opera", "event", "2027-10-01T21:30", "2027-10-01T23:30", NOW + timedelta(hours=1), NOW + timedelta(hours=3)),
]}


def incident(severity, reported_ago_min, status="open") -> Incident:
    reported = NOW - timedelta(minutes=reported_ago_min)
    found = Incident.report("tenant-a", "it-1", kind="other", severity=severity, summary="x",
                            occurred_local="2027-10-01T20:00", actor="ana", now=reported, item_zones={},
                            item_id=None, timezone="Europe/Rome", on_trip=[])
    if status == "acknowledged":
        found.acknowledge("ana", reported + timedelta(minutes=1))
    return found


def test_between_things_the_party_is_where_it_stays_and_the_next_item_is_in_local_time():
    watched = watch(TRIP, [], [], NOW)
    assert watched.current.item_id == "hotel" and watched.next.starts == "2027-10-01 21:30 (Europe/Rome)"
    assert not watched.needs_a_person


def test_an_open_incident_past_its_deadline_is_overdue_and_an_acknowledged_one_only_open():
    watched = watch(TRIP, [incident("low", 5), incident("critical", 20), incident("high", 90, "acknowledged")],
                    [], NOW)
    assert watched.open_incidents == {"critical": 1, "high": 1, "low": 1}, "worst first"
    assert len(watched.overdue_incidents) == 1 and watched.needs_a_person


def test_a_supplier_past_its_deadline_is_late_a_declined_booking_unconfirmed_a_confirmed_one_fine():
    bookings = [{"booking_id": "b1", "status": "requested", "respond_by": NOW - timedelta(hours=1)},
                {"booking_id": "b2", "status": "declined", "respond_by": NOW - timedelta(hours=1)},
                {"booking_id": "b3", "status": "requested", "respond_by": NOW + timedelta(days=1)},
                {"booking_id": "b4", "status": "confirmed"}]
    watched = watch(TRIP, [], bookings, NOW)
    assert [b["booking_id"] for b in watched.late_bookings] == ["b1"]
    assert [b["booking_id"] for b in watched.unconfirmed_bookings] == ["b2", "b3"]


def test_which_trips_are_watched():
    today = date(2027, 10, 1)
    assert is_watched({"stage": "in_progress"}, today, 0)
    assert is_watched({"stage": "booked", "start_date": "2027-10-04"}, today, 3)
    assert not is_watched({"stage": "booked", "start_date": "2027-10-05"}, today, 3)
    assert not is_watched({"stage": "draft", "start_date": "2027-10-02"}, today, 3)
    assert not is_watched({"stage": "completed", "start_date": "2027-09-20"}, today, 3)


def test_when_the_party_splits_up_each_group_is_shown_where_it_is():
    golf = {**item("golf", "activity", "2027-10-01T19:00", "2027-10-01T22:00", NOW - timedelta(minutes=90),
                   NOW + timedelta(minutes=90)), "travellers": ["dad"]}
    spa = {**item("spa", "activity", "2027-10-01T20:00", "2027-10-01T21:00", NOW - timedelta(minutes=30),
                  NOW + timedelta(minutes=30)), "travellers": ["mum", "kid"]}
    split = {**TRIP, "items": [*TRIP["items"], golf, spa], "traveller_names": {"dad": "Wei", "mum": "Lin"},
             "members": [{"customer_id": c} for c in ("dad", "mum", "kid")]}
    parties = watch(split, [], [], NOW).parties
    assert [(p.travellers, p.names, p.current.item_id, p.next.item_id) for p in parties] == [
        (["dad"], ["Wei"], "golf", "opera"), (["mum", "kid"], ["Lin", "kid"], "spa", "opera")]
    assert watch(TRIP, [], [], NOW).parties == [], "together: the trip's own current and next say it"
    after = watch(split, [], [], NOW + timedelta(hours=2)).parties
    assert after == [], "at the opera they are together again"
