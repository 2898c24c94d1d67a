import pytest

from booking.domain.model import Booking, InvalidBooking
from trip_shared.errors import ConflictError


def test_a_booking_needs_a_vendor():
    with pytest.raises(InvalidBooking) as error:
        Booking.request("t", "it-1", "  ")
    assert error.value.code == "vendor-required"
    booking = Booking.request("t", "it-1", " Kyoto Ryokan ", description="  ")
    assert booking.vendor_name == "Kyoto Ryokan" and booking.description is None and booking.status == "requested"


def test_confirming_records_the_code_once():
    booking = Booking.request("t", "it-1", "Ryokan")
    assert booking.confirm("ABC123") is True
    assert booking.status == "confirmed" and booking.confirmation_code == "ABC123" and booking.version == 2
    assert booking.confirm("ABC123") is False and booking.version == 2


def test_a_different_code_for_a_confirmed_booking_is_refused():
    booking = Booking.request("t", "it-1", "Ryokan")
    booking.confirm("ABC123")
    with pytest.raises(ConflictError) as error:
        booking.confirm("XYZ")
    assert error.value.code == "already-confirmed" and booking.confirmation_code == "ABC123"


def test_a_blank_code_is_refused():
    with pytest.raises(InvalidBooking):
        Booking.request("t", "it-1", "Ryokan").confirm(" ")
