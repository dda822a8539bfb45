"""Mutations of the documents area (to be filled)."""
