from datetime import date

import pytest

from itinerary.domain.model import InvalidItinerary, Itinerary
from trip_shared.errors import ConflictError, NotFoundError


def trip(**kwargs) -> Itinerary:
    return Itinerary.draft("tenant-a", kwargs.pop("title", "Kyoto"), **kwargs)


def test_an_itinerary_may_have_no_customers():
    itinerary = trip()
    assert itinerary.customers == [] and itinerary.stage == "inquiry" and itinerary.version == 1


def test_the_first_linked_customer_becomes_the_poc_by_default_and_later_ones_do_not():
    itinerary = trip()
    assert itinerary.link("c1").is_poc is True
    assert itinerary.link("c2").is_poc is False
    assert [(c.customer_id, c.is_poc) for c in itinerary.customers] == [("c1", True), ("c2", False)]
    assert itinerary.version == 3


def test_the_first_customer_cannot_be_linked_as_a_non_poc():
    itinerary = trip()
    with pytest.raises(ConflictError) as error:
        itinerary.link("c1", is_poc=False)
    assert error.value.code == "poc-required" and itinerary.customers == [] and itinerary.version == 1


def test_several_pocs_are_allowed():
    itinerary = trip()
    itinerary.link("c1")
    itinerary.link("c2", is_poc=True)
    assert [c.customer_id for c in itinerary.pocs] == ["c1", "c2"]


def test_linking_twice_is_refused():
    itinerary = trip()
    itinerary.link("c1")
    with pytest.raises(ConflictError) as error:
        itinerary.link("c1")
    assert error.value.code == "already-linked"


def test_the_only_poc_cannot_be_unflagged():
    itinerary = trip()
    itinerary.link("c1")
    itinerary.link("c2")
    with pytest.raises(ConflictError) as error:
        itinerary.set_poc("c1", False)
    assert error.value.code == "last-poc" and itinerary.pocs[0].customer_id == "c1" and itinerary.version == 3


def test_the_only_poc_cannot_be_removed_while_others_remain():
    itinerary = trip()
    itinerary.link("c1")
    itinerary.link("c2")
    with pytest.raises(ConflictError) as error:
        itinerary.unlink("c1")
    assert error.value.code == "last-poc" and len(itinerary.customers) == 2


def test_the_only_poc_can_be_removed_when_it_is_the_last_customer():
    itinerary = trip()
    itinerary.link("c1")
    change = itinerary.unlink("c1")
    assert change.kind == "unlinked" and itinerary.customers == []


def test_a_poc_can_go_once_another_is_flagged():
    itinerary = trip()
    itinerary.link("c1")
    itinerary.link("c2")
    assert itinerary.set_poc("c2", True).kind == "poc_changed"
    itinerary.set_poc("c1", False)
    itinerary.unlink("c1")
    assert [(c.customer_id, c.is_poc) for c in itinerary.customers] == [("c2", True)]


def test_setting_the_same_poc_flag_changes_nothing():
    itinerary = trip()
    itinerary.link("c1")
    assert itinerary.set_poc("c1", True) is None and itinerary.version == 2


def test_unknown_linked_customers_are_reported():
    with pytest.raises(NotFoundError):
        trip().unlink("nobody")


def test_dates_must_be_in_order_and_title_present():
    with pytest.raises(InvalidItinerary) as error:
        trip(start_date=date(2027, 5, 2), end_date=date(2027, 5, 1))
    assert error.value.code == "end-before-start"
    with pytest.raises(InvalidItinerary):
        trip(title="   ")


def test_revise_reports_changes_with_before_and_after():
    itinerary = trip(start_date=date(2027, 5, 1))
    assert itinerary.revise({"title": "Kyoto"}) == []
    changes = itinerary.revise({"title": "Osaka", "end_date": date(2027, 5, 9)})
    assert [(c.field, c.before, c.after) for c in changes] == [("title", "Kyoto", "Osaka"),
                                                                ("end_date", None, "2027-05-09")]
    assert itinerary.version == 2
    with pytest.raises(InvalidItinerary):
        itinerary.revise({"end_date": date(2027, 4, 1)})
    assert itinerary.end_date == date(2027, 5, 9)


def test_a_deleted_only_poc_is_unlinked_and_the_next_customer_takes_over_with_a_notice():
    itinerary = trip()
    itinerary.link("c1")
    itinerary.link("c2")
    itinerary.link("c3")
    change = itinerary.drop_customer("c1", "customer_deleted")
    assert (change.kind, change.reason) == ("unlinked", "customer_deleted") and itinerary.pocs == []
    promoted = itinerary.restore_poc_rule("c1")
    assert (promoted.kind, promoted.customer_id, promoted.is_poc) == ("poc_changed", "c2", True)
    assert [(c.customer_id, c.is_poc) for c in itinerary.customers] == [("c2", True), ("c3", False)]
    assert itinerary.notices[0].kind == "poc_reassigned" and "c2" in itinerary.notices[0].message
    assert itinerary.version == 6


def test_deleting_a_non_poc_or_the_last_customer_needs_no_promotion():
    itinerary = trip()
    itinerary.link("c1")
    itinerary.link("c2")
    itinerary.drop_customer("c2", "customer_deleted")
    assert itinerary.restore_poc_rule("c2") is None
    itinerary.drop_customer("c1", "customer_deleted")
    assert itinerary.restore_poc_rule("c1") is None and itinerary.customers == [] and itinerary.notices == []


def test_a_passport_ending_before_the_trip_does_is_flagged():
    itinerary = trip(start_date=date(2027, 10, 1), end_date=date(2027, 10, 9))
    assert itinerary.passport_expires_too_soon(date(2027, 10, 5))
    assert itinerary.passport_expires_too_soon(date(2027, 10, 9))
    assert not itinerary.passport_expires_too_soon(date(2028, 1, 1))
    assert not itinerary.passport_expires_too_soon(None)
    assert not trip().passport_expires_too_soon(date(2000, 1, 1)), "no dates, nothing to compare"
