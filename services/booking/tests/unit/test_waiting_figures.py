"""What booking's gauges count across agencies: how long suppliers have had what they must answer, which bookings
were chased, and what is still unconfirmed close to its date."""
from datetime import UTC, datetime, timedelta

from booking.domain.model import Booking
from booking.domain.readiness import age_band, waiting_figures, waiting_since
from booking.domain.suppliers import Supplier

NOW = datetime(2027, 8, 1, 9, tzinfo=UTC)


def booking(starts_at: datetime | None, *, requested_at: datetime = NOW) -> Booking:
    supplier = Supplier.register("t", {"name": "Gion Karyo", "kind": "restaurant",
                                       "contacts": [{"email": "r@karyo.example"}]})
    item = {"item_id": "dinner-1", "kind": "dining", "title": "Kaiseki dinner", "timezone": "Asia/Tokyo",
            "start": "2027-08-02T19:00", "starts_at": starts_at.isoformat() if starts_at else None}
    return Booking.request("t", "it-1", supplier=supplier, item=item, travellers=[], party=None, actor="planner",
                           now=requested_at)


def test_age_bands_split_at_a_day_and_three_days():
    assert [age_band(timedelta(hours=hours)) for hours in (0, 23.9, 24, 71.9, 72, 500)] == [
        "under_24h", "under_24h", "24h_to_72h", "24h_to_72h", "over_72h", "over_72h"]


def test_a_request_waits_from_when_it_was_made_and_a_reminder_does_not_reset_it():
    waiting = booking(NOW + timedelta(days=30), requested_at=NOW - timedelta(hours=50))
    waiting.chase(NOW - timedelta(hours=2))
    assert waiting_since(waiting) == NOW - timedelta(hours=50)
    figures = waiting_figures([waiting], NOW)
    assert figures.awaiting == {("requested", "24h_to_72h"): 1}
    assert figures.late == 1, "chased: late"
    assert figures.unconfirmed_before_service == {"48h": 0, "7d": 0}


def test_an_amendment_waits_from_when_it_was_asked_not_from_the_first_request():
    amended = booking(NOW + timedelta(days=3), requested_at=NOW - timedelta(days=10))
    amended.confirm("GK-1", actor="supplier", channel="email", now=NOW - timedelta(days=9))
    amended.request_amendment({"item_id": "dinner-1", "title": "Kaiseki dinner for three",
                               "starts_at": (NOW + timedelta(days=3)).isoformat()}, [], None,
                              changes=["party"], reason=None, actor="planner", now=NOW - timedelta(hours=5))
    assert amended.status == "amendment_requested"
    figures = waiting_figures([amended], NOW)
    assert figures.awaiting == {("amendment_requested", "under_24h"): 1}
    assert figures.unconfirmed_before_service == {"48h": 0, "7d": 1}


def test_unconfirmed_near_the_date_counts_what_starts_soon_or_began_less_than_a_day_ago():
    soon = booking(NOW + timedelta(hours=30))
    began = booking(NOW - timedelta(hours=3))
    long_gone = booking(NOW - timedelta(days=2))
    undated = booking(None)
    confirmed = booking(NOW + timedelta(hours=10))
    confirmed.confirm("GK-2", actor="supplier", channel="email", now=NOW)
    figures = waiting_figures([soon, began, long_gone, undated, confirmed], NOW)
    assert figures.unconfirmed_before_service == {"48h": 2, "7d": 2}
    assert sum(figures.awaiting.values()) == 4, "a confirmed booking waits for nobody"
    assert figures.late == 0
