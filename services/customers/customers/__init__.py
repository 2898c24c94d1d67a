"""Customers service: the master record of every client of a travel agency."""
