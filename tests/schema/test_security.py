"""The security schema over HTTP with real tokens, against the seeded database.

Expected values are read with plain SQL here, never through the code under test. The seed's
advisories expire around its anchor (2026-03-02), so lists that must not depend on today's
date ask for `includeExpired: true`.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from resolvers.sources import SourcePools
from schema.pagination import encode_cursor
from tests.helpers import (
    BAD_USER_INPUT,
    PAGE_SIZES,
    UNAUTHORIZED,
    answer,
    audit_rows,
    flush_audit,
    global_id,
    iso,
    page_costs,
    post_named,
    refused,
    unique_name,
    walk,
)

Row = asyncpg.Record
ADVISORIES = """
query Advisories($filter: AdvisoryFilter, $first: Int, $after: String) {
  advisories(filter: $filter, first: $first, after: $after) {
    edges { cursor node {
      id reference title summary severity tlp affectedSystems publishedBy publishedAt expiresAt
      expired indicators { type value } affectedTerminals { unlocode smdgCode }
    } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
INCIDENTS = """
query Incidents($filter: IncidentFilter, $first: Int, $after: String) {
  incidents(filter: $filter, first: $first, after: $after) {
    edges { cursor node {
      reference category severity status summary unlocode smdgCode reportedBy detectedAt
      resolvedAt
    } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
NODE = """
query Node($id: ID!) {
  node(id: $id) { id ... on Advisory { reference tlp } }
}
"""
EVERYTHING = {"filter": {"includeExpired": True}}
SHARED = "a.tlp IN ('CLEAR', 'GREEN')"


async def expected_advisories(pools: SourcePools, where: str, *args: Any) -> list[dict[str, Any]]:
    pool = pools["security"]
    rows = await pool.fetch(
        f"SELECT a.*, a.expires_at <= now() AS expired FROM security.advisory a WHERE {where} "
        "ORDER BY a.published_at DESC, a.id",
        *args,
    )
    indicators = await pool.fetch(
        "SELECT advisory_id, indicator_type, value FROM security.indicator "
        "ORDER BY advisory_id, indicator_type, value"
    )
    facilities = await pool.fetch(
        "SELECT advisory_id, unlocode, smdg_code FROM security.advisory_facility "
        "ORDER BY advisory_id, unlocode, smdg_code"
    )

    def node(r: Row) -> dict[str, Any]:
        return {
            "id": global_id("Advisory", str(r["id"])),
            "reference": r["reference"],
            "title": r["title"],
            "summary": r["summary"],
            "severity": r["severity"],
            "tlp": r["tlp"],
            "affectedSystems": list(r["affected_systems"]),
            "publishedBy": r["published_by_code"],
            "publishedAt": iso(r["published_at"]),
            "expiresAt": iso(r["expires_at"]),
            "expired": bool(r["expired"]),
            "indicators": [
                {"type": i["indicator_type"], "value": i["value"]}
                for i in indicators
                if i["advisory_id"] == r["id"]
            ],
            "affectedTerminals": [
                {"unlocode": f["unlocode"], "smdgCode": f["smdg_code"]}
                for f in facilities
                if f["advisory_id"] == r["id"]
            ],
        }

    return [node(r) for r in rows]


# --- TLP row rule --------------------------------------------------------------------------


async def test_security_read_sees_clear_and_green_only(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    token = tokens.mint("CBP", "security:read")
    expected = await expected_advisories(seeded_pools, SHARED)
    nodes = await walk(api, ADVISORIES, "advisories", 3, token, **EVERYTHING)
    assert nodes == expected
    assert {n["tlp"] for n in nodes} == {"CLEAR", "GREEN"}
    assert any(n["indicators"] for n in nodes)
    assert any(n["affectedTerminals"] for n in nodes)


async def test_restricted_sees_amber_and_red_too(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    _, token = tokens.partner("CSOC")
    expected = await expected_advisories(seeded_pools, "TRUE")
    nodes = await walk(api, ADVISORIES, "advisories", 5, token, **EVERYTHING)
    assert nodes == expected
    assert {n["tlp"] for n in nodes} == {"CLEAR", "GREEN", "AMBER", "RED"}


async def test_unexpired_by_default_and_severity_filter(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    _, token = tokens.partner("CSOC")
    expected = await expected_advisories(
        seeded_pools,
        "(a.expires_at IS NULL OR a.expires_at > now()) AND a.severity IN ('HIGH', 'CRITICAL')",
    )
    data = await api.data(ADVISORIES, {"filter": {"minSeverity": "HIGH"}, "first": 100}, token)
    nodes = [e["node"] for e in data["advisories"]["edges"]]
    assert nodes == expected
    assert not any(n["expired"] for n in nodes)


async def test_amber_advisory_by_node_id_is_not_found_without_restricted(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    row = await seeded_pools["security"].fetchrow(
        "SELECT id, reference FROM security.advisory WHERE tlp = 'AMBER' ORDER BY id LIMIT 1"
    )
    assert row is not None
    node_id = global_id("Advisory", str(row["id"]))
    _, csoc = tokens.partner("CSOC")
    data = await api.data(NODE, {"id": node_id}, csoc)
    assert data["node"] == {"id": node_id, "reference": row["reference"], "tlp": "AMBER"}
    data, errors = await answer(api, NODE, {"id": node_id}, tokens.mint("CBP", "security:read"))
    assert data == {"node": None}
    assert errors == []
    unknown = global_id("Advisory", "00000000-0000-0000-0000-000000000000")
    data, errors = await answer(api, NODE, {"id": unknown}, csoc)
    assert data == {"node": None}
    assert errors == []


@pytest.mark.parametrize("tlp", ["AMBER", "RED"])
@pytest.mark.parametrize(
    "scopes",
    [None, (), ("security:read",), ("security:read", "vessel:read", "cargo:read")],
    ids=["anonymous", "no-scope", "security-read", "security-read-and-more"],
)
async def test_restricted_advisory_node_is_null_without_error_below_restricted(
    api: Any, tokens: Any, seeded_pools: SourcePools, tlp: str, scopes: tuple[str, ...] | None
) -> None:
    """Below `security:restricted` the row does not exist: `null`, and no error that would
    tell the caller it is there."""
    advisory_id = await seeded_pools["security"].fetchval(
        "SELECT id FROM security.advisory WHERE tlp = $1 ORDER BY id LIMIT 1", tlp
    )
    assert advisory_id is not None, f"the seed has a TLP:{tlp} advisory"
    token = None if scopes is None else tokens.mint("CBP", *scopes)
    node_id = global_id("Advisory", str(advisory_id))
    data, errors = await answer(api, NODE, {"id": node_id}, token)
    assert data == {"node": None}
    assert errors == []
    # The same list call shows no such row either.
    if scopes and "security:read" in scopes:
        listed = await walk(api, ADVISORIES, "advisories", 50, token, **EVERYTHING)
        assert node_id not in {n["id"] for n in listed}
        assert listed


# --- Incidents: field rule -----------------------------------------------------------------


async def test_incidents_need_security_restricted(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    data, errors = await answer(api, INCIDENTS, {"first": 5}, tokens.mint("CBP", "security:read"))
    assert data == {"incidents": None}
    refused(errors, UNAUTHORIZED, ["incidents"])
    rows = await seeded_pools["security"].fetch(
        "SELECT * FROM security.incident ORDER BY detected_at DESC, id"
    )
    _, token = tokens.partner("CSOC")
    nodes = await walk(api, INCIDENTS, "incidents", 5, token)
    assert nodes == [
        {
            "reference": r["reference"],
            "category": r["category"],
            "severity": r["severity"],
            "status": r["status"],
            "summary": r["summary"],
            "unlocode": r["unlocode"],
            "smdgCode": r["smdg_code"],
            "reportedBy": r["reported_by_code"],
            "detectedAt": iso(r["detected_at"]),
            "resolvedAt": iso(r["resolved_at"]),
        }
        for r in rows
    ]


async def test_incident_filters(api: Any, tokens: Any, seeded_pools: SourcePools) -> None:
    _, token = tokens.partner("CSOC")
    row = await seeded_pools["security"].fetchrow(
        "SELECT category, detected_at FROM security.incident ORDER BY detected_at LIMIT 1 OFFSET 3"
    )
    assert row is not None
    expected = await seeded_pools["security"].fetch(
        "SELECT reference FROM security.incident WHERE detected_at >= $1 "
        "AND severity IN ('MEDIUM', 'HIGH', 'CRITICAL') ORDER BY detected_at DESC, id",
        row["detected_at"],
    )
    variables = {"filter": {"since": iso(row["detected_at"]), "minSeverity": "MEDIUM"}}
    data = await api.data(INCIDENTS, {**variables, "first": 100}, token)
    got = [e["node"]["reference"] for e in data["incidents"]["edges"]]
    assert got == [r["reference"] for r in expected]
    assert got
    data = await api.data(INCIDENTS, {"filter": {"category": row["category"]}}, token)
    assert {e["node"]["category"] for e in data["incidents"]["edges"]} == {row["category"]}


# --- Bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "variables", "argument"),
    [
        (ADVISORIES, {"filter": {"since": "2026-03-01T00:00:00"}}, "filter.since"),
        (ADVISORIES, {"after": encode_cursor(["2026-03-01T00:00:00+00:00", "nope"])}, "after"),
        (ADVISORIES, {"after": encode_cursor(["2026-03-01T00:00:00+00:00"])}, "after"),
        (INCIDENTS, {"after": "%%%"}, "after"),
        (INCIDENTS, {"filter": {"since": "2026-03-01T00:00:00"}}, "filter.since"),
    ],
)
async def test_bad_input_names_the_argument(
    api: Any, tokens: Any, query: str, variables: dict[str, Any], argument: str
) -> None:
    _, token = tokens.partner("CSOC")
    data, errors = await answer(api, query, variables, token)
    root = next(iter(data))
    assert data[root] is None
    assert f"`{argument}`" in refused(errors, BAD_USER_INPUT, [root])["message"]


# --- Statements per request ----------------------------------------------------------------


@pytest.mark.parametrize(("query", "root"), [(ADVISORIES, "advisories"), (INCIDENTS, "incidents")])
async def test_statement_count_does_not_grow_with_the_page(
    api: Any, tokens: Any, count_sql: Any, seeded_pools: SourcePools, query: str, root: str
) -> None:
    _, token = tokens.partner("CSOC")
    table = "advisory" if root == "advisories" else "incident"
    total = await seeded_pools["security"].fetchval(f"SELECT count(*) FROM security.{table}")
    variables = EVERYTHING if root == "advisories" else {}
    edges, counts = await page_costs(api, count_sql, query, root, token, **variables)
    assert edges == [min(size, total) for size in PAGE_SIZES]
    assert counts[0] == counts[1], counts


# --- Audit ---------------------------------------------------------------------------------


async def test_reading_amber_and_red_advisories_is_audited(
    api: Any, app_client: httpx.AsyncClient, tokens: Any, seeded_pools: SourcePools
) -> None:
    _, token = tokens.partner("CSOC")
    name = unique_name("RestrictedAdvisories")
    query = f"query {name} {{ advisories(first: 100, filter: {{includeExpired: true}}) "
    query += "{ edges { node { reference tlp } } } }"
    response = await post_named(api, name, query, token=token)
    assert response.status_code == 200
    restricted = await seeded_pools["security"].fetchval(
        "SELECT count(*) FROM security.advisory WHERE tlp IN ('AMBER', 'RED')"
    )
    assert restricted > 0
    await flush_audit(app_client)  # the audit sink writes off the request path
    (row,) = await audit_rows(seeded_pools, name)
    assert row["organization_code"] == tokens.organizations["CSOC"]
    assert "Advisory[tlp=AMBER|RED]" in row["fields"]
    assert row["rows_counted"] == restricted
