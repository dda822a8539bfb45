"""Input pieces that many mutations share: the field helpers, the builders of the inputs that follow one shape
(the node a mutation acts on; the changes to what a create input sets), and MoneyInput."""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import strawberry

from domain.money import Money

VERSION = "The version you read; the change fails with a ConflictError if the object moved on since."
KEEP = "Left out: unchanged; null clears."

GLOBAL_ID = "salesgraph.global_id"  # field metadata: the node type(s) an input field's global ids must be of
UPDATE = (
    "salesgraph.update"  # field metadata: its description in the update input `changes` derives, or False: not in it
)

Field = tuple[str, Any, Any]  # a field of an input being built: its name, its type and its strawberry.field


def _field(description: str, default: Any, ids: Any = None, update: str | bool | None = None) -> Any:
    metadata = {key: value for key, value in ((GLOBAL_ID, ids), (UPDATE, update)) if value is not None}
    if default == []:
        return strawberry.field(description=description, default_factory=list, metadata=metadata)
    return strawberry.field(description=description, default=default, metadata=metadata)


def described(description: str, *, update: str | bool | None = None) -> Any:
    """A field every input must give. `update`: its description in the update input `changes` derives
    from this input (by default KEEP), or False where the update input leaves it out."""
    return _field(description, dataclasses.MISSING, update=update)


def optional(description: str, default: Any = None, *, update: str | bool | None = None) -> Any:
    """A field an input may leave out: null, or `default` (a list default is a new empty list each time)."""
    return _field(description, default, update=update)


def keep(description: str) -> Any:
    """A field of a change that may be left out: left out keeps the value, null clears."""
    return _field(description, strawberry.UNSET)


def gid(
    node_type: str | tuple[str, ...] | None,
    description: str,
    default: Any = dataclasses.MISSING,
    *,
    update: str | bool | None = None,
) -> Any:
    """An input field holding the global id(s) of `node_type`: the mutation decodes it before any SQL, and
    a malformed id or one of another type is a ValidationError naming the field (`node_type` None: the
    mutation's `ids=` says which type)."""
    return _field(description, default, node_type, update)


def _input(cls: type, description: str, first: list[Field], last: Iterable[Field] = ()) -> type:
    """`cls` as a strawberry input whose fields are `first`, the class's own, then `last`."""
    own = cls.__dict__.get("__annotations__", {})
    cls.__annotations__ = {**{name: hint for name, hint, _ in first}, **own, **{name: hint for name, hint, _ in last}}
    for name, _, field in [*first, *last]:
        setattr(cls, name, field)
    return strawberry.input(cls, description=description)


def in_words(type_name: str) -> str:
    """`PriceBook` → `price book`."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type_name).lower()


def _identity(key: str, node_type: str | None, what: str | None) -> Field:
    """The field naming the node: described by `what`, by default "The <node type in words>." (The price book.)"""
    if what is None and node_type is None:
        raise TypeError("an id whose type the mutation declares needs `what`, its description")
    return key, strawberry.ID, gid(node_type, what or f"The {in_words(node_type or '')}.")


def acts_on(
    node_type: str | None,
    description: str,
    *,
    what: str | None = None,
    key: str = "id",
    version: str | None = VERSION,
) -> Callable[[type], type]:
    """A class decorator making an input that acts on one node: `key`, the node's global id, then the class's
    own fields, then the `version` read (None: no version). Without fields of its own it only names a node."""
    last = [("version", int | None, optional(version))] if version else []
    return lambda cls: _input(cls, description, [_identity(key, node_type, what)], last)


def changes(
    create: type,
    node_type: str,
    description: str,
    *,
    what: str | None = None,
    order: Iterable[str] = (),
    unchanged: str | None = KEEP,
    version: str = VERSION,
) -> Callable[[type], type]:
    """A class decorator making the update input of `create`: `id` and `version`, then each field of `create`
    (but those with `update=False`; in `order` where given) as one that may be left out, which keeps the
    value, or be null, which clears it, then the class's own fields. A field is described by its `update=`
    in `create`, else by `unchanged` (None: as in `create`)."""
    hints = typing.get_type_hints(create)
    fields = {f.python_name: f for f in create.__strawberry_definition__.fields}
    first = [_identity("id", node_type, what), ("version", int | None, optional(version))]
    for name in order or [f for f in fields if (fields[f].metadata or {}).get(UPDATE) is not False]:
        metadata = fields[name].metadata or {}
        text = metadata.get(UPDATE) or unchanged or fields[name].description
        first.append((name, hints[name] | None, gid(metadata.get(GLOBAL_ID), text, strawberry.UNSET)))
    return lambda cls: _input(cls, description, first)


BOUND = "__named_by_binding__"  # a type made without a name: it takes the module-level name it is bound to


def unnamed(cls: type) -> type:
    """Mark `cls`, a strawberry type made without a name, to take the module-level name it is bound to in a
    mutation module (gql/schema/mutations/__init__.py names it before any mutation is declared)."""
    setattr(cls, BOUND, True)
    return cls


def bind_name(cls: type, name: str) -> None:
    cls.__name__ = cls.__strawberry_definition__.name = name
    setattr(cls, BOUND, False)


def ref(node_type: str | None, description: str, **options: Any) -> type:
    """An input that only names a node (`acts_on` a class of no fields) in one line, named as it is bound:
    `DeleteTaskInput = ref("Task", "Identifies a task to delete.")`."""
    return unnamed(acts_on(node_type, description, **options)(type("UnnamedInput", (), {})))


def update_of(create: type, description: str | None = None, **options: Any) -> type:
    """The update input of `create` (`changes`), named and typed by its name: CreateTaskInput and AddProductUnitInput
    make UpdateTaskInput of a Task and UpdateProductUnitInput of a ProductUnit. By default it is described as
    "Changes to a task; fields left out stay as they are, null clears." """
    node_type = re.sub(r"^(Create|Add)(\w+)Input$", r"\2", create.__name__)
    if description is None:
        words = in_words(node_type)
        article = "an" if words[0] in "aeiou" else "a"
        description = f"Changes to {article} {words}; fields left out stay as they are, null clears."
    return changes(create, node_type, description, **options)(type(f"Update{node_type}Input", (), {}))


@strawberry.input(description='An amount in a currency, e.g. `{amount: "1250.00", currency: "EUR"}`.')
class MoneyInput:
    amount: Decimal = strawberry.field(description="The amount as a decimal string (never a float).")
    currency: str = strawberry.field(description="ISO 4217 currency code, e.g. EUR.")

    def to_domain(self, where: str) -> Money:
        return Money(self.amount, self.currency)
