"""Limits that refuse hostile queries before anything runs: document size and tokens, repeated fields,
validation work, depth, aliases, root fields, page sizes and cost, plus a time limit per request and
switches for introspection and field suggestions. Every limit has a safe default and an environment
variable.

Every check here runs before the token is looked up, so a caller without a token can make the server
do it: each one's work is bounded by the size of the document (which `check_text` and `check_tokens`
cap before it is parsed). Fragments are summarised once per document, however often they are spread,
and the `Work` counters say how much each check did, so tests can hold them to that bound."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    OverlappingFieldsCanBeMergedRule,
    ParallelVisitor,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    TypeMetaFieldDef,
    ValidationContext,
    VariableNode,
    Visitor,
    get_argument_values,
    get_named_type,
    get_variable_values,
    parse,
    specified_rules,
    visit,
)
from graphql.execution.values import VariableValues
from graphql.validation import ASTValidationRule
from graphql.validation.validate import (
    FragmentNestingVisitor,
    ValidationAbortedError,
    query_document_keys_to_validate,
)
from graphql.validation.validation_context import VariableUsage, VariableUsageVisitor

from gql.schema.base import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

PAGING = ("first", "last")


@dataclass(frozen=True)
class Limits:
    """Each field's environment variable is SALESGRAPH_ plus its name in capitals."""

    max_document_bytes: int = 32_768  # the query text
    max_tokens: int = 2_000  # parser tokens (comments included); counted before the document is parsed
    max_field_repeats: int = 30  # selections of one response name (or fragment spreads) in one selection set
    max_field_comparisons: int = 10_000  # graphql-core's overlapping-fields validation budget
    max_depth: int = 15  # nested selections (GraphiQL's introspection query needs 13)
    max_aliases: int = 30  # aliased fields in the whole document
    max_root_fields: int = 20  # fields at the operation's top level
    max_cost: int = 500_000  # items the query may return at most (see `cost`; GitHub's node limit)
    max_page: int = MAX_PAGE_SIZE  # `first` / `last`
    list_size: int = 5  # assumed length of a plain list (quotes, items, reps…) for the cost
    timeout_seconds: float = 10.0  # wall time of one request's execution
    introspection: bool = True  # `__schema` / `__type`; switch off in production if you like
    suggestions: bool = True  # "Did you mean …?" in validation errors
    document_cache_bytes: int = 64 << 20  # estimated memory of the parsed documents kept per process

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


@dataclass
class Work:
    """What the checks did, summed over the documents they checked: each count is bounded by the size
    of those documents (tests read these to hold the checks to that)."""

    parsed: int = 0  # documents parsed (not found in the cache of validated documents)
    validated: int = 0  # documents that reached graphql-core's validation
    scanned: int = 0  # selections visited by the repeated-field scan before validation
    comparisons: int = 0  # units of graphql-core's overlapping-fields budget spent
    shape: int = 0  # selections visited by `check_shape`
    cost: int = 0  # selections visited by `cost`
    fragment_expansions: int = 0  # fragment summaries computed by `check_shape` and `cost`


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


# The lexer's tokens as one regular expression: counting them is C work (about 1 ms for 32 KiB), where
# graphql-core's lexer takes 5 µs a token. Every alternative is possessive and an unterminated string
# runs to the end of its line (block string: of the document), so no input makes it backtrack; for a
# document that lexes, the count is the parser's (`max_tokens` counts comments too).
_TOKEN = re.compile(
    r'"""(?:[^"\\]|\\"""|\\|"(?!""))*+(?:"""|\Z)'
    r'|"(?:[^"\\\n\r]|\\[^\n\r])*+(?:"|(?=[\n\r])|\Z)'
    r"|#[^\n\r]*+"
    r"|\.\.\."
    r"|[!$&()\[\]{}:=@|]"
    r"|-?[0-9]++(?:\.[0-9]++)?+(?:[eE][+-]?+[0-9]++)?+"
    r"|[_A-Za-z][_0-9A-Za-z]*+",
)


def count_tokens(query: str, stop: int) -> int:
    """The parser's token count of `query`, or `stop` once it reaches that."""
    count = 0
    for _ in _TOKEN.finditer(query):
        count += 1
        if count >= stop:
            break
    return count


def check_tokens(query: str, limits: Limits, count: int | None = None) -> None:
    """Refuses, before it is parsed, a document the parser's token limit would refuse (`count`: its
    `count_tokens` up to `max_tokens + 1`, if known)."""
    if count is None:
        count = count_tokens(query, limits.max_tokens + 1)
    if count > limits.max_tokens:
        raise LimitExceeded(
            "TOO_MANY_TOKENS",
            f"the query has more than {limits.max_tokens} tokens; at most {limits.max_tokens} are accepted "
            "(SALESGRAPH_MAX_TOKENS)",
        )


@dataclass(frozen=True)
class Checked:
    """A document that parsed and validated, with what the per-request checks need from it."""

    document: DocumentNode
    tokens: int
    page_variables: frozenset[str]  # variables that `first` / `last` arguments take their value from
    # The cost of each operation that passed the shape and cost checks, per values of its page variables:
    # a document sent again with the same page sizes is not walked again (`pipeline.Pipeline._admit`).
    costs: dict[Any, int] = field(default_factory=dict, compare=False)
    # The scopes each operation needs, by operation name (`scopes.needed`): they depend on the document
    # alone, so each request only tests its token's scopes against them (`pipeline.Pipeline._admit`).
    scopes: dict[str | None, tuple[tuple[str, str], ...]] = field(default_factory=dict, compare=False)


def check_document(
    schema: GraphQLSchema, query: str, limits: Limits, work: Work | None = None, tokens: int | None = None
) -> tuple[Checked | None, list[GraphQLError]]:
    """Parse and validate a document within the limits: a LimitExceeded for a document beyond them,
    the GraphQL errors of one that does not parse or validate, or the checked document. The work is
    bounded by the document's size: its bytes and tokens are counted before it is parsed, repeated
    fields before it is validated, and the one validation rule whose work can grow faster than the
    document (overlapping fields) runs within `max_field_comparisons`. `tokens`: the document's
    `count_tokens` up to `max_tokens + 1`, if the caller counted them already."""
    parsed = parse_document(query, limits, work, tokens)
    if isinstance(parsed, list):
        return None, parsed
    errors = validate_document(schema, parsed.document, limits, work)
    return (None, errors) if errors else (parsed, [])


def parse_document(
    query: str, limits: Limits, work: Work | None = None, tokens: int | None = None
) -> Checked | list[GraphQLError]:
    """The first half of `check_document`: the document parsed (not validated yet) and scanned for
    repeated fields, or its syntax error."""
    work = work if work is not None else Work()
    check_text(query, limits)
    check_tokens(query, limits, tokens)
    work.parsed += 1
    try:
        document = parse(query, max_tokens=limits.max_tokens)
    except GraphQLError as error:
        return [error]
    _unchain_tokens(document)
    page_variables = _scan(document, limits, work)
    return Checked(document, getattr(document, "token_count", 0), frozenset(page_variables))


def validate_document(
    schema: GraphQLSchema, document: DocumentNode, limits: Limits, work: Work | None = None
) -> list[GraphQLError]:
    """The second half of `check_document`: graphql-core's validation, its overlapping-fields rule
    within `max_field_comparisons` (a LimitExceeded beyond)."""
    work = work if work is not None else Work()
    rules: list[type[ASTValidationRule]] = [
        _BoundedOverlappingFields if r is OverlappingFieldsCanBeMergedRule else r for r in specified_rules
    ]
    if not limits.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    work.validated += 1
    errors, spent = _validate(schema, document, rules, limits)
    work.comparisons += spent
    if spent > limits.max_field_comparisons:
        raise LimitExceeded(
            "DOCUMENT_TOO_COMPLEX",
            "validating the query compares more fields of the same name than "
            f"{limits.max_field_comparisons} allow (SALESGRAPH_MAX_FIELD_COMPARISONS): select each field "
            "once per selection set, or use fewer fragments",
        )
    return errors


def _unchain_tokens(document: DocumentNode) -> None:
    """Unlinks the parser's tokens from each other. Each token points to the one before and the one
    after it, so a document's tokens form reference cycles that only the cyclic garbage collector can
    free; a document dropped (refused, or out of the cache) then leaves thousands of objects to it,
    and its collections pause every request (issue 13: the normal client's p99 under the hostile
    corpus). Nothing reads the chain after parsing: error locations come from each node's own
    start and end token and the source."""
    token = document.loc.start_token if document.loc else None
    while token is not None:
        following = token.next
        token.prev = token.next = None
        token = following


def _validate(
    schema: GraphQLSchema, document: DocumentNode, rules: list[type[ASTValidationRule]], limits: Limits
) -> tuple[list[GraphQLError], int]:
    """graphql-core's `validate` (3.3), less its reference cycles: every visitor keeps its bound
    methods (and the parallel visitor its closures over itself) in its `enter_leave_map`, so each
    validation left 1,000-4,000 objects to the cyclic collector. The same visit, with those maps
    emptied afterwards so that reference counting frees the visitors at once. Also returns the
    field comparisons the overlapping-fields rule spent (more than its budget: it aborted)."""
    errors: list[GraphQLError] = []

    def on_error(error: GraphQLError) -> None:
        if len(errors) >= 100:
            raise ValidationAbortedError("Too many validation errors, error limit reached. Validation aborted.")
        errors.append(error)

    type_info = TypeInfo(schema)
    context = _AcyclicValidationContext(schema, document, type_info, on_error, not limits.suggestions)
    context.comparison_budget = limits.max_field_comparisons
    visitors: list[Visitor] = [rule(context) for rule in rules]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    if fragments:
        visitors.insert(0, FragmentNestingVisitor(fragments))
    parallel = ParallelVisitor(visitors)
    outer = TypeInfoVisitor(type_info, parallel)
    try:
        visit(document, outer, query_document_keys_to_validate)
    except ValidationAbortedError as error:
        error.__context__ = None
        errors.append(error.with_traceback(None))
    except RecursionError:
        errors.append(ValidationAbortedError("Validation aborted."))
    finally:
        for visitor in (*visitors, parallel, outer):
            visitor.enter_leave_map.clear()
    spent = sum(v.spent() for v in visitors if isinstance(v, _BoundedOverlappingFields))
    return errors, spent


class _AcyclicValidationContext(ValidationContext):
    """graphql-core's context, whose variable usages are found by a visit that leaves no cycles (as
    in `_validate`), and which carries the overlapping-fields rule's budget."""

    comparison_budget = 0

    def get_variable_usages(self, node: Any) -> list[VariableUsage]:
        usages = self._variable_usages.get(node)
        if usages is None:
            fragment = node if isinstance(node, FragmentDefinitionNode) else None
            finder = VariableUsageVisitor(self._type_info, fragment)
            outer = TypeInfoVisitor(self._type_info, finder)
            try:
                visit(node, outer)
            finally:
                finder.enter_leave_map.clear()
                outer.enter_leave_map.clear()
            usages = self._variable_usages[node] = finder.usages
        return usages


class _BoundedOverlappingFields(OverlappingFieldsCanBeMergedRule):
    """graphql-core's rule with its work budget set per validation from the context (rather than for
    the whole process through the module's MAX_COMPLEXITY_BUDGET). A budget spent aborts the
    validation."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.budget = getattr(context, "comparison_budget", 0)
        self.rule_context.remaining_complexity_budget = self.budget

    def spent(self) -> int:
        """What this validation spent: more than the budget when it was aborted."""
        return self.budget - self.rule_context.remaining_complexity_budget


def _scan(document: DocumentNode, limits: Limits, work: Work) -> set[str]:
    """Before validation, in one pass over the document's selections: refuses a response name selected
    more than `max_field_repeats` times in one selection set (inline fragments merge into it, as
    validation and execution merge them), or more fragments spread there, as validation compares each
    pair of them; returns the variables that `first` / `last` take their value from."""
    page_variables: set[str] = set()
    stack: list[SelectionSetNode] = [
        d.selection_set for d in document.definitions if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    while stack:
        counts: dict[str, int] = {}
        spreads = 0
        level = [stack.pop()]
        while level:
            for selection in level.pop().selections:
                work.scanned += 1
                if isinstance(selection, InlineFragmentNode):
                    level.append(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    spreads += 1
                    if spreads > limits.max_field_repeats:
                        raise LimitExceeded(
                            "TOO_MANY_REPEATED_FIELDS",
                            f"more than {limits.max_field_repeats} fragments are spread in one selection set "
                            "(SALESGRAPH_MAX_FIELD_REPEATS); merge some of them",
                        )
                elif isinstance(selection, FieldNode):
                    name = (selection.alias or selection.name).value
                    counts[name] = repeats = counts.get(name, 0) + 1
                    if repeats > limits.max_field_repeats:
                        raise LimitExceeded(
                            "TOO_MANY_REPEATED_FIELDS",
                            f"`{name}` is selected more than {limits.max_field_repeats} times in one selection "
                            "set (SALESGRAPH_MAX_FIELD_REPEATS); select it once",
                        )
                    for argument in selection.arguments or ():
                        if argument.name.value in PAGING and isinstance(argument.value, VariableNode):
                            page_variables.add(argument.value.name.value)
                    if selection.selection_set is not None:
                        stack.append(selection.selection_set)
    return page_variables


class _Summaries:
    """A walk over an operation's selections that summarises each fragment once per document, however
    often it is spread (a cycle, which validation refuses, and an unknown fragment add nothing). A
    class rather than recursive closures: those form reference cycles, left to the cyclic collector
    on every request."""

    def __init__(self, document: DocumentNode, work: Work) -> None:
        self.fragments, self.work = _fragments(document), work
        self.summaries: dict[str, tuple[int, int]] = {}

    def fragment(self, name: str) -> tuple[int, int]:
        found = self.summaries.get(name)
        if found is None:
            self.summaries[name] = (0, 0)
            definition = self.fragments.get(name)
            self.work.fragment_expansions += 1
            found = self.summaries[name] = self.of_fragment(definition) if definition is not None else (0, 0)
        return found

    def of_fragment(self, definition: FragmentDefinitionNode) -> tuple[int, int]:
        raise NotImplementedError


class _Shape(_Summaries):
    """Each selection set's levels (itself included) and its aliases (at most `cap`)."""

    def __init__(self, document: DocumentNode, work: Work, cap: int) -> None:
        super().__init__(document, work)
        self.cap = cap

    def of_fragment(self, definition: FragmentDefinitionNode) -> tuple[int, int]:
        return self.summary(definition.selection_set)

    def summary(self, selection_set: SelectionSetNode) -> tuple[int, int]:
        levels, aliases = 1, 0
        for selection in selection_set.selections:
            self.work.shape += 1
            if isinstance(selection, FieldNode):
                if selection.alias is not None:
                    aliases += 1
                if selection.selection_set is not None:
                    below, more = self.summary(selection.selection_set)
                    levels, aliases = max(levels, below + 1), aliases + more
            elif isinstance(selection, InlineFragmentNode):
                same, more = self.summary(selection.selection_set)
                levels, aliases = max(levels, same), aliases + more
            elif isinstance(selection, FragmentSpreadNode):
                same, more = self.fragment(selection.name.value)
                levels, aliases = max(levels, same), aliases + more
            aliases = min(aliases, self.cap)
        return levels, aliases


def check_shape(
    document: DocumentNode, operation: OperationDefinitionNode, limits: Limits, work: Work | None = None
) -> None:
    """Depth, aliases and root fields of a valid document's operation, fragments included: each
    fragment is summarised once (its depth and aliases), however often it is spread."""
    work = work if work is not None else Work()
    shape = _Shape(document, work, limits.max_aliases + 1)
    roots = _root_fields(operation.selection_set, shape.fragments, work)
    if roots > limits.max_root_fields:
        raise LimitExceeded(
            "TOO_MANY_ROOT_FIELDS",
            f"the operation asks for {roots} top-level fields; at most "
            f"{limits.max_root_fields} are accepted "
            "(SALESGRAPH_MAX_ROOT_FIELDS)",
        )
    levels, aliases = shape.summary(operation.selection_set)
    if aliases > limits.max_aliases:
        raise LimitExceeded(
            "TOO_MANY_ALIASES",
            f"the operation uses more than {limits.max_aliases} aliases (SALESGRAPH_MAX_ALIASES)",
        )
    if levels > limits.max_depth:
        raise LimitExceeded(
            "QUERY_TOO_DEEP",
            f"the operation nests deeper than {limits.max_depth} levels (SALESGRAPH_MAX_DEPTH)",
        )


def coerce_page_variables(
    schema: GraphQLSchema, operation: OperationDefinitionNode, checked: Checked, variables: dict[str, Any] | None
) -> VariableValues | list[GraphQLError]:
    """The values the executor will give the variables that page sizes take (graphql-core's own
    coercion: defaults applied, `100.0` an Int 100), or the request errors it would answer with. Only
    those variables: the others cannot change the cost, and are coerced by the executor."""
    definitions = [d for d in operation.variable_definitions or () if d.variable.name.value in checked.page_variables]
    return get_variable_values(schema, definitions, variables or {}, max_errors=50)


class _Cost(_Summaries):
    """A selection set's items for one parent item, as `(a, b)`: `a + b * page` (see `cost`)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: VariableValues | None,
        limits: Limits,
        work: Work,
    ) -> None:
        super().__init__(document, work)
        self.schema, self.variables, self.limits = schema, variables, limits
        self.cap = limits.max_cost + 1

    def of_fragment(self, definition: FragmentDefinitionNode) -> tuple[int, int]:
        return self.summary(definition.selection_set, self.schema.get_type(definition.type_condition.name.value))

    def items(self, selection_set: SelectionSetNode, parent: Any) -> int:
        a, b = self.summary(selection_set, parent)
        return min(a + b * self.limits.list_size, self.cap)

    def summary(self, selection_set: SelectionSetNode, parent: Any) -> tuple[int, int]:
        a = b = 0
        for selection in selection_set.selections:
            self.work.cost += 1
            if isinstance(selection, FieldNode):
                if selection.selection_set is None:
                    continue
                definition = _field_definition(self.schema, parent, selection.name.value)
                if definition is None:
                    continue
                field_type = definition.type
                if isinstance(field_type, GraphQLNonNull):
                    field_type = field_type.of_type
                named = get_named_type(field_type)
                if named.name.endswith("Connection"):
                    page = _page(selection, definition, self.variables, self.limits)
                    below, per_page = self.summary(selection.selection_set, named)
                    a += below + per_page * page
                elif isinstance(field_type, GraphQLList):
                    # A connection's `nodes` / `edges` hold its page (b); any other list, `list_size` items.
                    b += 1 + self.items(selection.selection_set, named)
                else:
                    a += self.items(selection.selection_set, named)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                more_a, more_b = self.summary(
                    selection.selection_set, self.schema.get_type(condition.name.value) if condition else parent
                )
                a, b = a + more_a, b + more_b
            elif isinstance(selection, FragmentSpreadNode):
                more_a, more_b = self.fragment(selection.name.value)
                a, b = a + more_a, b + more_b
            a, b = min(a, self.cap), min(b, self.cap)
        return a, b


def cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: VariableValues | None,
    limits: Limits,
    work: Work | None = None,
) -> int:
    """How many items the operation may return at most, as GitHub counts nodes: a connection's page
    holds `first`/`last` items (default 20) for each parent item, a plain list `list_size`; single
    objects (an account, a Money) add nothing but carry their parent's count down. Introspection
    fields count like any other. Refuses a page size out of range on the way, with the value the
    executor will use (`variables` from `coerce_page_variables`).

    Each fragment is summarised once: the items a selection set may return, for one parent item,
    are `a + b * page`, where `page` is the page of the connection it selects from (or `list_size`),
    so a fragment's (a, b) does not depend on where it is spread. Both saturate just above
    `max_cost`, so the numbers stay small however the fragments multiply."""
    work = work if work is not None else Work()
    root = {"query": schema.query_type, "mutation": schema.mutation_type, "subscription": schema.subscription_type}[
        operation.operation.value
    ]
    total = _Cost(schema, document, variables, limits, work).items(operation.selection_set, root)
    if total > limits.max_cost:
        raise LimitExceeded(
            "QUERY_TOO_COSTLY",
            f"the operation may return more than {limits.max_cost} items "
            "(connections count their page size, other lists "
            f"{limits.list_size}); ask for smaller pages or fewer levels "
            "(SALESGRAPH_MAX_COST)",
        )
    return total


def _page(field: FieldNode, definition: GraphQLField, variables: VariableValues | None, limits: Limits) -> int:
    """The page size a connection field asks for, as the executor will coerce its arguments."""
    paging = {name: argument for name, argument in definition.args.items() if name in PAGING}
    if not paging:
        return DEFAULT_PAGE_SIZE
    node = FieldNode(name=field.name, arguments=tuple(a for a in field.arguments or () if a.name.value in paging))
    values = get_argument_values(GraphQLField(definition.type, paging), node, variables)
    found: int | None = None
    for name, argument in paging.items():
        value = values.get(argument.out_name or name)
        if value is None:
            continue
        if not 0 <= value <= limits.max_page:
            raise LimitExceeded(
                "INVALID_PAGE",
                f"`{name}: {value}` on `{field.name.value}`: a page holds between 0 and {limits.max_page} items",
            )
        found = max(found or 0, value)
    return DEFAULT_PAGE_SIZE if found is None else found


def _field_definition(schema: GraphQLSchema, parent: Any, name: str) -> GraphQLField | None:
    """The field of an object or interface type (unions and leaves have none), introspection's included."""
    if name.startswith("__") and parent is schema.query_type:
        if name == "__schema":
            return SchemaMetaFieldDef
        if name == "__type":
            return TypeMetaFieldDef
    if hasattr(parent, "fields"):
        return parent.fields.get(name)
    return None


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _root_fields(selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], work: Work) -> int:
    """The fields at the top of an operation, fragments spread there included (each fragment once)."""
    count, seen = 0, set()
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            work.shape += 1
            if isinstance(selection, FieldNode):
                count += 1
            elif isinstance(selection, InlineFragmentNode):
                stack.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    stack.append(fragments[name].selection_set)
    return count
