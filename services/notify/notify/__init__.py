"""Notify service: tells each trip's Points of Contact what they need to know, and records every delivery."""
