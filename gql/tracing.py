"""OpenTelemetry traces, off unless the standard OTEL_* variables ask for them.

On (`OTEL_TRACES_EXPORTER` other than `none`, or an `OTEL_EXPORTER_OTLP_ENDPOINT` /
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, and not `OTEL_SDK_DISABLED=true`): the SDK's tracer provider with
the OTLP exporter (HTTP/protobuf), which reads its own OTEL_* settings (endpoint, headers), or with
`OTEL_TRACES_EXPORTER=console` each span as a JSON line on stderr. Each GraphQL operation, over HTTP or a
WebSocket, is a span named by its operation, continuing the trace of a W3C `traceparent` the client sent
(a header; in a WebSocket message, its `extensions`); each level of the breadth-first executor is a child
span, and each SQL statement is a span of SQLAlchemy's instrumentation. The request id of a masked error
is then the trace id, so one id finds the log line and the trace. The events a mutation commits keep its
traceparent in the outbox; their publication is a span of that trace (persistence/outbox.py) and sends
its own traceparent with them, so each push they cause, in any process, is a child of it, linked to its
subscription's span. Off, nothing here runs on a request beyond one boolean test."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from sqlalchemy.ext.asyncio import AsyncEngine

ENABLED = False
_tracer: trace.Tracer | None = None
_provider: Any = None
_instrumented: set[int] = set()


def wanted() -> bool:
    """Whether the environment asks for traces (the OpenTelemetry SDK's own variables)."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(
        exporter
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def configure(engine: AsyncEngine, exporter: Any = None) -> bool:
    """Switch traces on for this process when the environment asks (or when `exporter`, a span exporter,
    is given: tests pass the SDK's in-memory one, and `reset` after), and trace `engine`'s statements (an
    app made while traces are on traces its own engine's). Returns whether on."""
    global ENABLED, _tracer, _provider
    if exporter is None and not wanted() and not ENABLED:
        return ENABLED
    if _provider is None or exporter is not None:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        resource = Resource.create()  # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, when set
        if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
            resource = resource.merge(Resource({"service.name": "salesgraph"}))
        _provider = TracerProvider(resource=resource)
        if exporter is None:
            _provider.add_span_processor(_processor_from_environment())
            trace.set_tracer_provider(_provider)  # for any library that traces through the global one
        else:
            _provider.add_span_processor(SimpleSpanProcessor(exporter))
        _tracer = _provider.get_tracer("salesgraph")
        ENABLED = True
    if id(engine.sync_engine) not in _instrumented:
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        instrumentor = SQLAlchemyInstrumentor()
        if instrumentor.is_instrumented_by_opentelemetry:  # (one instrumentation per process: a new engine joins)
            instrumentor.uninstrument()
        # Its release declares SQLAlchemy < 2.1; the engine events it listens to are 2.1's too (the test
        # checks a span per statement), so the version check is skipped rather than the statements untraced.
        instrumentor.instrument(engine=engine.sync_engine, tracer_provider=_provider, skip_dep_check=True)
        _instrumented.clear()
        _instrumented.add(id(engine.sync_engine))
    return ENABLED


def _processor_from_environment() -> Any:
    """OTLP over HTTP (batched), or `OTEL_TRACES_EXPORTER=console`: each span as one JSON line on stderr,
    where the logs go, written as it ends (for a look without a collector)."""
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    name = (os.environ.get("OTEL_TRACES_EXPORTER", "").split(",")[0].strip().lower()) or "otlp"
    if name == "console":
        return SimpleSpanProcessor(
            ConsoleSpanExporter(out=sys.stderr, formatter=lambda span: span.to_json(indent=None) + "\n")
        )
    if name != "otlp":
        raise SystemExit(f"OTEL_TRACES_EXPORTER={name}: Salesgraph exports traces with otlp or console (or none)")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return BatchSpanProcessor(OTLPSpanExporter())


def reset() -> None:
    """Traces off again, every engine untraced (tests that switched them on)."""
    global ENABLED, _tracer, _provider
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    instrumentor = SQLAlchemyInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
    _instrumented.clear()
    ENABLED, _tracer, _provider = False, None, None


@contextlib.contextmanager
def request_span(name: str, headers: Mapping[str, str]) -> Iterator[Any]:
    """The span of one request, continuing the trace of the client's `traceparent`; None when off."""
    if not ENABLED or _tracer is None:
        yield None
        return
    parent = propagate.extract(headers)
    with _tracer.start_as_current_span(name, context=parent, kind=trace.SpanKind.SERVER) as span:
        yield span


@contextlib.contextmanager
def span(name: str, **attributes: Any) -> Iterator[None]:
    """A child span of the current one (an executor level); nothing when off."""
    if not ENABLED or _tracer is None:
        yield
        return
    with _tracer.start_as_current_span(name, attributes=attributes):
        yield


class Operation:
    """The span of one WebSocket operation: current in its task from `start_operation` until `end`, which a
    subscription calls once its stream is open (its pushes are spans of their own, linked to it)."""

    __slots__ = ("span", "context", "_token")

    def __init__(self, span: Any) -> None:
        self.span, self.context = span, span.get_span_context()
        self._token = otel_context.attach(trace.set_span_in_context(span))

    def end(self, seen: Any, stats: Any) -> None:
        if self.span is None:
            return
        describe(self.span, seen, stats)
        self.span.end()
        otel_context.detach(self._token)
        self.span = None


def start_operation(payload: Mapping[str, Any]) -> Operation | None:
    """A WebSocket operation's span, current in the calling task, continuing the trace of a `traceparent`
    sent in the operation's `extensions` (a message has no headers); None when off."""
    if not ENABLED or _tracer is None:
        return None
    extensions = payload.get("extensions")
    carrier = extensions if isinstance(extensions, dict) else {}
    parent = propagate.extract({k: v for k, v in carrier.items() if isinstance(v, str)})
    return Operation(_tracer.start_span("graphql", context=parent, kind=trace.SpanKind.SERVER))


def start_push(name: str, traceparent: str | None, subscription: Any, **attributes: Any) -> Any:
    """A span for one push of a subscription (render and send), current until `end_push`: a child of the
    context the event carries (the operation that committed it, through the outbox's publication), linked
    to the subscription's operation span; a root of its own trace when the event carries none."""
    assert _tracer is not None
    parent = propagate.extract({"traceparent": traceparent}) if traceparent else None  # None: the current span
    linked = subscription if isinstance(subscription, list) else [] if subscription is None else [subscription]
    links = [trace.Link(context) for context in linked if context.is_valid] or None
    span = _tracer.start_span(name, context=parent, kind=trace.SpanKind.CONSUMER, links=links, attributes=attributes)
    return span, otel_context.attach(trace.set_span_in_context(span))


def end_push(started: Any) -> None:
    span, token = started
    span.end()
    otel_context.detach(token)


def tracer() -> trace.Tracer | None:
    """The process's tracer when traces are on (for the outbox dispatcher, which persistence/ holds)."""
    return _tracer if ENABLED else None


def trace_id() -> str | None:
    """The current trace's id (32 hex digits), when traces are on and a span is current."""
    if not ENABLED:
        return None
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def describe(span: Any, seen: Any, stats: Any) -> None:
    """Name the request's span by its operation (`query Probe`) and give it the figures of its log line."""
    span.update_name(f"{seen.kind or 'graphql'} {seen.name or ''}".strip())
    span.set_attribute("graphql.operation.type", seen.kind or "unknown")
    if seen.name:
        span.set_attribute("graphql.operation.name", seen.name)
    span.set_attribute("salesgraph.outcome", seen.outcome)
    if seen.code:
        span.set_attribute("salesgraph.code", seen.code)
    if seen.status is not None:
        span.set_attribute("http.response.status_code", seen.status)
    if stats is not None:
        span.set_attribute("db.statements", stats.statements)
    span.set_attribute("salesgraph.request_id", seen.request_id)
