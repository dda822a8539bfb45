"""Limits that refuse hostile queries before anything runs: document size and tokens, depth, aliases,
root fields, page sizes and cost, plus a time limit per request and switches for introspection and
field suggestions. Every limit has a safe default and an environment variable."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

from gql.schema.base import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE


@dataclass(frozen=True)
class Limits:
    """Each field's environment variable is SALESGRAPH_ plus its name in capitals."""

    max_document_bytes: int = 32_768  # the query text
    max_tokens: int = 15_000  # as Apollo Router's parser_max_tokens
    max_depth: int = 15  # nested selections (GraphiQL's introspection query needs 13)
    max_aliases: int = 30  # aliased fields in the whole document
    max_root_fields: int = 20  # fields at the operation's top level
    max_cost: int = 500_000  # items the query may return at most (see `cost`; GitHub's node limit)
    max_page: int = MAX_PAGE_SIZE  # `first` / `last`
    list_size: int = 5  # assumed length of a plain list (quotes, items, reps…) for the cost
    timeout_seconds: float = 10.0  # wall time of one request's execution
    introspection: bool = True  # `__schema` / `__type`; switch off in production if you like
    suggestions: bool = True  # "Did you mean …?" in validation errors

    @classmethod
    def from_env(cls) -> Limits:
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get(f"SALESGRAPH_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            try:
                if f.type == "bool":
                    lowered = raw.strip().lower()
                    if lowered not in ("on", "off", "true", "false", "1", "0", "yes", "no"):
                        raise ValueError(raw)
                    values[f.name] = lowered in ("on", "true", "1", "yes")
                else:
                    values[f.name] = float(raw) if f.type == "float" else int(raw)
            except ValueError:
                raise SystemExit(f"SALESGRAPH_{f.name.upper()}={raw!r} is not a valid {f.type}") from None
        return cls(**values)


class LimitExceeded(Exception):
    """A query refused by a limit: a 400 with `code` and a message that names the limit and its setting."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def check_text(query: str, limits: Limits) -> None:
    size = len(query.encode("utf-8", "surrogatepass"))
    if size > limits.max_document_bytes:
        raise LimitExceeded(
            "DOCUMENT_TOO_LARGE",
            f"the query is {size} bytes; at most {limits.max_document_bytes} "
            "are accepted (SALESGRAPH_MAX_DOCUMENT_BYTES)",
        )


def check_shape(document: DocumentNode, operation: OperationDefinitionNode, limits: Limits) -> None:
    """Depth, aliases and root fields of a valid document's operation (fragments expanded)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    roots = _fields(operation.selection_set, fragments, set())
    if len(roots) > limits.max_root_fields:
        raise LimitExceeded(
            "TOO_MANY_ROOT_FIELDS",
            f"the operation asks for {len(roots)} top-level fields; at most "
            f"{limits.max_root_fields} are accepted "
            "(SALESGRAPH_MAX_ROOT_FIELDS)",
        )
    aliases = 0
    stack: list[tuple[SelectionSetNode, int]] = [(operation.selection_set, 1)]
    while stack:
        selection_set, depth = stack.pop()
        for field in _fields(selection_set, fragments, set()):
            if field.alias is not None:
                aliases += 1
                if aliases > limits.max_aliases:
                    raise LimitExceeded(
                        "TOO_MANY_ALIASES",
                        f"the operation uses more than {limits.max_aliases} aliases (SALESGRAPH_MAX_ALIASES)",
                    )
            if field.selection_set is not None:
                if depth + 1 > limits.max_depth:
                    raise LimitExceeded(
                        "QUERY_TOO_DEEP",
                        f"the operation nests deeper than {limits.max_depth} levels (SALESGRAPH_MAX_DEPTH)",
                    )
                stack.append((field.selection_set, depth + 1))


def cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any] | None,
    limits: Limits,
) -> int:
    """How many items the operation may return at most, as GitHub counts nodes: a connection's page
    holds `first`/`last` items (default 20) for each parent item, a plain list `list_size`; single
    objects (an account, a Money) add nothing but carry their parent's count down. Refuses a page
    size over the cap on the way (with the variables' values)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    root = {"query": schema.query_type, "mutation": schema.mutation_type, "subscription": schema.subscription_type}[
        operation.operation.value
    ]
    variables = variables or {}
    total = 0
    # (selection set, its type, how many of that type's objects there may be, the page size if it is a connection)
    stack: list[tuple[SelectionSetNode, Any, int, int | None]] = [(operation.selection_set, root, 1, None)]
    while stack:
        selection_set, parent, multiplier, page_of_parent = stack.pop()
        for field, condition in _typed_fields(selection_set, fragments, set(), None):
            if field.selection_set is None:
                continue
            definition = _field_definition(schema.get_type(condition) if condition else parent, field.name.value)
            if definition is None:
                continue
            field_type = definition.type
            if isinstance(field_type, GraphQLNonNull):
                field_type = field_type.of_type
            named = get_named_type(field_type)
            if named.name.endswith("Connection"):
                count, page = multiplier, _page(field, variables, limits)
            elif isinstance(field_type, GraphQLList):
                # A connection's `nodes` / `edges` hold its page; any other list, `list_size` items.
                count, page = multiplier * (page_of_parent if page_of_parent is not None else limits.list_size), None
                total += count
            else:
                count, page = multiplier, None
            if total > limits.max_cost:
                raise LimitExceeded(
                    "QUERY_TOO_COSTLY",
                    f"the operation may return more than {limits.max_cost} items "
                    "(connections count their page size, other lists "
                    f"{limits.list_size}); ask for smaller pages or fewer levels "
                    "(SALESGRAPH_MAX_COST)",
                )
            stack.append((field.selection_set, named, count, page))
    return total


def _page(field: FieldNode, variables: dict[str, Any], limits: Limits) -> int:
    """The page size a connection field asks for."""
    found: int | None = None
    for argument in field.arguments or ():
        if argument.name.value not in ("first", "last"):
            continue
        value: Any = None
        if isinstance(argument.value, IntValueNode):
            value = int(argument.value.value)
        elif isinstance(argument.value, VariableNode):
            value = variables.get(argument.value.name.value)
        if isinstance(value, int) and not isinstance(value, bool):
            if value > limits.max_page:
                raise LimitExceeded(
                    "INVALID_PAGE",
                    f"`{argument.name.value}: {value}` on `{field.name.value}`: a page "
                    f"holds between 0 and {limits.max_page} items",
                )
            found = max(found or 0, value)
    return DEFAULT_PAGE_SIZE if found is None else found


def _field_definition(parent: Any, name: str) -> Any:
    """The field of an object or interface type (unions and leaves have none)."""
    if hasattr(parent, "fields"):
        return parent.fields.get(name)
    return None


def _fields(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], visiting: set[str]
) -> list[FieldNode]:
    """The fields of a selection set with fragments spread (each named fragment once per path)."""
    return [field for field, _ in _typed_fields(selection_set, fragments, visiting, None)]


def _typed_fields(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], visiting: set[str], on: str | None
) -> list[tuple[FieldNode, str | None]]:
    """Like `_fields`, with the type condition each field was selected under (None: the parent's type)."""
    found: list[tuple[FieldNode, str | None]] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            found.append((selection, on))
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else on
            found.extend(_typed_fields(selection.selection_set, fragments, visiting, condition))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in visiting or name not in fragments:
                continue
            visiting.add(name)
            fragment = fragments[name]
            found.extend(_typed_fields(fragment.selection_set, fragments, visiting, fragment.type_condition.name.value))
    return found
