"""Mutations as declarations: clean → perform → payload, written once.

`mutation(workflow, Input, Payload, errors)("description")` is a whole GraphQL mutation. It maps the input to
the workflow's command by field name, decodes global ids and turns unsent fields into the domain's UNSET
*before* a unit of work opens, runs the workflow as the caller, and answers with the payload or the typed
error. The result union lists the payload and exactly the errors declared (plus ValidationError, which the
cleaning step itself raises), and the declaration is checked when the module is imported: an input field
that maps to nothing, or a required command field that nothing fills, is a TypeError at start-up, not a
bug in production."""

from __future__ import annotations

import dataclasses
import enum
import inspect
import logging
import types
import typing
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, Union

import strawberry
from graphql import GraphQLError
from sqlalchemy.exc import DataError
from strawberry.types import Info

from domain import errors as domain_errors
from domain.commands import UNSET, camel
from gql import ids as global_ids
from gql.auth import CREDENTIAL_ENTITIES
from gql.context import Context
from gql.resolvers.loaders import RowsByIdLoader
from gql.schema.base import Node
from gql.schema.errors import ERROR_TYPES, UserError, to_user_error
from gql.schema.inputs import BOUND, GLOBAL_ID, in_words, unnamed
from gql.schema.nodes import TABLES
from persistence.uow import SqlUnitOfWork

log = logging.getLogger("salesgraph.mutations")

INPUT = "What to do; see the input type."

Workflow = Callable[..., Awaitable[Any]]
Ports = Callable[[Context], tuple[Any, ...]]


def decode_id(value: Any, expected: str | tuple[str, ...], field: str) -> int:
    """The primary key behind a global id of the expected type; a ValidationError on `field` otherwise."""
    try:
        return global_ids.decode_as(str(value), expected)
    except GraphQLError as error:
        raise domain_errors.ValidationError(field, error.message) from None


def decode_optional(value: Any, expected: str | tuple[str, ...], field: str) -> int | None:
    """`decode_id` of an id that may be null."""
    return None if value is None else decode_id(value, expected, field)


def decode_any(value: Any, field: str) -> tuple[str, int]:
    """The type and primary key behind a global id of any type (the workflow checks the type); a ValidationError
    on `field` when it is no global id."""
    try:
        return global_ids.decode(str(value))
    except GraphQLError as error:
        raise domain_errors.ValidationError(field, error.message) from None


# --- payloads ---


Written = frozenset[tuple[str, int]]  # (table name, key) of each row a mutation wrote: `SqlUnitOfWork.written`


async def payload_node(info: Info, node_type: type[Node], pk: int | None, written: Written) -> Any:
    """A node a payload carries, as it is now (after the commit). A row the mutation wrote is shown to the
    caller who was just allowed to write it, even when the change takes it out of the caller's sight (a rep
    creating an opportunity for a colleague, a lead routed away): the row a mutation wrote stays visible to
    its writer. Any other row is read with the caller's rules, as `node` would read it: null when hidden
    (so a payload field that can name another row is nullable). What a node points to is read with the
    caller's rules as usual."""
    if pk is None:
        return None
    return (await payload_nodes(info, node_type, [pk], written, keep_hidden=True))[0]


async def payload_nodes(
    info: Info, node_type: type[Node], pks: list[int], written: Written, keep_hidden: bool = False
) -> list[Any]:
    """Several nodes of one type, each read as `payload_node` reads it, in two statements at most; a list
    leaves out the rows the caller may not see (`keep_hidden`: None in their place)."""
    context: Context = info.context
    table = TABLES[node_type.graphql_type]
    own = [pk for pk in pks if (table.name, pk) in written]
    others = [pk for pk in pks if (table.name, pk) not in written]
    rows: dict[int, Any] = {}
    if own:
        loader = context.loader(("written", table.name), lambda: RowsByIdLoader(context.reads, table))
        rows.update(zip(own, await loader.load_many(own), strict=True))
    if others:
        rows.update(zip(others, await context.by_id(table).load_many(others), strict=True))
    found = [node_type.from_row(rows[pk]) for pk in pks]
    return found if keep_hidden else [node for node in found if node is not None]


def _node_type(annotation: Any) -> type[Node] | None:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, Node):
            if candidate.graphql_type not in TABLES:
                raise TypeError(
                    f"{candidate.graphql_type} has no table in gql/schema/nodes.py: a payload cannot load it"
                )
            return candidate
        if typing.get_origin(candidate) is list:
            return _node_type(typing.get_args(candidate)[0])
    return None


def _is_list(annotation: Any) -> bool:
    return any(typing.get_origin(a) is list for a in (annotation, *typing.get_args(annotation)))


def _key(value: Any) -> int | None:
    return value if value is None or isinstance(value, int) else value.id


@dataclasses.dataclass(frozen=True)
class PayloadField:
    name: str
    node: type[Node] | None
    many: bool = False  # a list of nodes


class Payload:
    """Builds a payload type from a workflow's outcome. A node field takes, in this order: the outcome
    itself when it is that kind of entity (or the only node field and the outcome an entity or key), the
    outcome's item at the field's position when the outcome is a tuple, or the outcome's attribute of the
    field's name (or `<name>_id`; a list of nodes `<name>` or `<singular>_ids`). Other fields take the
    outcome's attribute of their name, or the outcome itself when it is the payload's only field."""

    def __init__(self, type_: type) -> None:
        self.type = type_
        hints = typing.get_type_hints(type_, include_extras=False)
        self.fields = [
            PayloadField(f.python_name, _node_type(hints[f.python_name]), _is_list(hints[f.python_name]))
            for f in type_.__strawberry_definition__.fields
            if f.base_resolver is None
        ]
        self.single = sum(1 for f in self.fields if f.node) == 1
        self.only = len(self.fields) == 1

    def _source(self, field: PayloadField, position: int, outcome: Any) -> Any:
        if isinstance(outcome, tuple):
            return outcome[position]
        if field.node is not None and not field.many:
            if type(outcome).__name__ == field.node.graphql_type:
                return outcome
            if self.single and (
                outcome is None
                or isinstance(outcome, int)
                or not (hasattr(outcome, field.name) or hasattr(outcome, f"{field.name}_id"))
            ):
                return outcome
        if hasattr(outcome, field.name):
            return getattr(outcome, field.name)
        if field.many:
            return getattr(outcome, f"{field.name.removesuffix('s')}_ids")
        if field.node is None and self.only:
            return outcome
        return getattr(outcome, f"{field.name}_id")

    async def build(self, info: Info, outcome: Any, written: Written) -> Any:
        """The payload of `outcome`; `written`: the rows the mutation wrote (shown whatever the rules say)."""
        values = {}
        for position, field in enumerate(self.fields):
            values[field.name] = await self.value(info, field, position, outcome, written)
        return self.type(**values)

    async def value(self, info: Info, field: PayloadField, position: int, outcome: Any, written: Written) -> Any:
        source = self._source(field, position, outcome)
        if field.node is None:
            return source
        if field.many:
            return await payload_nodes(info, field.node, [_key(item) for item in source], written)
        return await payload_node(info, field.node, _key(source), written)


def payload_type(description: str, name: str | None = None, **fields: tuple[Any, str]) -> type:
    """A payload type: each field's type (a node, a list of nodes or a value) and description. Its name is
    `name`, by default that of its only field's type + `Payload` (a mutation's outcome: `AccountPayload`), else
    the name it is bound to in a mutation module (`inputs.unnamed`)."""
    hints = [hint for hint, _ in fields.values()]
    if name is None and len(hints) == 1 and hasattr(hints[0], "__strawberry_definition__"):
        name = hints[0].__strawberry_definition__.name + "Payload"
    namespace: dict[str, Any] = {"__annotations__": {}, "__module__": __name__}
    for field_name, (hint, text) in fields.items():
        namespace["__annotations__"][field_name] = hint
        namespace[field_name] = strawberry.field(description=text)
    made = strawberry.type(type(name or "UnnamedPayload", (), namespace), description=description)
    return made if name else unnamed(made)


def node_payload(node: type, **field: str) -> type:
    """The payload of a change to one node: `PriceBookPayload`, "The price book as it is after the change.",
    whose field `priceBook` is "The price book, with its new version." (or the one field given with its
    description: `node_payload(SalesActivity, activity="The activity.")`)."""
    words = in_words(getattr(node, "graphql_type", node.__name__))
    [(name, text)] = field.items() or [(words.replace(" ", "_"), f"The {words}, with its new version.")]
    return payload_type(f"The {words} as it is after the change.", **{name: (node, text)})


@strawberry.type(description="What a delete removed.")
class DeletedPayload:
    deleted_id: strawberry.ID = strawberry.field(description="The global id of the object that no longer exists.")


class Deleted(Payload):
    """The payload of a delete: the global id of what is gone (the outcome is its key or the entity) and the other
    fields of `payload`, if any, as `Payload` fills them (a removed unit's product: the outcome's `product_id`)."""

    def __init__(self, type_name: str, payload: type = DeletedPayload) -> None:
        super().__init__(payload)
        self.type_name = type_name

    async def value(self, info: Info, field: PayloadField, position: int, outcome: Any, written: Written) -> Any:
        if field.name == "deleted_id":
            return strawberry.ID(global_ids.encode(self.type_name, _key(outcome)))
        return await super().value(info, field, position, outcome, written)


# --- from input to command ---


def _enum_in(hint: Any) -> type[enum.Enum] | None:
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    for arg in typing.get_args(hint):
        found = _enum_in(arg)
        if found is not None:
            return found
    return None


def _nullable(hint: Any) -> bool:
    return hint is Any or type(None) in typing.get_args(hint)


@dataclasses.dataclass(frozen=True)
class FieldPlan:
    """How one input field becomes one command field."""

    source: str
    target: str
    graphql: str
    ids: str | tuple[str, ...] | None
    convert: Callable[[Any], Any] | None
    enum: type[enum.Enum] | None
    sequence: type | None
    nullable: bool
    clearable: bool  # None is a value; otherwise None means "left out" (create) or is refused (update)

    def clean(self, value: Any) -> Any:
        if value is strawberry.UNSET:
            return UNSET
        if value is None:
            if self.nullable:
                return None
            if not self.clearable:
                raise domain_errors.ValidationError(self.graphql, "cannot be cleared; leave it out to keep it")
            return UNSET
        if self.convert is not None:
            return self.convert(value)
        if isinstance(value, list):
            items = [self._one(item, f"{self.graphql}[{n}]") for n, item in enumerate(value)]
            return self.sequence(items) if self.sequence else items
        return self._one(value, self.graphql)

    def _one(self, value: Any, where: str) -> Any:
        if self.ids is not None:
            return decode_id(value, self.ids, self.graphql)
        if isinstance(value, enum.Enum) and self.enum is not None:
            return self.enum(value.value)
        to_domain = getattr(value, "to_domain", None)  # a nested input: `where` is its place, for its errors
        return to_domain(where) if to_domain is not None else value


def _plan(
    input_type: type,
    command: type,
    ids: Mapping[str, str | tuple[str, ...]],
    rename: Mapping[str, str],
    convert: Mapping[str, Callable[[Any], Any]],
) -> list[FieldPlan]:
    hints = typing.get_type_hints(command)
    targets = {f.name: f for f in dataclasses.fields(command)}
    plans = []
    for field in input_type.__strawberry_definition__.fields:
        source = field.python_name
        target = rename.get(source, source)
        if target not in targets:
            raise TypeError(f"{input_type.__name__}.{source} maps to no field of {command.__name__}: rename it")
        hint = hints[target]
        origin = typing.get_origin(hint) or (typing.get_args(hint) and typing.get_origin(typing.get_args(hint)[0]))
        plans.append(
            FieldPlan(
                source=source,
                target=target,
                graphql=field.graphql_name or camel(source),
                ids=ids.get(source, field.metadata.get(GLOBAL_ID) if field.metadata else None),
                convert=convert.get(source),
                enum=_enum_in(hint),
                sequence=origin if origin in (tuple, set, frozenset) else None,
                nullable=_nullable(hint),
                clearable=targets[target].default is not UNSET,
            )
        )
    unknown = (set(ids) | set(convert) | set(rename)) - {p.source for p in plans}
    if unknown:
        raise TypeError(f"{input_type.__name__} has no field {sorted(unknown)}")
    filled = {p.target for p in plans}
    for name, f in targets.items():
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and name not in filled:
            raise TypeError(f"{command.__name__}.{name} is required but {input_type.__name__} does not fill it")
    return plans


# --- perform ---


async def perform(
    context: Context, work: Callable[[SqlUnitOfWork], Awaitable[Any]]
) -> tuple[Any, Written] | domain_errors.DomainError:
    """Run `work` (a workflow that commits) in a new unit of work as the caller: its outcome and the rows
    it wrote. An expected failure is returned, not raised, with everything rolled back."""
    try:
        async with SqlUnitOfWork(
            context.engine, context.actor, clock=context.clock, on_commit=context.events_committed
        ) as uow:
            outcome = await work(uow)
            if not uow.committed:
                raise RuntimeError("the workflow returned without committing")
    except domain_errors.DomainError as error:
        return error
    except DataError as error:
        # A value the checks before writing let through and the database refused: still the client's
        # input, so a typed error (logged, since it means a check is missing).
        log.warning("database refused a value in request %s: %s", context.request_id, error.orig)
        reason = str(error.orig).splitlines()[0][:200]
        return domain_errors.ValidationError("input", "a value does not fit the field it is stored in: " + reason)
    context.loaders.clear()  # what this request read before the change is stale now
    if context.credentials_changed is not None and any(e.entity_type in CREDENTIAL_ENTITIES for e in uow.events):
        await context.credentials_changed()  # every process forgets its token lookups before the answer
    return outcome, uow.written


class Mutation:
    """One declared mutation: its plan, its union and its resolver."""

    def __init__(
        self,
        workflow: Workflow,
        input_type: type,
        payload: type | Payload,
        *,
        errors: tuple[type[domain_errors.DomainError], ...],
        ids: Mapping[str, str | tuple[str, ...]],
        rename: Mapping[str, str],
        convert: Mapping[str, Callable[[Any], Any]],
        ports: Ports | None,
        name: str,
    ) -> None:
        for made in (input_type, getattr(payload, "type", payload)):
            if getattr(made, BOUND, False):
                raise TypeError(f"{workflow.__name__}: bind {made.__name__} to a module-level name, which names it")
        self.workflow = workflow
        self.command = typing.get_type_hints(workflow)[next(iter(inspect.signature(workflow).parameters))]
        self.plans = _plan(input_type, self.command, ids, rename, convert)
        self.payload = payload if isinstance(payload, Payload) else Payload(payload)
        self.ports = ports
        unknown = [e for e in errors if e not in ERROR_TYPES]
        if unknown:
            raise TypeError(f"{workflow.__name__}: {unknown} is not an error a mutation can show")
        self.errors = (
            domain_errors.ValidationError,
            *(e for e in ERROR_TYPES if e in errors and e is not domain_errors.ValidationError),
        )
        self.name = name
        members = (self.payload.type, *(ERROR_TYPES[e] for e in self.errors))
        description = f"The outcome of the mutation: `{self.payload.type.__name__}` or a `UserError`."
        self.result = Annotated[Union[members], strawberry.union(self.name, description=description)]  # noqa: UP007 - a runtime tuple

    def clean(self, input: Any) -> Any:
        """The workflow's command from the input: ids decoded, unsent fields left to the command's defaults
        (UNSET in an update: "leave it as it is"). No database yet."""
        values = {}
        for plan in self.plans:
            value = plan.clean(getattr(input, plan.source))
            if value is not UNSET:
                values[plan.target] = value
        return self.command(**values)

    def shown(self, error: domain_errors.DomainError) -> UserError:
        shown = to_user_error(error)
        if not any(isinstance(error, raised) for raised in self.errors):
            # The union cannot show it: the declaration is missing an error (the schema test should have
            # caught it). Fail loudly (masked, with the request id) rather than lie with another type.
            raise TypeError(f"{self.workflow.__name__} raised {type(error).__name__}, not in {self.name}") from error
        return shown

    async def resolve(self, info: Info, input: Any) -> Any:
        context: Context = info.context
        try:
            command = self.clean(input)
        except domain_errors.DomainError as error:
            return self.shown(error)
        ports = self.ports(context) if self.ports else ()
        done = await perform(context, lambda uow: self.workflow(command, uow, *ports))
        if isinstance(done, domain_errors.DomainError):
            return self.shown(done)
        outcome, written = done
        return await self.payload.build(info, outcome, written)


OWN_INPUT: Any = object()  # a `ByName` declaration's input: each mutation's own, named after it


class ByName:
    """A mutation declared with its workflows' module: the module-level name it is bound to picks the workflow
    (gql/schema/mutations/__init__.py binds it), and with OWN_INPUT the input named after it."""

    def __init__(self, workflows: types.ModuleType, args: tuple[Any, ...], options: dict[str, Any]) -> None:
        self.workflows = workflows
        self.args = args
        self.options = options

    def named(self, name: str, module: types.ModuleType) -> Any:
        workflow = getattr(self.workflows, name, None)
        if workflow is None:
            raise TypeError(f"{name}: a mutation is named as its workflow, and {self.workflows.__name__} has no {name}")
        input_type, *rest = self.args
        if input_type is OWN_INPUT:
            own = "".join(part.title() for part in name.split("_")) + "Input"
            input_type = getattr(module, own, None)
            if input_type is None:
                raise TypeError(f"{name} takes its own input, and {module.__name__} has no {own}")
        return mutation(workflow, input_type, *rest, **self.options)


def mutation(
    workflow: Workflow | types.ModuleType,
    input_type: type,
    payload: type | Payload,
    errors: tuple[type[domain_errors.DomainError], ...] = (),
    *,
    ids: Mapping[str, str | tuple[str, ...]] | None = None,
    rename: Mapping[str, str] | None = None,
    convert: Mapping[str, Callable[[Any], Any]] | None = None,
    ports: Ports | None = None,
) -> Any:
    """Declare the GraphQL mutation that runs `workflow` with the command built from `input_type`; it is
    named as the workflow is, and described by the workflow's docstring (GraphiQL shows it: the operation has one
    description, where it is implemented, written for the API's users). Given the workflows' module, the name the
    declaration is bound to picks the workflow, so mutations that differ only in it are one declaration, and with
    OWN_INPUT each takes the input named after it (`ByName`):

        move_opportunity = mutation(wf.move_opportunity, MoveOpportunityInput, OpportunityPayload, LOCKABLE)
        link_accounts = unlink_accounts = mutation(wf, AccountLinkInput, LinkedAccountsPayload, WRITE)
        update_task = complete_task = mutation(wf, OWN_INPUT, TaskPayload, RESTRICTED)

    errors: the domain errors the workflow can raise (ValidationError is always listed).
    ids: input fields that are global ids, with the type(s) they must be of (a list field decodes each), where
    the input does not say so itself with `gid(...)` fields.
    rename: input field → command field, where the names differ; convert: input field → function of the
    sent, non-null value (nested inputs with a `to_domain(where)` method need none: `where` is the item's place in
    the input, `items[2]`, for the errors it names). ports: the extra
    arguments the workflow takes after the unit of work, made from the request's context."""
    if isinstance(workflow, types.ModuleType):
        options = {"ids": ids, "rename": rename, "convert": convert, "ports": ports}
        return ByName(workflow, (input_type, payload, errors), options)
    name = workflow.__name__
    declared = Mutation(
        workflow,
        input_type,
        payload,
        errors=errors,
        ids=ids or {},
        rename=rename or {},
        convert=convert or {},
        ports=ports,
        name="".join(part.title() for part in name.split("_")) + "Result",
    )

    description = inspect.getdoc(workflow)
    if not description:
        raise TypeError(f"{name}: a workflow behind a mutation needs a docstring, the mutation's description")

    async def resolver(info: Info, input: Any) -> Any:
        return await declared.resolve(info, input)

    resolver.__annotations__ = {
        "info": Info,
        "input": Annotated[input_type, strawberry.argument(description=INPUT)],
        "return": declared.result,
    }
    resolver.__name__ = name
    field = strawberry.mutation(resolver=resolver, description=" ".join(description.split()))
    field.declaration = declared  # the schema test reads what was declared
    return field
