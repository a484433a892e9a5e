"""OpenTelemetry traces: HTTP request, GraphQL operation, each SQL statement.

Off unless the standard OTEL_* variables ask for it (graph.settings reads them); the exporter
then reads its own OTEL_EXPORTER_OTLP_* settings. A span never carries a header value, a query
string, a variable, a document or a statement's arguments: only what the code wrote."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Span, Tracer
from starlette.types import ASGIApp

SECRET_HEADERS = ["authorization", "proxy-authorization", "cookie", "set-cookie"]
# Attributes the ASGI instrumentation fills from the URL (old and new conventions).
URL_ATTRIBUTES = ("http.url", "url.full", "http.target")


def exporter(name: str) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def provider_from_environment(exporter_name: str) -> TracerProvider:
    """A provider for OTEL_SERVICE_NAME/OTEL_RESOURCE_ATTRIBUTES, batching to the exporter."""
    provider = TracerProvider(resource=Resource.create())
    provider.add_span_processor(BatchSpanProcessor(exporter(exporter_name)))
    return provider


def _without_query(value: str) -> str:
    parts = urlsplit(value)
    return urlunsplit(parts._replace(query="", fragment=""))


def _scrub_url(span: Span, _scope: dict[str, Any]) -> None:
    """GET /graphql carries its variables in the query string: keep only the path."""
    attributes = getattr(span, "attributes", None) or {}
    for name in URL_ATTRIBUTES:
        value = attributes.get(name)
        if isinstance(value, str):
            span.set_attribute(name, _without_query(value))
    if "url.query" in attributes:
        span.set_attribute("url.query", "")


def traced(app: ASGIApp, provider: TracerProvider) -> ASGIApp:
    """The app inside a server span per request, with SQL statements as child spans."""
    instrumentor = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
    instrumentor.instrument(tracer_provider=provider, capture_parameters=False)
    return OpenTelemetryMiddleware(
        app,
        tracer_provider=provider,
        server_request_hook=_scrub_url,
        http_capture_headers_sanitize_fields=SECRET_HEADERS,
        exclude_spans=["receive", "send"],
    )


def untraced() -> None:
    """Undo the asyncpg instrumentation (it patches the driver for the whole process)."""
    AsyncPGInstrumentor().uninstrument()  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def operation_span(
    tracer: Tracer | None, operation_type: str | None, name: str | None
) -> Iterator[None]:
    """The GraphQL operation's span (none when tracing is off: no cost on the hot path).
    `operation_type` is None for a document that names no operation it holds."""
    if tracer is None:
        yield
        return
    attributes = {}
    if operation_type is not None:
        attributes["graphql.operation.type"] = operation_type
    if name is not None:
        attributes["graphql.operation.name"] = name
    span_name = " ".join(part for part in (operation_type or "graphql", name) if part)
    with tracer.start_as_current_span(span_name, attributes=attributes):
        yield
