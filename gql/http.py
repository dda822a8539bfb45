"""GraphQL over HTTP (POST and GET): the request is read here, prepared and executed by the operation
pipeline that WebSocket operations share (gql/pipeline.py), and answered with orjson, typed errors and
`application/graphql-response+json` status codes."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import orjson
from graphql import ExecutionResult, OperationType
from graphql.language import OperationDefinitionNode
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from gql import observe, tracing
from gql.errors import Refused, database_refusal
from gql.graphiql import graphiql_html
from gql.pipeline import Caller, Invalid, Pipeline, masked_error, params_of
from persistence.db import current_stats

log = logging.getLogger("salesgraph.http")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MAX_BODY_BYTES = 1 << 20


class RequestError(Refused):
    """The request is not a well-formed GraphQL request: answered with a status and one error."""


class GraphQLEndpoint:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        if (
            request.method == "GET"
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        ):
            response: Response = HTMLResponse(graphiql_html())
            response.headers["X-Request-Id"] = request.headers.get("x-request-id") or uuid.uuid4().hex
            await response(scope, receive, send)
            return
        with tracing.request_span("graphql", request.headers) as span:
            # With traces on, the request id is the trace id: one id finds the log line and the trace.
            request_id = request.headers.get("x-request-id") or tracing.trace_id() or uuid.uuid4().hex
            seen = observe.Seen("http", time.perf_counter(), request_id)
            response = await self.handle(request, request_id, seen)
            seen.status = response.status_code
            stats = current_stats.get()
            observe.record(seen, stats)
            if span is not None:
                tracing.describe(span, seen, stats)
        response.headers["X-Request-Id"] = request_id
        await response(scope, receive, send)

    async def handle(self, request: Request, request_id: str, seen: observe.Seen) -> Response:
        media = _response_media(request)
        try:
            if media is None:
                raise RequestError(406, f"Accept {GRAPHQL_RESPONSE} or {JSON}", "NOT_ACCEPTABLE")
            return await self.run(request, request_id, await _params(request), media, seen)
        except Invalid as invalid:
            seen.refused("GRAPHQL_VALIDATION_FAILED", "invalid")
            return _json(
                {"errors": [e.formatted for e in invalid.errors]},
                400 if media == GRAPHQL_RESPONSE else 200,
                media or JSON,
            )
        except Refused as error:
            return self.refused(error, seen, media)
        except Exception as error:
            refused = database_refusal(error)
            if refused is not None:  # before execution: the token lookup, say
                log.warning("request %s: %s (%r)", request_id, refused.code, error)
                return self.refused(refused, seen, media)
            seen.refused("INTERNAL_SERVER_ERROR", "failed")
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

    def refused(self, error: Refused, seen: observe.Seen, media: str | None) -> Response:
        seen.refused(error.code)
        if error.operation is not None:
            seen.kind, seen.name = error.operation
        body = {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}
        return _json(body, error.status, media or JSON, error.headers)

    async def run(
        self, request: Request, request_id: str, raw: dict[str, Any], media: str, seen: observe.Seen
    ) -> Response:
        caller = Caller(request.headers.get("authorization"), request.client.host if request.client else None)

        def allow(operation: OperationDefinitionNode) -> None:
            if request.method == "GET" and operation.operation is not OperationType.QUERY:
                raise RequestError(
                    405,
                    f"a {operation.operation.value} must be sent with POST",
                    "METHOD_NOT_ALLOWED",
                    {"Allow": "POST"},
                )
            if operation.operation is OperationType.SUBSCRIPTION:
                raise RequestError(400, "subscriptions run over WebSocket on this same URL", "SUBSCRIPTION_OVER_HTTP")

        hint = " (browsers, which ask for `Accept: text/html`, get GraphiQL here)" if request.method == "GET" else ""
        params = params_of(raw, hint)
        seen.name = params.operation_name
        prepared = await self.pipeline.prepare(params, caller, allow)
        seen.kind, seen.principal = prepared.kind.value, prepared.principal
        seen.name = prepared.operation.name.value if prepared.operation.name else None
        context = self.pipeline.context(prepared.principal, request_id)
        result = await self.pipeline.execute(prepared, context)
        if result.errors:
            seen.outcome = "errors"
        return self.respond(result, media, request_id)

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
    return raw


def _json(body: dict[str, Any], status: int, media: str, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=media, headers=headers)
