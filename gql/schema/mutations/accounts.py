"""Mutations of the accounts area (to be filled)."""
