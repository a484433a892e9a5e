"""Helpers the schema and resolver tests share: requests as a partner sends them, the
statements they cost, and principals and pools for calling the sources directly."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx

from graph.state import AppState
from resolvers.community import AuditRecord
from resolvers.paging import Page
from resolvers.principal import OrganizationKind, Principal
from resolvers.sources import Pool, SourcePools
from tests.conftest import Api, SqlCounter

Row = asyncpg.Record
UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE"
BAD_USER_INPUT = "BAD_USER_INPUT"
PAGE_SIZES = (10, 100)

# --- Over HTTP ---------------------------------------------------------------------------------


def global_id(type_name: str, node_id: str) -> str:
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def answer(
    api: Api, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> tuple[Any, list[dict[str, Any]]]:
    """data and errors of a request that was executed (HTTP 200)."""
    response = await api.post(query, variables, token)
    payload = response.json()
    assert response.status_code == 200, payload
    return payload["data"], payload.get("errors", [])


def refused(errors: list[dict[str, Any]], code: str, path: list[Any]) -> dict[str, Any]:
    """The one error of a refused field: its code and its path."""
    assert len(errors) == 1, errors
    assert errors[0]["extensions"]["code"] == code, errors
    assert errors[0]["path"] == path, errors
    return errors[0]


async def walk(
    api: Api, query: str, root: str, size: int, token: str | None = None, **variables: Any
) -> list[dict[str, Any]]:
    """Every node of a connection, page by page."""
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        data = await api.data(query, {"first": size, "after": after, **variables}, token)
        page = data[root]
        nodes += [edge["node"] for edge in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


# --- Statements per request (the counter already leaves out asyncpg's own and the audit's) ----


def source_statements(statements: list[str]) -> list[str]:
    """Statements reading the data sources: not the organization lookup of authentication,
    nor the audit writer, which flushes off the request path (its insert may land in the
    next request's window)."""
    return [s for s in statements if "community." not in s]


async def page_costs(
    api: Api, count_sql: SqlCounter, query: str, root: str, token: str, **variables: Any
) -> tuple[list[int], list[int]]:
    """Edges and statements of a list at each of PAGE_SIZES, after a run at both: asyncpg
    introspects a new array type once per connection, which is no statement of the request."""
    for size in PAGE_SIZES:
        await api.data(query, {"first": size, **variables}, token)
    edges: list[int] = []
    statements: list[int] = []
    for size in PAGE_SIZES:
        async with count_sql() as counter:
            data = await api.data(query, {"first": size, **variables}, token)
        edges.append(len(data[root]["edges"]))
        statements.append(len(counter.statements))
    return edges, statements


# --- Calling the sources directly --------------------------------------------------------------


class CountingPool:
    """A pool that counts the statements sent through it (each `fetch` is one)."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.statements: list[str] = []

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        self.statements.append(sql)
        return await self.pool.fetch(sql, *args)


def principal(kind: OrganizationKind | None, code: str | None = "TEST", **attrs: Any) -> Principal:
    return Principal(subject="test", organization_code=code, kind=kind, scopes=frozenset(), **attrs)


def carrier(scac: str) -> Principal:
    return principal(OrganizationKind.CARRIER, scac, scac=scac)


def terminal(unlocode: str, smdg_code: str) -> Principal:
    return principal(
        OrganizationKind.TERMINAL,
        f"{unlocode}-{smdg_code}",
        terminal_unlocode=unlocode,
        terminal_smdg_code=smdg_code,
    )


async def all_pages(fetch: Callable[[int, Any], Awaitable[Page[Row]]], size: int) -> list[Row]:
    """Walk a keyset list page by page; the rows of every page in order."""
    rows: list[Row] = []
    after: Any = None
    while True:
        page = await fetch(size, after)
        rows += [r for r, _ in page.items]
        if not page.has_next:
            return rows
        after = page.items[-1][1]


async def all_rows(
    fetch: Callable[[int, Any], Awaitable[list[Row]]], size: int, key: Callable[[Row], Any]
) -> list[Row]:
    """Every row of a list fetched size + 1 at a time, page by page through the cursor."""
    rows: list[Row] = []
    after = None
    while True:
        page = await fetch(size, after)
        rows += page[:size]
        if len(page) <= size:
            return rows
        after = key(page[size - 1])


# --- The audit trail ---------------------------------------------------------------------------

BY_OPERATION = """
SELECT organization_code, subject, operation_name, fields, rows_counted, denials::text
FROM community.audit_event WHERE operation_name = $1 ORDER BY id
"""


def unique_name(prefix: str) -> str:
    """An operation name no other request of the session uses."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


async def post_named(
    api: Api,
    name: str,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> httpx.Response:
    """A request whose document names its operation `name` and says so in `operationName`."""
    assert f"query {name}" in query
    body: dict[str, Any] = {"query": query, "operationName": name}
    if variables is not None:
        body["variables"] = variables
    headers = {"Accept": "application/graphql-response+json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return await api.client.post("/graphql", json=body, headers=headers)


def app_state(client: httpx.AsyncClient) -> AppState:
    """The state of the app a test client reaches in-process."""
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    state: AppState = transport.app.state.harborgraph  # type: ignore[attr-defined]
    return state


async def flush_audit(app_client: httpx.AsyncClient) -> None:
    """Wait until the audit writer has stored every record submitted so far."""
    await app_state(app_client).audit.flush()


async def audit_rows(pools: SourcePools, name: str) -> list[dict[str, Any]]:
    return [dict(r) for r in await pools["community"].fetch(BY_OPERATION, name)]


def no_writes(record: AuditRecord) -> None:
    """The audit hook of a context that must write nothing."""
    raise AssertionError(f"a read-only test wrote: {record}")


@contextlib.asynccontextmanager
async def held_visit(url: str, visit_id: int) -> AsyncIterator[None]:
    """A visit row locked by another session while the block runs (a batch that updates it
    waits, then meets the statement timeout)."""
    holder = await asyncpg.connect(url)
    try:
        async with holder.transaction():
            await holder.execute(
                "SELECT 1 FROM cargo.container_visit WHERE id = $1 FOR UPDATE", visit_id
            )
            yield
    finally:
        await holder.close()
