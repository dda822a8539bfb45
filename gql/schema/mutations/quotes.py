"""Mutations of the quotes area (to be filled)."""
