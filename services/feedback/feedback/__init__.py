"""Feedback service: post-trip ratings and comments from travellers."""
