"""Mutations of the leads area (to be filled)."""
