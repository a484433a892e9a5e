"""The compiled path with every source in a database of its own (the per-source URLs).

Nothing joins across sources: each statement reads one database, and the answer is spliced
from their fragments. It must equal the resolver path's and cost one statement per source
touched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from graph.database import with_database
from graph.errors import UNAVAILABLE_MESSAGE
from graph.runtime import migrate_all
from graph.settings import Settings
from resolvers.seed import seed
from resolvers.sources import SOURCES, SourcePools
from tests.conftest import TEST_ANCHOR, Api, SqlCounter, Tokens, _create, _drop, served
from tests.helpers import source_statements
from tests.schema.operations import generate, seeded_values
from tests.schema.test_compiled import callers, comparable
from tests.servers import free_port

CARRIER_QUERY = """
query($carrier: String!) {
  portCalls(first: 5, filter: {carrier: $carrier}) { edges { node {
    id vessel { imo name } terminal { smdgCode }
    containers(first: 4) { edges { node {
      number status terminal { name } portCall { portVisitReference }
      gateTransactions { turnTimeMinutes }
      events(first: 2) { edges { node { eventType eventDateTime } } }
    } } }
  } } }
}
"""


@pytest.fixture(scope="module")
async def split_dsns(pg_admin_url: str) -> AsyncIterator[dict[str, str]]:
    """One database per source, migrated and seeded (scale 0.02)."""
    names = {source: await _create(pg_admin_url) for source in SOURCES}
    dsns = {source: with_database(pg_admin_url, name) for source, name in names.items()}
    await migrate_all(dsns)
    opened = {s: await asyncpg.create_pool(dsn, min_size=1, max_size=2) for s, dsn in dsns.items()}
    try:
        await seed(
            SourcePools(opened), scale=0.02, seed=7, anchor=dt.date.fromisoformat(TEST_ANCHOR)
        )
    finally:
        for pool in opened.values():
            await pool.close()
    yield dsns
    for name in names.values():
        await _drop(pg_admin_url, name)


@contextlib.asynccontextmanager
async def _client(
    settings: Settings, dsns: dict[str, str], counter: SqlCounter, execution: str
) -> AsyncIterator[Api]:
    configured = dataclasses.replace(settings, execution=execution)
    async with served(configured, dsns, counter) as client:
        yield Api(client)


@pytest.fixture(scope="module")
async def split_api(
    test_settings: Settings, split_dsns: dict[str, str], sql_counter: SqlCounter
) -> AsyncIterator[Api]:
    async with _client(test_settings, split_dsns, sql_counter, "compiled") as api:
        yield api


@pytest.fixture(scope="module")
async def split_resolver_api(
    test_settings: Settings, split_dsns: dict[str, str], sql_counter: SqlCounter
) -> AsyncIterator[Api]:
    async with _client(test_settings, split_dsns, sql_counter, "resolvers") as api:
        yield api


async def busiest_carrier(dsns: dict[str, str]) -> str:
    conn = await asyncpg.connect(dsns["vessel"])
    try:
        scac: str = await conn.fetchval(
            "SELECT carrier_scac FROM vessel.port_call GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        )
    finally:
        await conn.close()
    return scac


async def test_one_statement_per_source_and_the_same_answer(
    split_api: Api,
    split_resolver_api: Api,
    split_dsns: dict[str, str],
    tokens: Tokens,
    count_sql: SqlCounter,
) -> None:
    token = tokens.mint("CBP", "vessel:read", "cargo:read", "gate:read")
    variables = {"carrier": await busiest_carrier(split_dsns)}
    await split_api.post(CARRIER_QUERY, variables, token)  # asyncpg's first-use introspection
    async with count_sql() as counter:
        compiled = await split_api.post(CARRIER_QUERY, variables, token)
    expected = await split_resolver_api.post(CARRIER_QUERY, variables, token)
    assert comparable(compiled) == comparable(expected)
    data: dict[str, Any] = compiled.json()["data"]
    boxes = [
        e["node"] for c in data["portCalls"]["edges"] for e in c["node"]["containers"]["edges"]
    ]
    assert boxes, "the carrier's calls carry containers"
    assert all(box["terminal"] and box["portCall"] for box in boxes)
    # vessel (the calls), cargo (their containers), then vessel and gate for those.
    tables = [s.split("FROM", 1)[0] for s in source_statements(counter.statements)]
    assert len(tables) == 4, counter.statements


async def test_generated_operations_answer_alike_across_databases(
    split_api: Api,
    split_resolver_api: Api,
    split_dsns: dict[str, str],
    tokens: Tokens,
) -> None:
    pools = SourcePools(
        {s: await asyncpg.create_pool(dsn, min_size=1, max_size=1) for s, dsn in split_dsns.items()}
    )
    try:
        values = await seeded_values(pools)
    finally:
        for pool in pools.distinct():
            await pool.close()
    who = callers(tokens)
    for seed_number in range(40):
        query, variables = generate(9_000 + seed_number, values)
        for label, token in who:
            compiled = comparable(await split_api.post(query, variables, token))
            expected = comparable(await split_resolver_api.post(query, variables, token))
            assert compiled == expected, f"seed {9_000 + seed_number}, {label}\n{query}"


CALLS_AND_BOXES = """
query($carrier: String!) {
  vessel(imo: "1234568") { name }
  portCalls(first: 3, filter: {carrier: $carrier}) { edges { node {
    portVisitReference vessel { imo }
    containers(first: 2) { edges { node { number } } }
  } } }
}
"""


async def test_a_source_away_takes_only_its_own_fields(
    test_settings: Settings,
    split_api: Api,
    split_dsns: dict[str, str],
    sql_counter: SqlCounter,
    tokens: Tokens,
) -> None:
    """The cargo database away (nothing listens where it should be): the calls are answered,
    each call's containers are null with SERVICE_UNAVAILABLE at their path, on both paths;
    an argument's warning (an IMO number whose check digit fails) is given once."""
    token = tokens.mint("CBP", "vessel:read", "cargo:read")
    variables = {"carrier": await busiest_carrier(split_dsns)}
    before = (await split_api.post(CALLS_AND_BOXES, variables, token)).json()["data"]
    away = {**split_dsns, "cargo": f"postgresql://postgres@127.0.0.1:{free_port()}/cargo"}
    answers = {}
    for execution in ("compiled", "resolvers"):
        async with _client(test_settings, away, sql_counter, execution) as api:
            answers[execution] = await api.post(CALLS_AND_BOXES, variables, token)
    compiled, resolved = answers["compiled"], answers["resolvers"]
    assert comparable(compiled) == comparable(resolved)
    assert (compiled.status_code, compiled.headers.get("retry-after")) == (200, "1")
    calls = before["portCalls"]["edges"]
    assert any(call["node"]["containers"]["edges"] for call in calls)
    body = compiled.json()
    assert body["extensions"] == {
        "warnings": ["imo: 1234568 fails the IMO check digit (expected 7)"]
    }
    assert body["data"] == {
        "vessel": None,
        "portCalls": {"edges": [{"node": {**call["node"], "containers": None}} for call in calls]},
    }
    assert body["errors"] == [
        {
            "message": UNAVAILABLE_MESSAGE,
            "locations": body["errors"][n]["locations"],
            "path": ["portCalls", "edges", n, "node", "containers"],
            "extensions": {"code": "SERVICE_UNAVAILABLE"},
        }
        for n in range(len(calls))
    ]
