"""Keys of configurable lists as GraphQL scalars (issue 17, item 5; docs/decisions.md "Configurable lists").

An enum that became a configurable list keeps its GraphQL name as a custom scalar whose values are the list's
keys: a literal is accepted in the enum form (`type: MEETING`) and the string form (`type: "MEETING"`), a
variable as a string, and a value is answered as its key string. So documents, variables (`$t: ActivityType!`)
and JSON answers written against the enum keep working. Whether a key exists and is active is the
workflows' check (a typed ValidationError naming the key and the list), not the scalar's: a scalar cannot
read the database, and an inactive key stays readable on the rows that have it."""

from __future__ import annotations

from typing import Any, NewType

import strawberry
from graphql import EnumValueNode, StringValueNode, ValueNode

MAX_KEY = 100

# Each key scalar's definition, by its Python type: the schema's `StrawberryConfig(scalar_map=...)`.
SCALAR_MAP: dict[object, Any] = {}


def key_scalar(name: str, description: str) -> Any:
    """A scalar named `name` whose values are the keys of a configurable list: a type to annotate fields with,
    defined for the schema in `SCALAR_MAP`."""

    def parse_value(value: Any) -> str:
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_KEY:
            raise ValueError(f"{name} is a key of its list: a non-empty string of at most {MAX_KEY} characters")
        return value

    def parse_literal(node: ValueNode, _variables: Any = None) -> str:
        if isinstance(node, EnumValueNode | StringValueNode):
            return parse_value(node.value)
        raise ValueError(f'{name} is a key of its list, written as a name (MEETING) or a string ("MEETING")')

    python_type = NewType(name, str)
    SCALAR_MAP[python_type] = strawberry.scalar(
        name=name,
        description=description,
        serialize=lambda value: str(getattr(value, "value", value)),  # a key, or an enum member of the old lists
        parse_value=parse_value,
        parse_literal=parse_literal,
    )
    return python_type
