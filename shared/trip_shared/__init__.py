"""Plumbing written once and used by every trip-coordination service."""
