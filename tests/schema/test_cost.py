"""The page budget refuses, before any SQL, a query whose nested pages could return too much."""

from __future__ import annotations

import pytest

from tests.conftest import Api, SqlCounter, Tokens
from tests.helpers import source_statements

HUGE = """{ portCalls(first: 100) { nodes { containers(first: 100) { nodes {
    events(first: 100) { nodes { eventID } } } } } } }"""
VIA_FRAGMENT = """query { a: portCalls(first: 100) { ...Calls } b: portCalls(first: 100) { ...Calls } }
fragment Calls on PortCallConnection { nodes { containers(first: 300) { nodes { number } } } }"""
WITH_VARIABLES = """query($n: Int) { portCalls(first: $n) { nodes { containers(first: $n) { nodes {
    events(first: $n) { nodes { eventID } } } } } } }"""
CARRIER = """{ portCalls(first: 25) { nodes { containers(first: 20) { nodes {
    events(first: 3) { nodes { eventID } } } } } } }"""


@pytest.mark.parametrize(
    ("query", "objects"),
    [(HUGE, "1,010,100"), (VIA_FRAGMENT, "60,200"), (WITH_VARIABLES, "1,010,100")],
)
async def test_over_budget_is_refused_before_execution(
    api: Api, tokens: Tokens, count_sql: SqlCounter, query: str, objects: str
) -> None:
    token = tokens.mint("CBP", "vessel:read", "cargo:read")
    async with count_sql() as counter:
        response = await api.post(query, {"n": 100} if "$n" in query else None, token)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert error["message"] == (
        f"the query's pages could return {objects} objects, more than 50,000: ask for smaller pages"
    )
    # No source was queried (at most the token's organization, when not cached yet).
    assert source_statements(counter.statements) == []


async def test_the_carrier_query_is_within_budget(api: Api, tokens: Tokens) -> None:
    token = tokens.mint("CBP", "vessel:read", "cargo:read")
    data = await api.data(CARRIER, token=token)
    assert len(data["portCalls"]["nodes"]) == 24


ENTITY_PAGES = """query($r: [_Any!]!) { _entities(representations: $r) {
    ... on Vessel { portCalls(first: 100) { nodes { id } } } } }"""


async def test_entities_count_against_the_budget(
    api: Api, tokens: Tokens, count_sql: SqlCounter
) -> None:
    token = tokens.mint("CBP", "vessel:read")
    representations = [{"__typename": "Vessel", "imo": "9321483"}] * 501
    async with count_sql() as counter:
        response = await api.post(ENTITY_PAGES, {"r": representations}, token)
    payload = response.json()
    assert payload["data"] is None
    (error,) = payload["errors"]
    assert error["path"] == ["_entities"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert error["message"] == (
        "the query's pages could return 50,100 objects, more than 50,000: ask for smaller pages"
    )
    assert not [s for s in counter.statements if "vessel." in s]


async def test_entities_are_capped(api: Api, tokens: Tokens) -> None:
    token = tokens.mint("CBP", "vessel:read")
    representations = [{"__typename": "Vessel", "imo": "9321483"}] * 1001
    query = "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }"
    payload = (await api.post(query, {"r": representations}, token)).json()
    (error,) = payload["errors"]
    assert error["message"] == "`representations`: at most 1000 a request, got 1001"
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "representations"}
