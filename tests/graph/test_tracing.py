"""Traces: one carrier query is an HTTP span, its GraphQL operation's span, and a span per SQL
statement, each with the right parent, and no attribute holds a token or a commercial value."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from graph.app import create_app
from graph.database import source_dsns
from graph.settings import Settings, load_settings
from graph.tracing import untraced
from resolvers.sources import SourcePools
from tests.conftest import SqlCounter, Tokens
from tests.graph.test_observation import OWN_CONTAINER


@pytest.fixture
async def traced_client(
    test_settings: Settings, seeded_url: str, sql_counter: SqlCounter
) -> AsyncIterator[tuple[httpx.AsyncClient, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(test_settings, source_dsns(test_settings, seeded_url), None, provider)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hg.test") as client:
                yield client, exporter
    finally:
        untraced()


def values(span: ReadableSpan) -> list[str]:
    found = [str(v) for v in (span.attributes or {}).values()]
    for event in span.events:
        found += [str(v) for v in (event.attributes or {}).values()]
    return [span.name, *found]


async def test_a_carrier_query_is_http_then_graphql_then_sql(
    traced_client: tuple[httpx.AsyncClient, InMemorySpanExporter],
    tokens: Tokens,
    seeded_pools: SourcePools,
) -> None:
    client, exporter = traced_client
    row = await seeded_pools["cargo"].fetchrow(OWN_CONTAINER)
    assert row is not None
    number, consignee = row["equipment_reference"], row["consignee_name"]
    token = tokens.mint("MSCU", "cargo:read", "cargo:commercial")
    query = "query Box($n: String!) { container(number: $n) { number consignee } }"
    response = await client.get(
        "/graphql",
        params={"query": query, "variables": json.dumps({"n": number})},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.json()["data"]["container"] == {"number": number, "consignee": consignee}

    (http,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    # The rest of the process's statements (the change feed's, the gauges') are traces of
    # their own.
    spans = [
        s for s in exporter.get_finished_spans() if s.context.trace_id == http.context.trace_id
    ]
    (graphql,) = [s for s in spans if s.name == "query Box"]
    sql = [s for s in spans if s not in (http, graphql)]
    assert http.parent is None
    assert graphql.parent is not None
    assert graphql.parent.span_id == http.context.span_id
    assert graphql.attributes == {
        "graphql.operation.type": "query",
        "graphql.operation.name": "Box",
    }
    assert sql, "no SQL span"
    assert all(s.attributes and "db.system" in str(dict(s.attributes)) for s in sql)
    under_graphql = [s for s in sql if s.parent and s.parent.span_id == graphql.context.span_id]
    assert under_graphql, "no statement under the GraphQL operation"
    assert {s.parent.span_id for s in sql if s.parent} <= {
        http.context.span_id,
        graphql.context.span_id,
    }
    for span in exporter.get_finished_spans():
        for value in values(span):
            for secret in (token, number, consignee, "variables"):
                assert secret not in value, (span.name, value)


def test_traces_are_off_unless_the_otel_variables_ask() -> None:
    base = {"HARBORGRAPH_PORT_LOCODE": "USLAX"}
    assert load_settings(base).traces_exporter is None
    endpoint = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    assert load_settings({**base, **endpoint}).traces_exporter == "otlp"
    assert load_settings({**base, "OTEL_TRACES_EXPORTER": "console"}).traces_exporter == "console"
    assert (
        load_settings({**base, **endpoint, "OTEL_TRACES_EXPORTER": "none"}).traces_exporter is None
    )
    assert load_settings({**base, **endpoint, "OTEL_SDK_DISABLED": "true"}).traces_exporter is None
