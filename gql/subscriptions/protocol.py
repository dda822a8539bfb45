"""GraphQL over WebSocket on /graphql: the `graphql-transport-ws` protocol (the graphql-ws library's)
and the legacy `graphql-ws` protocol (subscriptions-transport-ws), authenticated by the token in
`connection_init`, with keep-alive, bounded per-connection work and clear close codes. Each operation
is prepared and (a query or mutation) executed by the operation pipeline that HTTP shares
(gql/pipeline.py): the same limits, persisted queries, trusted documents, rate limits, scopes and
breadth-first executor.

Our own handler rather than Strawberry's: it lets every subscriber of one scoreboard share one
execution of the same document (see `rendered` below), keeps an idle connection small (no task
per connection besides the one uvicorn gives it, one keep-alive loop for all), and closes a client
that cannot keep up with a code it can act on."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
import time
import uuid
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any

import orjson
from graphql import ExecutionResult, GraphQLError, OperationType, print_ast
from graphql.execution import create_source_event_stream, execute_subscription_event
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from domain.access import Principal
from gql import observe, tracing
from gql.auth import lookup_token, lookup_tokens
from gql.context import Context
from gql.errors import Refused, database_refusal
from gql.execution import FastExecutor
from gql.pipeline import Caller, Invalid, Pipeline, Prepared, masked_error, params_of
from gql.subscriptions.hub import SlowConsumer
from gql.subscriptions.sharing import caller_part, render_reads
from persistence.db import QueryStats, current_stats

log = logging.getLogger("salesgraph.ws")

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"

# Close codes: the graphql-transport-ws protocol's, and one of ours.
BAD_REQUEST = 4400
UNAUTHORIZED = 4401  # subscribe before connection_ack
FORBIDDEN = 4403  # connection_init with no valid token
SUBPROTOCOL_NOT_ACCEPTABLE = 4406
INIT_TIMEOUT = 4408
SUBSCRIBER_EXISTS = 4409
TOO_MANY_INITS = 4429
SLOW_CONSUMER = 4008  # ours: more messages waited than the bound; reconnect and resume with `since`
INTERNAL_ERROR = 4500
TRY_AGAIN_LATER = 1013  # the database cannot be reached (a restart): reconnect in a moment
GOING_AWAY = 1001  # the server is stopping (a deploy): reconnect, to another process, and resume with `since`
RENDERED_EVENTS = 256  # outbox events whose renders are kept for the subscribers still to send them
CREDENTIALS_CHANGED = "Forbidden: token revoked or expired, or its rights changed; reconnect with a valid token"
GOING_AWAY_REASON = "Server going away: reconnect and resume with `since`"


_TEXTS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _interned(text: str) -> str:
    """One copy of equal texts (the variables of thousands of identical subscriptions)."""
    return sys.intern(text)


def _root_field(prepared: Prepared) -> str:
    """The subscription's root field (a subscription has exactly one), for its gauge."""
    for selection in prepared.operation.selection_set.selections:
        name = getattr(selection, "name", None)
        if name is not None:
            return name.value
    return "unknown"


def document_text(document: Any) -> str:
    """A canonical text of a parsed document (its identity for sharing renders), computed once."""
    found = _TEXTS.get(document)
    if found is None:
        found = _TEXTS[document] = print_ast(document)
    return found


class _Close(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class Connection:
    """One WebSocket: its protocol, caller and running operations, and the one way messages go out.

    A message is written at once, with no task and no wait, while the socket's buffer has room (the
    common case). When it is full, the send that found it full is finished by a writer task, and the
    messages after it wait in `waiting`, in order, while the client catches up; a state pushed with
    `push` replaces the waiting state of its operation instead (the newest wins). More than `limit`
    waiting messages means the client is too slow: it is closed with 4008 right after the message
    being written, and resumes with `since`."""

    __slots__ = (
        "ws",
        "protocol",
        "authorization",
        "principal",
        "context",
        "operations",
        "acknowledged",
        "closed",
        "limit",
        "waiting",
        "writer",
        "closing",
        "expiry",
        "_sequence",
        "__weakref__",
    )

    def __init__(self, ws: WebSocket, protocol: str, limit: int = 1000) -> None:
        self.ws, self.protocol = ws, protocol
        self.authorization: str | None = None  # from connection_init: resolves trusted documents' hashes
        self.principal: Principal | None = None
        self.context: Context | None = None
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.acknowledged = False
        self.closed = False  # nothing more is sent: closing, or the client left
        self.limit = limit
        self.waiting: dict[object, str] = {}  # while the writer is busy: by a sequence number, or a state by op id
        self.writer: asyncio.Task[None] | None = None  # finishing a send that had to wait, then `waiting`
        self.closing: tuple[int, str] | None = None  # the close frame the writer sends after its message
        self.expiry: asyncio.TimerHandle | None = None  # closes the socket when its token expires
        self._sequence = itertools.count()

    @property
    def busy(self) -> bool:
        """Whether a send is waiting for the client to read."""
        return self.writer is not None

    def push(self, op_id: str, text: str) -> None:
        """Send a state of operation `op_id` without waiting: while the client is behind, a newer state
        replaces the one waiting, so a client that stops reading holds one message per operation and
        delays nobody."""
        self._send(("state", op_id), text)

    async def send(self, message: dict[str, Any]) -> None:
        self._send(next(self._sequence), orjson.dumps(message).decode())

    async def send_raw(self, text: str) -> None:
        """Send a message in order after every earlier one. It never waits for the client: a client too
        slow to take what waits for it is closed instead."""
        self._send(next(self._sequence), text)

    def _send(self, key: object, text: str) -> None:
        if self.closed:
            return
        observe.Pushes.sent += 1
        if self.writer is not None:
            if key in self.waiting:
                observe.Pushes.superseded += 1  # the newer state of the operation replaces the one waiting
            self.waiting[key] = text
            if len(self.waiting) > self.limit:
                log.info("closing a WebSocket that let %d messages wait", len(self.waiting))
                self.close(SLOW_CONSUMER, "Slow consumer: messages piled up; reconnect and resume with `since`")
            return
        self._start(self.ws.send_text(text))

    def close(self, code: int, reason: str) -> None:
        """Close with `code` right after the message being written (those waiting are dropped), and stop
        the operations. The close frame reaches a client that stopped reading when it reads again."""
        if not self.closed:
            self._shut(code, reason[:120])

    def _shut(self, code: int, reason: str) -> None:
        self.closed = True
        if code == SLOW_CONSUMER:
            observe.Pushes.slow_consumer += len(self.waiting)
        self.waiting.clear()
        for task in list(self.operations.values()):
            task.cancel()
        if self.writer is not None:
            self.closing = (code, reason)
        else:
            self.closing = None
            self._start(self.ws.close(code, reason))

    def _start(self, sending: Coroutine[Any, Any, None]) -> None:
        """Run a send eagerly up to its first real suspension, which with room in the socket's buffer is
        its end; a send that has to wait is handed to a writer task (a task per send would cost a wake-up
        per message on every push, for thousands of subscribers)."""
        try:
            suspended = sending.send(None)
        except StopIteration:
            return
        except WebSocketDisconnect:
            self._gone()
            return
        except Exception:
            log.exception("sending on a WebSocket failed; closing it")
            self._broken()
            return
        self.writer = asyncio.get_running_loop().create_task(self._write(sending, suspended))

    async def _write(self, sending: Coroutine[Any, Any, None], suspended: object) -> None:
        failed = False
        try:
            await resume(sending, suspended)
            while self.waiting:  # emptied by a close
                text = self.waiting.pop(next(iter(self.waiting)))
                await self.ws.send_text(text)
            if self.closing is not None:
                await self.ws.close(*self.closing)
        except WebSocketDisconnect:
            self._gone()
        except Exception:
            log.exception("sending on a WebSocket failed; closing it")
            failed = True
        finally:
            self.writer = None
        if failed:
            self._broken()

    def _gone(self) -> None:
        """The client left (its socket is closed): nothing more can be sent; the receive loop ends."""
        self.closed = True
        self.waiting.clear()

    def _broken(self) -> None:
        """After a send failed unexpectedly (and was logged): close the connection so that the client
        learns, with the close that was due if there was one, unless the close is what failed."""
        if self.ws.application_state is WebSocketState.DISCONNECTED:  # the close frame was sent or tried
            self._gone()
            return
        self._shut(*(self.closing or (INTERNAL_ERROR, "Internal server error while sending")))


async def resume(coroutine: Coroutine[Any, Any, None], suspended: object) -> None:
    """Finish, as a task would, a coroutine that was run eagerly (`coroutine.send(None)`) until it
    yielded `suspended`. The future it yielded is marked as blocking by its own `await`; a task clears
    that mark before it waits, and so must we: awaiting the future again with the mark set raises
    "await wasn't used with future"."""
    try:
        while True:
            if suspended is None:  # a bare yield (asyncio.sleep(0)): one turn of the loop
                await asyncio.sleep(0)
            elif getattr(suspended, "_asyncio_future_blocking", None) is True:
                suspended._asyncio_future_blocking = False  # type: ignore[attr-defined]
                await asyncio.wait((suspended,))  # type: ignore[arg-type]
            else:
                raise RuntimeError(f"a send yielded {suspended!r}, which is not a future")
            try:
                suspended = coroutine.send(None)  # it takes the future's result or exception itself
            except StopIteration:
                return
    except BaseException:
        coroutine.close()  # cancelled (or a bad yield): let the send clean up
        raise


class Member:
    """A subscription to a shared topic (a live board) once it has joined its group: all it keeps is its
    place in the group (no task, no executor, no stream), and `cancel()` (the client's `complete`, the
    connection's end) takes it out, as cancelling an operation's task does for other operations."""

    __slots__ = ("connection", "op_id", "view", "group", "stream", "field")

    def __init__(self, connection: Connection, op_id: str, view: Any, group: Any, stream: Any, field: str) -> None:
        self.connection, self.op_id, self.view, self.group = connection, op_id, view, group
        self.stream, self.field = stream, field

    def cancel(self) -> None:
        connection, op_id = self.connection, self.op_id
        if self.stream is None:
            return
        stream, self.stream = self.stream, None
        if connection.operations.get(op_id) is self:
            del connection.operations[op_id]
        try:
            self.view.leave(self.group, (connection, op_id))
        finally:
            stream.release()
            observe.SUBSCRIPTIONS.labels(self.field).dec()


class WebSocketEndpoint:
    def __init__(
        self,
        pipeline: Pipeline,
        realtime: Any,
        init_timeout: float = 10.0,
        keepalive: float = 15.0,
        max_operations: int = 100,
    ) -> None:
        self.pipeline, self.realtime = pipeline, realtime
        self.schema, self.engine = pipeline.schema, pipeline.engine
        self.init_timeout, self.keepalive, self.max_operations = init_timeout, keepalive, max_operations
        # Messages that may wait for one connection before it is closed as too slow: what a
        # subscription's queue may hold (SALESGRAPH_SUBSCRIBER_QUEUE).
        self.queue_size: int = getattr(realtime.hub, "queue_size", 1000)
        self.connections: weakref.WeakSet[Connection] = weakref.WeakSet()
        self._keepalive_task: asyncio.Task[None] | None = None
        self.stopping = False  # set by `going_away`: the process is about to stop
        self._rendered_events: OrderedDict[int, dict[Any, Any]] = OrderedDict()  # see `_event_renders`
        self.renders = 0  # executions of a subscription's document for a state or an event (tests count them)

    async def check_callers(self) -> None:
        """After a token, a user or a partner changed (`TokenCache.listeners`): look up the token of every
        open socket again, all in one statement, and close with 4403 each socket whose caller is no longer the
        one it signed in as (revoked, expired, deleted, another role or other scopes). Its client connects
        again (with a valid token) and resumes with `since`; until then nothing more reaches it."""
        by_token: dict[str, list[Connection]] = defaultdict(list)
        for connection in list(self.connections):
            if connection.principal is not None and connection.authorization is not None and not connection.closed:
                by_token[connection.authorization].append(connection)
        if not by_token:
            return
        found = await lookup_tokens(self.engine, by_token)  # one statement for every token
        for authorization, connections in by_token.items():
            lookup = found[authorization]
            principal = lookup.principal if lookup is not None else None
            for connection in connections:
                if connection.principal != principal:
                    connection.close(FORBIDDEN, CREDENTIALS_CHANGED)

    def going_away(self) -> int:
        """Close every WebSocket with 1001 (after the message being written), and any that opens from now
        on: a deploy stops this process, the clients reconnect (through the load balancer, to another one)
        and resume their subscriptions with `since`. Returns how many were open."""
        self.stopping = True
        open_now = list(self.connections)
        for connection in open_now:
            connection.close(GOING_AWAY, GOING_AWAY_REASON)
        return len(open_now)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        ws = WebSocket(scope, receive, send)
        offered = scope.get("subprotocols") or []
        protocol = TRANSPORT_WS if TRANSPORT_WS in offered else LEGACY_WS if LEGACY_WS in offered else None
        await ws.accept(subprotocol=protocol)
        if protocol is None:
            await ws.close(SUBPROTOCOL_NOT_ACCEPTABLE, f"Subprotocol not acceptable: use {TRANSPORT_WS} or {LEGACY_WS}")
            return
        if self.stopping:
            await ws.close(GOING_AWAY, GOING_AWAY_REASON)
            return
        connection = Connection(ws, protocol, self.queue_size)
        self.connections.add(connection)
        self._ensure_keepalive()
        observe.CONNECTIONS.inc()
        try:
            try:
                await self._serve(connection)
            except _Close as close:
                connection.close(close.code, close.reason)
                await self._serve(connection)  # until the close frame is out (or the client left)
        except WebSocketDisconnect:
            pass
        finally:
            observe.CONNECTIONS.dec()
            if connection.expiry is not None:
                connection.expiry.cancel()
            connection.closed = True
            for task in list(connection.operations.values()):
                task.cancel()
            if connection.writer is not None:  # the client left, or the server stops: it cannot be sent
                connection.writer.cancel()
            self.connections.discard(connection)

    async def _serve(self, connection: Connection) -> None:
        """Handle the client's messages until it disconnects. Once the connection is closing, they are
        ignored: its close frame may wait behind messages the client has not read yet, and uvicorn
        reports the disconnect once the close frame is out."""
        deadline = time.monotonic() + self.init_timeout
        while True:
            if connection.acknowledged or connection.closed:
                message = await connection.ws.receive()
            else:
                try:
                    message = await asyncio.wait_for(connection.ws.receive(), max(0.0, deadline - time.monotonic()))
                except TimeoutError:
                    raise _Close(INIT_TIMEOUT, "Connection initialisation timeout") from None
            if message["type"] == "websocket.disconnect":
                return
            if connection.closed:
                continue
            raw = message.get("text")
            if raw is None and message.get("bytes") is not None:
                raw = message["bytes"].decode("utf-8", "replace")
            try:
                parsed = orjson.loads(raw or "")
            except orjson.JSONDecodeError:
                raise _Close(BAD_REQUEST, "Invalid message received: not JSON") from None
            if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str):
                raise _Close(BAD_REQUEST, "Invalid message received: no `type`")
            if connection.protocol == TRANSPORT_WS:
                await self._transport_message(connection, parsed)
            else:
                await self._legacy_message(connection, parsed)

    # --- graphql-transport-ws ---

    async def _transport_message(self, connection: Connection, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "connection_init":
            if connection.acknowledged:
                raise _Close(TOO_MANY_INITS, "Too many initialisation requests")
            if not await self._authenticate(connection, message.get("payload")):
                raise _Close(
                    FORBIDDEN, 'Forbidden: connection_init needs a valid token as {"authorization": "Bearer <token>"}'
                )
            connection.acknowledged = True
            await connection.send({"type": "connection_ack"})
        elif kind == "ping":
            await connection.send({"type": "pong", **({"payload": message["payload"]} if "payload" in message else {})})
        elif kind == "pong":
            pass
        elif kind == "subscribe":
            if not connection.acknowledged:
                raise _Close(UNAUTHORIZED, "Unauthorized: send connection_init first")
            op_id, payload = message.get("id"), message.get("payload")
            if not isinstance(op_id, str) or not op_id or not isinstance(payload, dict):
                raise _Close(BAD_REQUEST, "Invalid message received: subscribe needs an `id` and a `payload`")
            if op_id in connection.operations:
                raise _Close(SUBSCRIBER_EXISTS, f"Subscriber for {op_id} already exists")
            self._start(connection, op_id, payload)
        elif kind == "complete":
            task = connection.operations.pop(str(message.get("id")), None)
            if task is not None:
                task.cancel()
        else:
            raise _Close(BAD_REQUEST, f"Invalid message received: unknown type {kind!r}")

    # --- legacy graphql-ws (subscriptions-transport-ws) ---

    async def _legacy_message(self, connection: Connection, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "connection_init":
            if not await self._authenticate(connection, message.get("payload")):
                await connection.send(
                    {
                        "type": "connection_error",
                        "payload": {
                            "message": 'connection_init needs a valid token as {"authorization": "Bearer <token>"}'
                        },
                    }
                )
                raise _Close(FORBIDDEN, "Forbidden")
            connection.acknowledged = True
            await connection.send({"type": "connection_ack"})
            await connection.send({"type": "ka"})
        elif kind == "start":
            op_id, payload = message.get("id"), message.get("payload")
            if not connection.acknowledged:
                await connection.send(
                    {
                        "type": "error",
                        "id": op_id,
                        "payload": {"message": "send connection_init (with the token) before start"},
                    }
                )
                return
            if not isinstance(op_id, str) or not op_id or not isinstance(payload, dict):
                await connection.send(
                    {"type": "error", "id": op_id, "payload": {"message": "start needs an `id` and a `payload`"}}
                )
                return
            previous = connection.operations.pop(op_id, None)
            if previous is not None:  # the legacy protocol restarts an id that is reused
                previous.cancel()
            self._start(connection, op_id, payload)
        elif kind == "stop":
            op_id = str(message.get("id"))
            task = connection.operations.pop(op_id, None)
            if task is not None:
                task.cancel()
                await connection.send({"type": "complete", "id": op_id})
        elif kind == "connection_terminate":
            raise _Close(1000, "terminated by the client")
        else:
            await connection.send(
                {"type": "error", "id": message.get("id"), "payload": {"message": f"unknown message type {kind!r}"}}
            )

    # --- both ---

    async def _authenticate(self, connection: Connection, payload: Any) -> bool:
        authorization = None
        if isinstance(payload, dict):
            for key, value in payload.items():
                if isinstance(key, str) and key.lower() == "authorization" and isinstance(value, str):
                    authorization = value
            headers = payload.get("headers")
            if authorization is None and isinstance(headers, dict):
                authorization = next(
                    (v for k, v in headers.items() if str(k).lower() == "authorization" and isinstance(v, str)), None
                )
        if authorization is None:
            authorization = connection.ws.headers.get("authorization")
        try:
            found = await lookup_token(self.engine, authorization)
        except Exception as error:
            if database_refusal(error) is None:
                raise
            log.warning("connection_init: the database cannot be used (%r)", error)
            raise _Close(TRY_AGAIN_LATER, "Try again later: the database cannot be used now") from None
        if found is None:
            return False
        principal = found.principal
        if found.expires_at is not None:  # the socket lasts as long as its token
            seconds = (found.expires_at - self.pipeline.clock()).total_seconds()
            connection.expiry = asyncio.get_running_loop().call_later(
                max(seconds, 0), connection.close, FORBIDDEN, CREDENTIALS_CHANGED
            )
        connection.authorization, connection.principal = authorization, principal
        connection.context = self.pipeline.context(principal, "ws-" + uuid.uuid4().hex[:16], self.realtime)
        return True

    def _start(self, connection: Connection, op_id: str, payload: dict[str, Any]) -> None:
        if len(connection.operations) >= self.max_operations:
            asyncio.ensure_future(
                self._fail(
                    connection,
                    op_id,
                    [GraphQLError(f"at most {self.max_operations} operations may run on one connection at a time")],
                )
            )
            return
        task = asyncio.create_task(self._operation(connection, op_id, payload))
        connection.operations[op_id] = task
        task.add_done_callback(
            lambda _t: connection.operations.pop(op_id, None) if connection.operations.get(op_id) is _t else None
        )

    async def _fail(self, connection: Connection, op_id: str, errors: list[GraphQLError]) -> None:
        """Errors before anything ran (validation, unknown operation): the protocol's `error` message."""
        formatted = [e.formatted for e in errors]
        if connection.protocol == TRANSPORT_WS:
            await connection.send({"type": "error", "id": op_id, "payload": formatted})
        else:
            await connection.send({"type": "error", "id": op_id, "payload": formatted[0]})

    async def _next(self, connection: Connection, op_id: str, body: str) -> None:
        kind = "next" if connection.protocol == TRANSPORT_WS else "data"
        await connection.send_raw(f'{{"type":"{kind}","id":{orjson.dumps(op_id).decode()},"payload":{body}}}')

    async def _operation(self, connection: Connection, op_id: str, payload: dict[str, Any]) -> None:
        assert connection.context is not None
        operation = tracing.start_operation(payload)  # None when traces are off
        # With traces on, the request id is the operation's trace id, as over HTTP.
        request_id = tracing.trace_id() or f"{connection.context.request_id}-{op_id}"
        # This task's own statement count (a task runs in a copy of the context that started it).
        stats = QueryStats()
        current_stats.set(stats)
        seen = observe.Seen("websocket", time.perf_counter(), request_id, principal=connection.principal)
        try:
            result: ExecutionResult | None = None
            try:
                params = params_of(payload)
                seen.name = params.operation_name
                prepared = await self.pipeline.prepare(
                    params, Caller(connection.authorization, principal=connection.principal)
                )
                seen.kind = prepared.kind.value
                seen.name = prepared.operation.name.value if prepared.operation.name else None
                context = replace(connection.context, request_id=request_id, loaders={})
                if prepared.kind is not OperationType.SUBSCRIPTION:
                    result = await self.pipeline.execute(prepared, context)
            except Invalid as invalid:
                seen.refused("GRAPHQL_VALIDATION_FAILED", "invalid")
                observe.record(seen, stats)
                await self._fail(connection, op_id, invalid.errors)
                return
            except Refused as refused:  # before execution, or its time limit
                seen.refused(refused.code)
                if refused.operation is not None:
                    seen.kind, seen.name = refused.operation
                observe.record(seen, stats)
                await self._fail(connection, op_id, [GraphQLError(refused.message, extensions=refused.extensions)])
                return
            if result is not None:
                if result.errors:
                    seen.outcome = "errors"
                observe.record(seen, stats)
                await self._next(connection, op_id, self._body(result, request_id))
            else:
                observe.record(seen, stats)  # a subscription is logged when it starts
                field = _root_field(prepared)
                observe.SUBSCRIPTIONS.labels(field).inc()
                parked = False
                try:
                    parked = await self._subscription(
                        connection, op_id, prepared, context, request_id, seen, stats, operation, field
                    )
                finally:
                    if not parked:
                        observe.SUBSCRIPTIONS.labels(field).dec()
                if parked:
                    return  # a member of its topic's group now: `Member.cancel` ends it
            await connection.send({"type": "complete", "id": op_id})
        except asyncio.CancelledError:
            raise
        except SlowConsumer as error:
            log.info("closing slow subscriber %s: %s", request_id, error)
            connection.close(SLOW_CONSUMER, "Slow consumer: events piled up; reconnect and resume with `since`")
        except Exception as error:
            refused = database_refusal(error)
            if refused is not None:  # the client subscribes again (with `since`) in a moment
                log.warning("subscription %s: %s (%r)", request_id, refused.code, error)
                failure = {"message": refused.message, "extensions": {**refused.extensions, "requestId": request_id}}
            else:
                log.exception("unexpected error in subscription %s", request_id)
                failure = {
                    "message": f"Internal server error (request id {request_id})",
                    "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
                }
            await self._next(connection, op_id, orjson.dumps({"errors": [failure]}).decode())
            await connection.send({"type": "complete", "id": op_id})
        finally:
            if operation is not None:
                operation.end(seen, stats)

    async def _subscription(
        self,
        connection: Connection,
        op_id: str,
        prepared: Prepared,
        context: Context,
        request_id: str,
        seen: observe.Seen,
        stats: QueryStats,
        operation: tracing.Operation | None,
        field: str = "unknown",
    ) -> bool:
        """Run a subscription until it ends; True when it went on as a member of a shared topic's group
        (its stream then stays open, released by `Member.cancel`)."""
        document, params = prepared.document, prepared.params
        variables, operation_name = params.variables, params.operation_name
        executor = FastExecutor.build(self.schema, document, None, context, variables, operation_name)
        if isinstance(executor, list):
            await self._next(connection, op_id, self._body(ExecutionResult(None, executor), request_id))
            return False
        stream = create_source_event_stream(executor)
        if asyncio.iscoroutine(stream) or isinstance(stream, asyncio.Future):
            stream = await stream
        if isinstance(stream, ExecutionResult):
            await self._next(connection, op_id, self._body(stream, request_id))
            return False
        subscription = None
        if operation is not None:  # its span ends once the stream is open; each push is a span linked to it
            subscription = operation.context
            operation.end(seen, stats)
        push_name = f"push {seen.name or _root_field(prepared)}"
        # Subscribers of the same source with the same document, variables and caller share one
        # execution per event: a payload that carries a `rendered` dict caches the response body. A live
        # board's state is one object for every viewer whose board is identical, so there the key holds
        # only what of the caller the document reads (gql/subscriptions/sharing.py): none, its user id,
        # or the whole caller.
        topic = getattr(stream, "topic", None)
        caller: Any = connection.principal
        if topic is not None:
            caller = caller_part(render_reads(self.schema, document), connection.principal, context.viewer.user_id)
        key = (
            document_text(document),
            _interned(orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS).decode()),
            operation_name,
            caller,
        )
        parked = False
        try:
            if topic is not None:
                parked = await self._shared(
                    connection, op_id, stream, topic, executor, context, request_id, key, push_name, subscription, field
                )
                return parked
            async for event in stream:
                if not tracing.ENABLED:
                    await self._next(connection, op_id, await self._render(executor, context, event, request_id, key))
                else:
                    await self._traced_push(
                        connection, op_id, executor, context, event, request_id, key, push_name, subscription
                    )
                if connection.closed:
                    return False
            return False
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None and not parked:
                try:
                    await aclose()
                except Exception:
                    log.exception("closing the event stream of %s failed", request_id)

    async def _traced_push(
        self,
        connection: Connection,
        op_id: str,
        executor: Any,
        context: Context,
        event: Any,
        request_id: str,
        key: Any,
        name: str,
        subscription: Any,
    ) -> None:
        """One push as a span: a child of the trace the event carries (the mutation that committed it),
        linked to the subscription's operation; it holds the render's levels and SQL (or the wait for a
        render another subscriber with the same document started) and the send."""
        logged = getattr(event, "event", None)  # an event subscription's item wraps the outbox event
        logged = logged if isinstance(logged, dict) else {}
        attributes: dict[str, Any] = {"salesgraph.request_id": request_id}
        if "id" in logged:
            attributes["salesgraph.event.id"] = logged["id"]
        started = tracing.start_push(name, logged.get("traceparent"), subscription, **attributes)
        try:
            await self._next(connection, op_id, await self._render(executor, context, event, request_id, key))
        finally:
            tracing.end_push(started)

    def _event_renders(self, event_id: int) -> dict[Any, Any]:
        """The renders of the outbox event `event_id` by key, for the last `RENDERED_EVENTS` events: every
        subscriber of an event stream with the same document, variables and caller gets the same item
        for an event (its subscription wraps the same outbox event), so one render serves them all."""
        renders = self._rendered_events
        found = renders.get(event_id)
        if found is None:
            found = renders[event_id] = {}
            while len(renders) > RENDERED_EVENTS:
                renders.popitem(last=False)
        return found

    async def _render(self, executor: Any, context: Context, event: Any, request_id: str, key: Any) -> str:
        """The response body for `event`, executed once for all subscribers with the same key when the
        event carries a `rendered` cache, or is an outbox event (the first one executes, the others wait
        for its result)."""
        rendered = getattr(event, "rendered", None)
        if rendered is None:
            logged = getattr(event, "event", None)  # an event subscription's item wraps the outbox event
            if isinstance(logged, dict) and isinstance(logged.get("id"), int):
                rendered = self._event_renders(logged["id"])
        future: asyncio.Future[str] | None = None
        if rendered is not None:
            found = rendered.get(key)
            if isinstance(found, str):
                return found
            if found is not None:
                return await asyncio.shield(found)
            future = rendered[key] = asyncio.get_running_loop().create_future()
            future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.renders += 1
        try:
            per_event = executor.build_per_event_executor(event)
            per_event.context_value = replace(context, loaders={})
            result = execute_subscription_event(per_event)
            if not isinstance(result, ExecutionResult):
                result = await result
            body = self._body(result, request_id)
        except BaseException as error:
            if future is not None:
                rendered.pop(key, None)  # type: ignore[union-attr]
                if isinstance(error, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(error)
            raise
        if future is not None:
            future.set_result(body)
            rendered[key] = body  # type: ignore[index]
        return body

    async def _shared(
        self,
        connection: Connection,
        op_id: str,
        stream: Any,
        topic: Any,
        executor: Any,
        context: Context,
        request_id: str,
        key: Any,
        push_name: str,
        subscription: Any,
        field: str,
    ) -> bool:
        """A subscription to a shared topic (a live board): the first state is sent from here, then the
        subscriber joins the topic's group for its key, and the topic renders each new state once and
        pushes it to every member in one loop, with no task woken per subscriber. Once joined, the
        subscription is a `Member` in the connection's operations and this task ends (returns True): an
        idle subscription keeps its place in the group and nothing else (its executor and context only
        while it is the one its group renders with)."""
        first = await stream.__anext__()
        if not tracing.ENABLED:
            await self._next(connection, op_id, await self._render(executor, context, first, request_id, key))
        else:
            await self._traced_push(
                connection, op_id, executor, context, first, request_id, key, push_name, subscription
            )
        await stream.close_updates()
        prefix = (
            f'{{"type":"{"next" if connection.protocol == TRANSPORT_WS else "data"}",'
            f'"id":{orjson.dumps(op_id).decode()},"payload":'
        )
        group = topic.join(
            key,
            (connection, op_id),
            prefix,
            lambda board: self._render(executor, context, board, request_id, key),
            subscription,
        )
        parked = False
        try:
            latest = topic.latest
            if latest is not first:  # a state came between the first and joining: send it
                body = await self._render(executor, context, latest, request_id, key)
                if topic.latest is latest:  # (a newer one has reached us through the group otherwise)
                    connection.push(op_id, prefix + body + "}")
            if connection.closed or connection.operations.get(op_id) is not asyncio.current_task():
                return False  # closed or completed meanwhile (its task is being cancelled)
            connection.operations[op_id] = Member(connection, op_id, topic, group, stream, field)
            parked = True
            return True
        finally:
            if not parked:
                topic.leave(group, (connection, op_id))

    @staticmethod
    def _body(result: ExecutionResult, request_id: str) -> str:
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [masked_error(e, request_id) for e in result.errors]
        body["data"] = result.data
        return orjson.dumps(body).decode()

    # --- keep-alive: one loop for every connection ---

    def _ensure_keepalive(self) -> None:
        if self.keepalive > 0 and (self._keepalive_task is None or self._keepalive_task.done()):
            self._keepalive_task = asyncio.create_task(self._keepalive_loop(), name="ws-keepalive")

    async def _keepalive_loop(self) -> None:
        while self.connections:
            await asyncio.sleep(self.keepalive)
            ping = '{"type":"ping"}'
            for n, connection in enumerate(list(self.connections)):
                if connection.acknowledged and not connection.closed:
                    connection.push("", ping if connection.protocol == TRANSPORT_WS else '{"type":"ka"}')
                if n % 500 == 499:
                    await asyncio.sleep(0)  # let pushes and requests through during a long sweep
