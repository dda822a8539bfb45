"""The Mutation root: the mutations every area module declares (module-level names, each a `mutation(...)`
named as its workflow is, or naming it: `ByName`), in the order of AREAS and of each module. A type made
without a name (`ref`, a payload of several fields) takes the name it is bound to. A module may list extra
types in `TYPES`."""

from __future__ import annotations

import importlib
from typing import Any

import strawberry
from strawberry.types.field import StrawberryField

from gql.resolvers.mutation import ByName
from gql.schema.inputs import BOUND, bind_name

AREAS = [
    "opportunities",
    "quotes",
    "contracts",
    "accounts",
    "account_groups",
    "contacts",
    "partners",
    "activities",
    "tasks",
    "goals",
    "users",
    "leads",
    "campaigns",
    "lead_routing",
    "credit",
    "catalog",
    "documents",
    "tokens",
    "monitors",
    "settings",
    "selections",
    "views",
    "conversations",
    "custom_fields",
    "attachments",
    "imports",
    "lists",
]


def _modules() -> list:
    return [importlib.import_module(f"gql.schema.mutations.{area}") for area in AREAS]


def declared() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for module in _modules():
        for name, value in vars(module).items():
            if getattr(value, BOUND, False):
                bind_name(value, name)
        for name, value in vars(module).items():
            if isinstance(value, ByName):
                value = value.named(name, module)
            declaration = getattr(value, "declaration", None)
            if declaration is None:
                continue
            if not isinstance(value, StrawberryField):
                continue
            if name != declaration.workflow.__name__ or name in fields:
                raise TypeError(f"{module.__name__}.{name}: a mutation is named as its workflow, once")
            fields[name] = value
    return fields


def extra_types() -> list[type]:
    return [t for module in _modules() for t in getattr(module, "TYPES", [])]


Mutation = strawberry.type(
    type("Mutation", (), {**declared(), "__module__": __name__}),
    description="Every change to the sales graph: one mutation per workflow, atomic.",
)
