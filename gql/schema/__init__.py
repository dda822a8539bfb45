"""Strawberry types of the sales graph, one module per aggregate."""
