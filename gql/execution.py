"""A graphql-core executor with a fast path for plain data fields.

Most fields of a nested read are columns of a row (`name`, `stage`, `quantity`) or tiny
synchronous computations of the object alone (`id`). graphql-core builds a ResolveInfo,
calls Strawberry's resolver wrapper and completes the value for each one, ~6-9 µs a field.
For fields marked at start-up as plain leaves we read the attribute (or call the
self-only resolver) and serialise the value directly; anything unusual (a null in a
non-null field, a serialisation error) falls back to the full path, which reports it."""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from graphql import GraphQLLeafType, GraphQLNonNull, GraphQLObjectType, GraphQLSchema
from graphql.execution.incremental.incremental_executor import IncrementalExecutor
from graphql.pyutils import Path
from graphql.type.definition import GraphQLResolveInfoHelpers

FAST = "salesgraph-fast"


def mark_fast_fields(schema: GraphQLSchema) -> int:
    """Mark the fields that can skip the resolver machinery; returns how many were marked."""
    marked = 0
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for field in graphql_type.fields.values():
            strawberry_field = (field.extensions or {}).get("strawberry-definition")
            if strawberry_field is None or strawberry_field.extensions or strawberry_field.permission_classes:
                continue
            non_null = isinstance(field.type, GraphQLNonNull)
            leaf = field.type.of_type if non_null else field.type
            if not isinstance(leaf, GraphQLLeafType):
                continue
            resolver = strawberry_field.base_resolver
            if resolver is None:
                getter = _attribute(strawberry_field.python_name)
            else:
                func = resolver.wrapped_func
                if resolver.is_async or list(inspect.signature(func).parameters) != ["self"]:
                    continue
                getter = func
            field.extensions = {**field.extensions, FAST: (getter, leaf.serialize, non_null)}
            marked += 1
    return marked


def _attribute(name: str) -> Callable[[Any], Any]:
    return attrgetter(name)


class FastExecutor(IncrementalExecutor):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # graphql-core keeps two bound methods of the executor on the executor (the helpers a resolver's
        # `info` carries), a reference cycle: every request then left its executor, and with it the
        # document and the variables, to the cyclic garbage collector. The same helpers, through a
        # weak reference (a resolver runs while its executor does).
        executor = weakref.ref(self)
        self.async_helpers = GraphQLResolveInfoHelpers(
            gather=lambda values: executor().gather_async_work(values),
            track=lambda values: executor().track_async_work(values),
        )

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        field_def = parent_type.fields.get(field_details_list[0].node.name.value)
        fast = field_def.extensions.get(FAST) if field_def is not None else None
        if fast is not None and not field_details_list[0].node.arguments:
            getter, serialize, non_null = fast
            try:
                value = getter(source)
                if value is None:
                    if not non_null:
                        return None
                else:
                    result = serialize(value)
                    if result is not None:
                        return result
            except Exception:  # noqa: BLE001 - the full path below reports it properly
                pass
        return super().execute_field(parent_type, source, field_details_list, path, position_context)
