"""The scalar of a configurable list's keys (issue 17, item 5): a list that was a GraphQL enum (`Stage`) is now rows
an admin edits, and its type becomes a custom scalar of the same name whose values are the rows' keys.

Documents written against the enum keep working: an argument takes the enum literal (`stage: PROPOSAL`) and
the string (`stage: "PROPOSAL"`), a variable (`$s: Stage!`) a string, and answers carry the key as the same
JSON string the enum gave. Any key parses; whether it names an active value is the workflow's rule (a typed
ValidationError naming the key and the list), and a filter on an unknown key matches nothing."""

from __future__ import annotations

from typing import Any, NewType

import strawberry
from graphql import EnumValueNode, GraphQLError, StringValueNode, ValueNode

MAX_LENGTH = 100  # longer than any key (32): a longer text is not a key of any list

# Each key scalar's type and its definition: the schema's `StrawberryConfig(scalar_map=SCALARS)`.
SCALARS: dict[Any, Any] = {}


def _key(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_LENGTH:
        raise GraphQLError(f"{name} is the key of a {name} as a string or an enum literal, such as PROPOSAL")
    return value


def key_scalar(name: str, description: str) -> Any:
    """The GraphQL scalar `name`, whose values are the keys (str) of the rows of a configurable list."""

    def parse_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> str:
        if isinstance(node, EnumValueNode | StringValueNode):
            return _key(node.value, name)
        raise GraphQLError(f"{name} is the key of a {name} as a string or an enum literal, such as PROPOSAL")

    type_ = NewType(name, str)
    SCALARS[type_] = strawberry.scalar(
        name=name,
        description=description,
        serialize=lambda value: getattr(value, "value", value),
        parse_value=lambda value: _key(value, name),
        parse_literal=parse_literal,
    )
    return type_
