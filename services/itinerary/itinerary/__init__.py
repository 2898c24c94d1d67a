"""Itinerary service: the planner's trips and the customers travelling on them."""
