"""Breadth-first execution of read queries.

graphql-core completes a response object by object and field by field, with a ResolveInfo,
a resolver call and often a coroutine for each: ~6-9 µs a field, which is most of the cost
of a large nested read. This executor walks the selection one level at a time instead:
a plain field is read for all objects of a level in one loop, a relation is loaded for all
of them with one `load_many`, and fields are collected once per level, not once per object.

It only has to be right when it answers: a query it cannot run exactly as graphql-core would
(introspection, a null in a non-null position, an error from a resolver, a resolver needing
more of `info` than `info.context`) raises `Unsupported`, and the caller runs the standard
executor, which then reports errors the standard way."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLAbstractType,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    OperationType,
    get_named_type,
)
from graphql.execution.collect_fields import collect_fields
from graphql.execution.incremental.incremental_executor import IncrementalExecutor
from graphql.execution.values import get_argument_values
from strawberry import Schema
from strawberry.types.arguments import convert_arguments

from gql import tracing
from gql.execution import FastExecutor
from gql.schema.fields import Batch, node_class


class Unsupported(Exception):
    """This request is left to the standard executor."""


@dataclass(frozen=True)
class _Info:
    """What our resolvers use of Strawberry's Info: the request context."""

    context: Any


_signatures: dict[Any, tuple[bool, bool]] = {}


def _parameters(func: Any) -> tuple[bool, bool]:
    found = _signatures.get(func)
    if found is None:
        names = list(inspect.signature(func).parameters)
        found = _signatures[func] = ("self" in names, "info" in names)
    return found


class BreadthFirst:
    def __init__(self, schema: Schema) -> None:
        self.strawberry = schema
        self.schema: GraphQLSchema = schema._schema
        self.scalars = schema.schema_converter.scalar_registry

    async def execute(
        self, document: Any, context: Any, variables: dict | None, operation_name: str | None
    ) -> ExecutionResult | None:
        """The result, or None when the standard executor must run the request."""
        executor = FastExecutor.build(self.schema, document, None, context, variables, operation_name)
        if isinstance(executor, list) or executor.operation.operation is not OperationType.QUERY:
            return None
        run = _Run(self, executor, context)
        root = self.schema.query_type
        grouped = collect_fields(
            self.schema, executor.fragments, executor.variable_values, root, executor.operation
        ).grouped_field_set
        try:
            data = await run.selection(root, [None], grouped)
        except Exception:  # noqa: BLE001 - Unsupported, or an error the standard executor reports with its path
            # Siblings of a failed field were cancelled while waiting for loader batches; the
            # loaders cached those cancelled futures, which the standard executor must not reuse.
            context.loaders.clear()
            return None
        return ExecutionResult(data=data[0])


class _Run:
    def __init__(self, owner: BreadthFirst, executor: IncrementalExecutor, context: Any) -> None:
        self.owner, self.executor, self.context = owner, executor, context
        self.info = _Info(context)

    async def selection(self, parent_type: GraphQLObjectType, parents: list[Any], grouped: dict) -> list[dict]:
        """The response objects for `parents`: each field is computed as a column over all of them (with
        traces on, in a span of its own: one per level and type)."""
        if tracing.ENABLED:
            with tracing.span(f"graphql.level {parent_type.name}", **{"graphql.objects": len(parents)}):
                return await self._selection(parent_type, parents, grouped)
        return await self._selection(parent_type, parents, grouped)

    async def _selection(self, parent_type: GraphQLObjectType, parents: list[Any], grouped: dict) -> list[dict]:
        columns: dict[str, list] = {}
        pending: list[tuple[str, Awaitable[list]]] = []
        for key, fields in grouped.items():
            name = fields[0].node.name.value
            if name == "__typename":
                columns[key] = [parent_type.name] * len(parents)
                continue
            if name.startswith("__"):
                raise Unsupported(name)
            field_def = parent_type.fields[name]
            values = self.resolve(field_def, fields, parents)
            if isinstance(values, list) and _is_leaf(field_def.type):
                columns[key] = self.complete_leaves(field_def.type, values)
            else:
                pending.append((key, self.resolve_and_complete(field_def, fields, values)))
        if pending:
            for (key, _), completed in zip(pending, await _all(c for _, c in pending)):
                columns[key] = completed
        keys = list(grouped)
        if not keys:
            return [{} for _ in parents]
        return [dict(zip(keys, row)) for row in zip(*(columns[k] for k in keys))]

    async def resolve_and_complete(self, field_def: Any, fields: list, values: Any) -> list:
        if not isinstance(values, list):
            values = await values
        return await self.complete(field_def.type, fields, values)

    def resolve(self, field_def: Any, fields: list, parents: list[Any]) -> list | Awaitable[list]:
        definition = (field_def.extensions or {}).get("strawberry-definition")
        if definition is None or definition.extensions or definition.permission_classes:
            raise Unsupported("not a plain Strawberry field")
        resolver = definition.base_resolver
        if resolver is None:
            return list(map(attrgetter(definition.python_name), parents))
        kwargs = self.arguments(field_def, definition, fields)
        func = resolver.wrapped_func
        batch: Batch | None = getattr(func, "_batch", None)
        if batch is not None:
            return self.batched(batch, kwargs, parents, self.columns_for(field_def.type, fields, batch))
        has_self, has_info = _parameters(func)
        if has_info:
            kwargs["info"] = self.info
        results = [func(p, **kwargs) for p in parents] if has_self else [func(**kwargs) for _ in parents]
        return _all(results) if resolver.is_async else results

    def arguments(self, field_def: Any, definition: Any, fields: list) -> dict[str, Any]:
        if not field_def.args:
            return {}
        first = fields[0]
        raw = get_argument_values(field_def, first.node, self.executor.variable_values, first.fragment_variable_values)
        return convert_arguments(
            raw, definition.arguments, scalar_registry=self.owner.scalars, config=self.owner.strawberry.config
        )

    def columns_for(self, return_type: Any, fields: list, batch: Batch) -> tuple[str, ...] | None:
        """The columns the selection reads from the batch's rows, or None for all of them."""
        named = get_named_type(return_type)
        if batch.kind != "pages":
            return self.node_columns(named, fields, batch.table)
        wanted: set[str] = set()
        for _key, sub in self.executor.collect_subfields(named, fields).grouped_field_set.items():
            name = sub[0].node.name.value
            if name in ("__typename", "totalCount", "pageInfo"):
                continue
            if name == "nodes":
                found = self.node_columns(get_named_type(named.fields[name].type), sub, batch.table)
            elif name == "edges":
                edge = get_named_type(named.fields[name].type)
                found = ()
                for _, edge_fields in self.executor.collect_subfields(edge, sub).grouped_field_set.items():
                    if edge_fields[0].node.name.value == "node":
                        node_found = self.node_columns(
                            get_named_type(edge.fields["node"].type), edge_fields, batch.table
                        )
                        if node_found is None:
                            return None
                        found = (*found, *node_found)
            else:
                return None
            if found is None:
                return None
            wanted.update(found)
        return tuple(sorted(wanted))

    def node_columns(self, object_type: Any, fields: list, table: Any) -> tuple[str, ...] | None:
        if not isinstance(object_type, GraphQLObjectType):
            return None
        wanted: set[str] = set()
        for sub in self.executor.collect_subfields(object_type, fields).grouped_field_set.values():
            name = sub[0].node.name.value
            if name == "__typename":
                continue
            definition = (object_type.fields[name].extensions or {}).get("strawberry-definition")
            if definition is None:
                return None
            if definition.base_resolver is None:
                if definition.python_name not in table.c:
                    return None
                wanted.add(definition.python_name)
            else:
                needed = getattr(definition.base_resolver.wrapped_func, "_needs", None)
                if needed is None:
                    return None
                wanted.update(needed)
        return tuple(sorted(wanted))

    async def batched(
        self, batch: Batch, kwargs: dict[str, Any], parents: list[Any], columns: tuple[str, ...] | None
    ) -> list:
        cls = node_class(batch.target)
        loader = batch.loader(self.context, kwargs)
        keys = [p.__dict__[batch.key] for p in parents]
        wanted = [k for k in dict.fromkeys(keys) if k is not None]
        # The whole level is one batch already: fetch it without a future per key, and only the
        # columns this selection reads.
        loaded = await loader.fetch(wanted, columns) if wanted else []
        if batch.kind == "one":
            objects = dict(
                zip(
                    (k for k, row in zip(wanted, loaded) if row is not None),
                    cls.from_rows(row for row in loaded if row is not None),
                )
            )
            return [objects.get(k) for k in keys]
        found = dict(zip(wanted, loaded))
        rows = next((r for group in loaded for r in (group.rows if batch.kind == "pages" else group)), None)
        fields = rows._fields if rows is not None else None
        if batch.kind == "many":
            return [cls.from_rows(found[k], fields) for k in keys]
        for page in loaded:
            page.fields = fields
        from gql.schema.base import Connection

        return [Connection(page=found[k], node_type=cls) for k in keys]

    def complete_leaves(self, return_type: Any, values: list) -> list:
        non_null = isinstance(return_type, GraphQLNonNull)
        leaf = return_type.of_type if non_null else return_type
        if isinstance(leaf, GraphQLList):
            if non_null and any(v is None for v in values):
                raise Unsupported("null in a non-null field")
            return [None if v is None else self.complete_leaves(leaf.of_type, list(v)) for v in values]
        serialize = leaf.serialize
        native = _NATIVE.get(leaf.name)
        result = []
        for v in values:
            if v is None:
                if non_null:
                    raise Unsupported("null in a non-null field")
                result.append(None)
            elif type(v) is native:
                result.append(v)
            else:
                s = serialize(v)
                if s is None:
                    raise Unsupported("value that does not serialize")
                result.append(s)
        return result

    async def complete(self, return_type: Any, fields: list, values: list) -> list:
        if isinstance(return_type, GraphQLNonNull):
            if any(v is None for v in values):
                raise Unsupported("null in a non-null field")
            return await self.complete(return_type.of_type, fields, values)
        if isinstance(return_type, GraphQLLeafType):
            return self.complete_leaves(return_type, values)
        if isinstance(return_type, GraphQLList):
            flat, sizes = [], []
            for v in values:
                if v is None:
                    sizes.append(None)
                else:
                    items = list(v)
                    sizes.append(len(items))
                    flat += items
            done = await self.complete(return_type.of_type, fields, flat)
            out, at = [], 0
            for size in sizes:
                if size is None:
                    out.append(None)
                else:
                    out.append(done[at : at + size])
                    at += size
            return out
        present = [i for i, v in enumerate(values) if v is not None]
        out: list = [None] * len(values)
        if not present:
            return out
        if isinstance(return_type, GraphQLAbstractType):
            groups: dict[str, list[int]] = {}
            for i in present:
                definition = getattr(type(values[i]), "__strawberry_definition__", None)
                if definition is None:
                    raise Unsupported("object of an unknown type")
                groups.setdefault(definition.name, []).append(i)
            for type_name, indexes in groups.items():
                runtime = self.owner.schema.get_type(type_name)
                done = await self.objects(runtime, fields, [values[i] for i in indexes])
                for i, d in zip(indexes, done):
                    out[i] = d
            return out
        done = await self.objects(return_type, fields, [values[i] for i in present])
        for i, d in zip(present, done):
            out[i] = d
        return out

    async def objects(self, object_type: GraphQLObjectType, fields: list, objects: list) -> list[dict]:
        grouped = self.executor.collect_subfields(object_type, fields).grouped_field_set
        return await self.selection(object_type, objects, grouped)


async def _all(awaitables: Any) -> list:
    """Run concurrently (so loader calls share batches); the first failure cancels the rest."""
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(a) for a in awaitables]
    return [t.result() for t in tasks]


# Values of these Python types are already what these scalars serialise to.
_NATIVE: dict[str, type] = {"String": str, "ID": str, "Boolean": bool}


def _is_leaf(return_type: Any) -> bool:
    while isinstance(return_type, (GraphQLNonNull, GraphQLList)):
        return_type = return_type.of_type
    return isinstance(return_type, GraphQLLeafType)
