"""GraphQL over HTTP (POST and GET) with cached parsing and validation, orjson, typed errors
and `application/graphql-response+json` status codes."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    OperationType,
    execute,
    parse,
    specified_rules,
    validate,
)
from graphql.language import FieldNode, OperationDefinitionNode
from graphql.utilities import get_operation_ast
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry import Schema

from domain.base import utcnow
from gql.admission import Admission, AdmissionRefused
from gql.breadth_first import BreadthFirst
from gql.context import Context
from gql.execution import FastExecutor, mark_fast_fields
from gql.graphiql import graphiql_html
from gql.limits import LimitExceeded, Limits, check_shape, check_text, cost
from gql.scopes import InsufficientScope
from gql.scopes import check as check_scopes

log = logging.getLogger("salesgraph.http")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MAX_BODY_BYTES = 1 << 20


class RequestError(Exception):
    """The request is not a well-formed GraphQL request: answered with a status and one error."""

    def __init__(self, status: int, message: str, code: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


class DocumentCache:
    """Parsed and validated documents by query text (validation is ~1 ms a request otherwise)."""

    def __init__(self, schema: GraphQLSchema, limits: Limits | None = None, size: int = 1000) -> None:
        self.schema, self.size = schema, size
        self.limits = limits or Limits()
        self.rules = None if self.limits.introspection else [*specified_rules, NoSchemaIntrospectionCustomRule]
        self._entries: OrderedDict[str, tuple[DocumentNode | None, list[GraphQLError]]] = OrderedDict()

    def get(self, query: str) -> tuple[DocumentNode | None, list[GraphQLError]]:
        found = self._entries.get(query)
        if found is not None:
            self._entries.move_to_end(query)
            return found
        try:
            document: DocumentNode | None = parse(query, max_tokens=self.limits.max_tokens)
            errors = validate(self.schema, document, self.rules, hide_suggestions=not self.limits.suggestions)
        except GraphQLError as error:
            document, errors = None, [error]
        self._entries[query] = (document, errors)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return document, errors


def _only_introspection(operation: OperationDefinitionNode) -> bool:
    return all(isinstance(s, FieldNode) and s.name.value.startswith("__") for s in operation.selection_set.selections)


class GraphQLEndpoint:
    def __init__(
        self,
        schema: Schema,
        engine: AsyncEngine,
        events_committed: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        limits: Limits | None = None,
    ) -> None:
        self.schema, self.engine = schema._schema, engine
        self.events_committed, self.clock = events_committed, clock
        self.limits = limits or Limits.from_env()
        self.documents = DocumentCache(self.schema, self.limits)
        self.admission = Admission(engine, clock=clock)  # persisted queries, trusted documents, rate limits
        self.breadth_first = BreadthFirst(schema)
        mark_fast_fields(self.schema)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        response = await self.handle(request, request_id)
        response.headers["X-Request-Id"] = request_id
        await response(scope, receive, send)

    async def handle(self, request: Request, request_id: str) -> Response:
        media = _response_media(request)
        if (
            request.method == "GET"
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        ):
            return HTMLResponse(graphiql_html())
        try:
            if media is None:
                raise RequestError(406, f"Accept {GRAPHQL_RESPONSE} or {JSON}", "NOT_ACCEPTABLE")
            params = await _params(request)
            return await self.run(request, request_id, params, media)
        except (RequestError, AdmissionRefused) as error:
            body = {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}
            return _json(body, error.status, media or JSON, error.headers)
        except Exception:
            log.exception("unexpected error in request %s", request_id)
            body = {
                "errors": [
                    {
                        "message": f"Internal server error (request id {request_id})",
                        "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
                    }
                ]
            }
            return _json(body, 500, media or JSON)

    async def run(self, request: Request, request_id: str, params: dict[str, Any], media: str) -> Response:
        variables, operation_name = params["variables"], params["operationName"]
        authorization = request.headers.get("authorization")
        sent = await self.admission.resolve(params, authorization)
        query = sent.query
        try:
            check_text(query, self.limits)
        except LimitExceeded as error:
            raise RequestError(400, error.message, error.code) from None
        document, errors = self.documents.get(query)
        if errors or document is None:
            status = 400 if media == GRAPHQL_RESPONSE else 200
            return _json({"errors": [e.formatted for e in errors]}, status, media)
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            raise RequestError(
                400,
                "the document has no single operation to run; name it in `operationName`"
                if operation_name is None
                else f"no operation named {operation_name!r}",
                "OPERATION_NOT_FOUND",
            )
        if request.method == "GET" and operation.operation is not OperationType.QUERY:
            raise RequestError(
                405, f"a {operation.operation.value} must be sent with POST", "METHOD_NOT_ALLOWED", {"Allow": "POST"}
            )
        if operation.operation is OperationType.SUBSCRIPTION:
            raise RequestError(400, "subscriptions run over WebSocket on this same URL", "SUBSCRIPTION_OVER_HTTP")
        try:  # before the token is even looked up: a refused query costs no SQL
            check_shape(document, operation, self.limits)
            spent = cost(self.schema, document, operation, variables, self.limits)
        except LimitExceeded as error:
            raise RequestError(400, error.message, error.code) from None
        # The token (401 unless only introspection), trusted documents (403), rate limits (429).
        principal = await self.admission.admit(
            sent, authorization, request.client.host if request.client else None, _only_introspection(operation), spent
        )
        try:  # each root field's scope (gql/scopes.py): still no SQL beyond the token lookup
            check_scopes(principal, document, operation)
        except InsufficientScope as error:
            raise RequestError(error.status, error.message, error.code) from None
        context = Context(
            engine=self.engine,
            principal=principal,
            request_id=request_id,
            clock=self.clock,
            events_committed=self.events_committed,
        )
        try:
            async with asyncio.timeout(self.limits.timeout_seconds):
                result = await self._execute(operation, document, context, variables, operation_name)
        except TimeoutError:
            log.warning("request %s stopped after %s s", request_id, self.limits.timeout_seconds)
            raise RequestError(
                503,
                f"the request took longer than {self.limits.timeout_seconds:g} s and was stopped "
                "(a mutation in it was rolled back unless it had committed); ask for less, or retry "
                "later",
                "TIMEOUT",
                {"Retry-After": "1"},
            ) from None
        return self.respond(result, media, request_id)

    async def _execute(
        self,
        operation: OperationDefinitionNode,
        document: DocumentNode,
        context: Context,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> ExecutionResult:
        result = None
        if operation.operation is OperationType.QUERY:
            result = await self.breadth_first.execute(document, context, variables, operation_name)
        if result is None:
            result = execute(
                self.schema,
                document,
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
                executor_class=FastExecutor,
            )
            if not isinstance(result, ExecutionResult):
                result = await result
        return result

    def respond(self, result: ExecutionResult, media: str, request_id: str) -> Response:
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [masked_error(e, request_id) for e in result.errors]
        request_failed = result.data is None and result.errors and all(not e.path for e in result.errors)
        if request_failed:
            # Variables that do not coerce: a request error, executed nothing.
            return _json(body, 400 if media == GRAPHQL_RESPONSE else 200, media)
        body["data"] = result.data
        return _json(body, 200, media)


def masked_error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return error.formatted
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


def _response_media(request: Request) -> str | None:
    accept = request.headers.get("accept", "")
    if not accept or "*/*" in accept or "application/*" in accept:
        return GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept else JSON
    if GRAPHQL_RESPONSE in accept:
        return GRAPHQL_RESPONSE
    if JSON in accept:
        return JSON
    return None


async def _params(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        raw: dict[str, Any] = dict(request.query_params)
        for key in ("variables", "extensions"):
            if raw.get(key):
                try:
                    raw[key] = orjson.loads(raw[key])
                except orjson.JSONDecodeError:
                    raise RequestError(400, f"`{key}` is not valid JSON", "BAD_REQUEST") from None
    elif request.method == "POST":
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise RequestError(413, f"the request body is larger than {MAX_BODY_BYTES} bytes", "PAYLOAD_TOO_LARGE")
        if content_type == "application/graphql":
            raw = {"query": body.decode("utf-8", "replace")}
        elif content_type == JSON:
            try:
                raw = orjson.loads(body)
            except orjson.JSONDecodeError:
                raise RequestError(400, "the body is not valid JSON", "BAD_REQUEST") from None
            if not isinstance(raw, dict):
                raise RequestError(400, "the body must be a JSON object with a `query`", "BAD_REQUEST")
        else:
            raise RequestError(415, f"send the request as {JSON}", "UNSUPPORTED_MEDIA_TYPE")
    else:
        raise RequestError(405, "use GET or POST", "METHOD_NOT_ALLOWED", {"Allow": "GET, POST"})
    query, variables, name = raw.get("query"), raw.get("variables"), raw.get("operationName")
    if (not isinstance(query, str) or not query.strip()) and not isinstance(raw.get("extensions"), dict):
        hint = " (browsers, which ask for `Accept: text/html`, get GraphiQL here)" if request.method == "GET" else ""
        raise RequestError(400, f"the request has no `query` string{hint}", "BAD_REQUEST")
    if query is not None and not isinstance(query, str):
        raise RequestError(400, "`query` must be a string", "BAD_REQUEST")
    if variables is not None and not isinstance(variables, dict):
        raise RequestError(400, "`variables` must be a JSON object", "BAD_REQUEST")
    if raw.get("extensions") is not None and not isinstance(raw["extensions"], dict):
        raise RequestError(400, "`extensions` must be a JSON object", "BAD_REQUEST")
    if name is not None and not isinstance(name, str):
        raise RequestError(400, "`operationName` must be a string", "BAD_REQUEST")
    return {"query": query, "variables": variables, "operationName": name or None, "extensions": raw.get("extensions")}


def _json(body: dict[str, Any], status: int, media: str, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=media, headers=headers)
