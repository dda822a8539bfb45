"""One operation pipeline for every transport. GraphQL over HTTP (gql/http.py) and over WebSocket
(gql/subscriptions/protocol.py) only read their messages and write their answers; between the two,
both hand the same `Params` to `Pipeline.prepare` and run queries and mutations with
`Pipeline.execute`, so a check or an optimisation cannot exist on one transport and not the other.

`prepare`, in the order that keeps a refusal cheap: the document the request names (its text, or an
APQ hash / trusted document: gql/admission.py), its size, then the cached parse and validation or,
for a document not in the cache, the budget of new documents of the client address, its tokens,
parse, repeated fields and validation; the operation, the transport's own rule (HTTP runs no
subscription, GET no mutation), depth, aliases, root fields, the page variables' coerced values and
cost (gql/limits.py), all before the token is looked up and each bounded by the document's size;
then the token (or the connection's caller), trusted documents and rate limits, and the scopes of
the root fields and of every kind of row below them (gql/scopes.py, worked out once per document).
`execute` runs a query on the breadth-first executor (gql/breadth_first.py) with graphql-core's as
the fallback, a mutation on graphql-core's, both within the time limit. Subscriptions are prepared
here too; their event streams stay with the WebSocket handler, which shares renders between
subscribers."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationType,
    execute,
)
from graphql.language import FieldNode, OperationDefinitionNode
from graphql.utilities import get_operation_ast
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry import Schema

from domain.access import Principal
from domain.base import utcnow
from gql.admission import Admission
from gql.breadth_first import BreadthFirst
from gql.context import Context
from gql.errors import Refused, database_refusal
from gql.execution import FastExecutor, mark_fast_fields
from gql.limits import (
    Checked,
    LimitExceeded,
    Limits,
    Work,
    check_shape,
    check_text,
    coerce_page_variables,
    cost,
    count_tokens,
    parse_document,
    validate_document,
)
from gql.scopes import InsufficientScope
from gql.scopes import check as check_scopes
from gql.scopes import needed as needed_scopes
from gql.token_cache import TokenCache

log = logging.getLogger("salesgraph.pipeline")
# At most this many (operation, page sizes) costs are kept with one document (a client paging through
# a list with new sizes each time cannot grow it further).
MAX_COSTS_KEPT = 16


class Invalid(Exception):
    """The document does not parse or is not valid against the schema: the GraphQL spec's request
    errors, answered as they are (HTTP: 400 or 200 by media type; WebSocket: an `error` message)."""

    def __init__(self, errors: list[GraphQLError]) -> None:
        super().__init__(errors[0].message if errors else "invalid document")
        self.errors = errors


@dataclass(frozen=True)
class Params:
    """A GraphQL request as every transport carries it (a POST body, GET parameters, a `subscribe`
    payload)."""

    query: str | None
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None


def params_of(raw: dict[str, Any], hint: str = "") -> Params:
    """The request's parameters, or a BAD_REQUEST refusal saying which one is malformed (`hint` is added
    to the message about a missing query)."""
    query, variables, name, extensions = raw.get("query"), raw.get("variables"), raw.get("operationName"), None
    if (not isinstance(query, str) or not query.strip()) and not isinstance(raw.get("extensions"), dict):
        raise Refused(400, f"the request has no `query` string{hint}", "BAD_REQUEST")
    if query is not None and not isinstance(query, str):
        raise Refused(400, "`query` must be a string", "BAD_REQUEST")
    if variables is not None and not isinstance(variables, dict):
        raise Refused(400, "`variables` must be a JSON object", "BAD_REQUEST")
    if raw.get("extensions") is not None:
        extensions = raw["extensions"]
        if not isinstance(extensions, dict):
            raise Refused(400, "`extensions` must be a JSON object", "BAD_REQUEST")
    if name is not None and not isinstance(name, str):
        raise Refused(400, "`operationName` must be a string", "BAD_REQUEST")
    return Params(query, variables, name or None, extensions)


@dataclass(frozen=True)
class Caller:
    """Who sends the request. `principal` is set when the transport authenticated the caller once for
    a connection (a WebSocket's `connection_init`); otherwise `authorization` is looked up per request.
    `authorization` also resolves a trusted document's hash in a process that has not seen its text."""

    authorization: str | None
    client: str | None = None
    principal: Principal | None = None


@dataclass(frozen=True)
class Prepared:
    """An operation admitted to run: its document, the operation in it, the caller and its cost."""

    document: DocumentNode
    operation: OperationDefinitionNode
    params: Params
    principal: Principal | None
    cost: int

    @property
    def kind(self) -> OperationType:
        return self.operation.operation


class DocumentCache:
    """Documents that parsed and validated, by query text (validation is ~1 ms a request otherwise),
    least recently used out beyond `limits.document_cache_bytes` of estimated memory or `size`
    entries. Only documents of callers with a token are kept: a document refused by a limit or by
    validation, or sent without a token, costs its sender the parse again, and the checking budget of
    its address, each time. So callers without a token cannot evict the documents of those with one,
    nor make the process keep (and its garbage collector walk again and again) what they send."""

    BYTES_PER_TOKEN = 600  # a parsed document's memory: 360-560 bytes a token measured (tracemalloc)

    def __init__(
        self, schema: GraphQLSchema, limits: Limits | None = None, size: int = 1000, work: Work | None = None
    ) -> None:
        self.schema, self.size = schema, size
        self.limits = limits or Limits()
        self.work = work if work is not None else Work()
        self.bytes = 0  # the estimated memory of the documents kept
        self._entries: OrderedDict[str, tuple[Checked, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, query: str) -> Checked | None:
        """The checked document if this text was checked before (and is still kept)."""
        found = self._entries.get(query)
        if found is None:
            return None
        self._entries.move_to_end(query)
        return found[0]

    async def check(self, query: str, tokens: int | None = None) -> Checked:
        """Parse and validate a document: raises LimitExceeded or Invalid. `tokens`: its
        `count_tokens` up to the limit, if counted already. Both halves run on the event loop, each
        bounded by the document's size; between them, other requests' ready work runs."""
        checked = parse_document(query, self.limits, self.work, tokens)
        if isinstance(checked, list):
            raise Invalid(checked)
        await asyncio.sleep(0)
        errors = validate_document(self.schema, checked.document, self.limits, self.work)
        if errors:
            raise Invalid(errors)
        return checked

    def keep(self, query: str, checked: Checked) -> None:
        """Keep a checked document for the next requests that send the same text."""
        weight = len(query) + checked.tokens * self.BYTES_PER_TOKEN
        if query not in self._entries and weight <= self.limits.document_cache_bytes:
            self._entries[query] = (checked, weight)
            self.bytes += weight
            while self.bytes > self.limits.document_cache_bytes or len(self._entries) > self.size:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.bytes -= dropped


def _only_introspection(operation: OperationDefinitionNode) -> bool:
    return all(isinstance(s, FieldNode) and s.name.value.startswith("__") for s in operation.selection_set.selections)


class Pipeline:
    """The preparation and execution of GraphQL operations, shared by the HTTP and WebSocket endpoints
    of one app (and so their parse cache, persisted queries and rate limit budgets)."""

    def __init__(
        self,
        schema: Schema,
        engine: AsyncEngine,
        events_committed: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        limits: Limits | None = None,
        tokens: TokenCache | None = None,
    ) -> None:
        self.schema, self.engine = schema._schema, engine
        self.events_committed, self.clock = events_committed, clock
        self.limits = limits or Limits.from_env()
        self.work = Work()  # what the checks did, for tests to hold to the documents' size
        self.documents = DocumentCache(self.schema, self.limits, work=self.work)
        # Persisted queries, trusted documents, the token lookups (`tokens`: their cache) and rate limits.
        self.admission = Admission(engine, clock=clock, tokens=tokens)
        self.tokens = tokens
        self.breadth_first = BreadthFirst(schema)
        mark_fast_fields(self.schema)

    async def prepare(
        self,
        params: Params,
        caller: Caller,
        allow: Callable[[OperationDefinitionNode], None] | None = None,
    ) -> Prepared:
        """The operation, admitted: raises Invalid for a document the schema refuses and Refused for
        everything else. `allow` is the transport's rule on which operations it runs (it raises
        Refused); it runs before the limits and the token, like every check that needs no SQL."""
        sent = await self.admission.resolve(params.query, params.extensions, caller.authorization)
        try:
            check_text(sent.query, self.limits)
            checked = self.documents.get(sent.query)
            new = checked is None
            if checked is None:
                # Parsing and checking a new document is the work a caller can make the server do before
                # its token is known: a budget per client address (per token on a WebSocket) bounds it.
                # Counted in parser tokens (a regular expression counts them in about a millisecond), which
                # is what the work grows with.
                tokens = count_tokens(sent.query, self.limits.max_tokens + 1)
                whose = f"token:{caller.principal.token_id}" if caller.principal else f"address:{caller.client}"
                await self.admission.check_new_document(whose, tokens)
                checked = await self.documents.check(sent.query, tokens)
        except LimitExceeded as error:
            raise Refused(400, error.message, error.code) from None
        document = checked.document
        operation = get_operation_ast(document, params.operation_name)
        if operation is None:
            raise Refused(
                400,
                "the document has no single operation to run; name it in `operationName`"
                if params.operation_name is None
                else f"no operation named {params.operation_name!r}",
                "OPERATION_NOT_FOUND",
            )
        try:
            return await self._admit(params, caller, allow, sent, checked, new, operation)
        except Refused as refused:
            refused.operation = (operation.operation.value, operation.name.value if operation.name else None)
            raise

    async def _admit(
        self,
        params: Params,
        caller: Caller,
        allow: Callable[[OperationDefinitionNode], None] | None,
        sent: Any,
        checked: Checked,
        new: bool,
        operation: OperationDefinitionNode,
    ) -> Prepared:
        """The checks of `prepare` once the operation is known."""
        document = checked.document
        if allow is not None:
            allow(operation)
        try:  # before the token is even looked up: a refused query costs no SQL
            values = coerce_page_variables(self.schema, operation, checked, params.variables)
            if isinstance(values, list):
                check_shape(document, operation, self.limits, self.work)  # a shape refusal comes first
                raise Invalid(values)
            # The checks' outcome depends on the operation and its page sizes alone: kept with the
            # document (only when they pass; a refusal is checked again, it costs its sender the same).
            key = (operation.name.value if operation.name else None, *sorted(values.coerced.items()))
            spent = checked.costs.get(key)
            if spent is None:
                check_shape(document, operation, self.limits, self.work)
                spent = cost(self.schema, document, operation, values, self.limits, self.work)
                if len(checked.costs) < MAX_COSTS_KEPT:
                    checked.costs[key] = spent
        except LimitExceeded as error:
            raise Refused(400, error.message, error.code) from None
        # The token (401 unless only introspection), trusted documents (403), rate limits (429).
        principal = await self.admission.admit(
            sent, caller.authorization, caller.client, _only_introspection(operation), spent, caller.principal
        )
        if new and principal is not None:
            self.documents.keep(sent.query, checked)
        # The scope of each root field and of each kind of row below them: still no SQL beyond the token
        # lookup. Worked out once per document and operation, then a subset test per request.
        name = operation.name.value if operation.name else None
        needs = checked.scopes.get(name)
        if needs is None:
            needs = checked.scopes[name] = needed_scopes(self.schema, document, operation)
        try:
            check_scopes(principal, needs)
        except InsufficientScope as error:
            raise Refused(error.status, error.message, error.code) from None
        return Prepared(document, operation, params, principal, spent)

    def context(self, principal: Principal | None, request_id: str, realtime: Any = None) -> Context:
        """A new request context (its own loaders) for one operation."""
        return Context(
            engine=self.engine,
            principal=principal,
            request_id=request_id,
            clock=self.clock,
            events_committed=self.events_committed,
            credentials_changed=self.tokens.changed if self.tokens is not None else None,
            realtime=realtime,
        )

    async def execute(self, prepared: Prepared, context: Context) -> ExecutionResult:
        """Run a prepared query or mutation within the time limit (a Refused with code TIMEOUT after it)."""
        if prepared.kind is OperationType.SUBSCRIPTION:
            raise ValueError("a subscription runs as an event stream, not with `execute`")
        try:
            async with asyncio.timeout(self.limits.timeout_seconds):
                if prepared.kind is OperationType.QUERY:
                    # Only reads: all of them on one connection in autocommit, none inside BEGIN … ROLLBACK.
                    async with context.shared_reads():
                        result = await self.breadth_first.execute(
                            prepared.document, context, prepared.params.variables, prepared.params.operation_name
                        )
                        if result is None:
                            result = await self._standard(prepared, context)
                else:
                    result = await self._standard(prepared, context)
        except TimeoutError:
            log.warning("request %s stopped after %s s", context.request_id, self.limits.timeout_seconds)
            raise Refused(
                503,
                f"the request took longer than {self.limits.timeout_seconds:g} s and was stopped "
                "(a mutation in it was rolled back unless it had committed); ask for less, or retry "
                "later",
                "TIMEOUT",
                {"Retry-After": "1"},
            ) from None
        for error in result.errors or ():
            refused = database_refusal(error.original_error)
            if refused is not None:
                raise refused
        return result

    async def _standard(self, prepared: Prepared, context: Context) -> ExecutionResult:
        """Run the operation on graphql-core's executor (a mutation, or a query the breadth-first one leaves)."""
        params = prepared.params
        result = execute(
            self.schema,
            prepared.document,
            context_value=context,
            variable_values=params.variables,
            operation_name=params.operation_name,
            executor_class=FastExecutor,
        )
        return result if isinstance(result, ExecutionResult) else await result


def masked_error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    """An error as the client sees it: an unexpected exception becomes an internal error that names
    the request id (and is logged), a GraphQL error is shown as it is, and a database that cannot be
    reached is DATABASE_UNAVAILABLE (retry)."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return error.formatted
    refused = database_refusal(original)
    if refused is not None:  # a restart of the database, say: the client retries
        log.warning("request %s at %s: %s (%r)", request_id, error.path, refused.code, original)
        formatted = {"message": refused.message, "extensions": {**refused.extensions, "requestId": request_id}}
    else:
        log.error("unexpected error in request %s at %s", request_id, error.path, exc_info=original)
        formatted = {
            "message": f"Internal server error (request id {request_id})",
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        }
    if error.path:
        formatted["path"] = error.path
    if error.locations:
        formatted["locations"] = [loc.formatted for loc in error.locations]
    return formatted
