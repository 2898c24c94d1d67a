"""Booking service: what was requested from which vendor for a trip, and the vendor's confirmation."""
