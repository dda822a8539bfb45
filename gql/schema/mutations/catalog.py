"""Mutations of the catalog area (to be filled)."""
