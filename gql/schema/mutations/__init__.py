"""The Mutation root: one class of mutations per area, merged. An area module defines a
`strawberry.type` class whose name ends in `Mutations`, and may list extra types in `TYPES`."""

from __future__ import annotations

import importlib

from strawberry.tools import merge_types

AREAS = [
    "opportunities",
    "quotes",
    "accounts",
    "account_groups",
    "contacts",
    "partners",
    "activities",
    "goals",
    "users",
    "leads",
    "campaigns",
    "lead_routing",
    "catalog",
    "documents",
    "tokens",
    "monitors",
]


def _modules() -> list:
    return [importlib.import_module(f"gql.schema.mutations.{area}") for area in AREAS]


def mutation_classes() -> tuple[type, ...]:
    found = []
    for module in _modules():
        found += [
            value
            for name, value in vars(module).items()
            if name.endswith("Mutations") and isinstance(value, type) and value.__module__ == module.__name__
        ]
    return tuple(found)


def extra_types() -> list[type]:
    return [t for module in _modules() for t in getattr(module, "TYPES", [])]


Mutation = merge_types("Mutation", mutation_classes())
Mutation.__strawberry_definition__.description = "Every change to the sales graph: one mutation per workflow, atomic."
