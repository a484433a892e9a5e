"""The compiled path answers exactly as the resolver path: a differential test.

Generated operations (tests/schema/operations.py) are sent, for every kind of partner with
and without `cargo:commercial` and anonymously, to the app twice: compiled (the default) and
on the resolver path (HARBORGRAPH_EXECUTION=resolvers). Status, data, errors (as a set:
the resolver path fixes no order), extensions and the audit record must be equal.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from graph.demo import GRANTS
from resolvers.gate import APPOINTED_VISIT
from resolvers.principal import OrganizationKind
from resolvers.sources import SourcePools
from schema.compiled.executor import execution_stats
from tests.conftest import Api, Tokens
from tests.helpers import app_state
from tests.schema.operations import Values, generate, seeded_values

OPERATIONS = int(os.environ.get("HARBORGRAPH_DIFFERENTIAL_OPERATIONS", "300"))
FIRST_SEED = int(os.environ.get("HARBORGRAPH_DIFFERENTIAL_SEED", "1000"))
COMMERCIAL = "cargo:commercial"


@contextmanager
def audit_records(client: httpx.AsyncClient) -> Iterator[list[Any]]:
    """The audit records the app submits while the block runs (the writer still gets them)."""
    sink = app_state(client).audit
    submit = sink.submit
    seen: list[Any] = []

    def recording(record: Any) -> None:
        seen.append(record)
        submit(record)

    sink.submit = recording  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        del sink.submit


def callers(tokens: Tokens) -> list[tuple[str, str | None]]:
    """(label, token) for each kind with and without cargo:commercial, and anonymous."""
    found: list[tuple[str, str | None]] = [("anonymous", None)]
    for kind in OrganizationKind:
        org = tokens.organizations[kind.value]
        granted = {s.value for s in GRANTS[kind]}
        for scopes in (granted | {COMMERCIAL}, granted - {COMMERCIAL}):
            label = f"{kind.value}{'+' if COMMERCIAL in scopes else '-'}commercial"
            found.append((label, tokens.mint(org, *sorted(scopes))))
    return found


def comparable(response: httpx.Response) -> dict[str, Any]:
    payload = response.json()
    errors = sorted(json.dumps(e, sort_keys=True) for e in payload.get("errors", []))
    return {
        "status": response.status_code,
        "data": payload.get("data"),
        "errors": errors,
        "extensions": payload.get("extensions"),
    }


def audited(records: list[Any]) -> list[tuple[Any, ...]]:
    return [(r.fields, r.rows_counted, r.denials) for r in records]


@pytest.fixture(scope="module")
async def values(seeded_pools: SourcePools) -> Values:
    return await seeded_values(seeded_pools)


async def compare(
    api: Api,
    resolver_api: Api,
    seed: int,
    values: Values,
    who: list[tuple[str, str | None]],
) -> None:
    query, variables = generate(seed, values)
    for label, token in who:
        with audit_records(api.client) as compiled_audit:
            compiled = comparable(await api.post(query, variables, token))
        with audit_records(resolver_api.client) as resolver_audit:
            expected = comparable(await resolver_api.post(query, variables, token))
        context = f"seed {seed}, caller {label}\n{query}\nvariables: {variables}"
        assert compiled == expected, context
        assert audited(compiled_audit) == audited(resolver_audit), context


async def test_generated_operations_answer_alike(
    api: Api, resolver_api: Api, tokens: Tokens, values: Values
) -> None:
    stats = execution_stats(app_state(api.client).schema)
    assert stats is not None
    compiled_before = stats.compiled
    who = callers(tokens)
    for seed in range(FIRST_SEED, FIRST_SEED + OPERATIONS):
        await compare(api, resolver_api, seed, values, who)
    # Most operations must really have run compiled, or the comparison proves nothing.
    compiled = stats.compiled - compiled_before
    assert compiled > OPERATIONS * len(who) // 2, (compiled, dict(stats.fallbacks))


# The containers every partner may ask for: each sees the rows of its own rule only.
CONTAINERS = """
query Containers($first: Int!) {
  containers(first: $first) { edges { node {
    number status terminal { smdgCode } portCall { id }
    events(first: 2) { edges { node { eventType eventDateTime } } }
  } } }
}
"""
# Two organizations of each kind whose rule is keyed on the organization, the busiest first.
BUSIEST_TWO = """
SELECT kind, array_agg(code ORDER BY code) AS codes FROM (
    SELECT o.kind, o.code,
           row_number() OVER (PARTITION BY o.kind ORDER BY o.code) AS n
    FROM community.organization o
    WHERE o.kind IN ('CARRIER', 'TERMINAL', 'TRUCKER', 'BCO')
) o WHERE n <= 2 GROUP BY kind ORDER BY kind
"""


async def test_partners_with_the_same_scopes_each_get_their_own_rows(
    api: Api, resolver_api: Api, tokens: Tokens, seeded_pools: SourcePools
) -> None:
    # Same document, variables and scopes: one plan and one binding, rendered statements kept
    # for the next request. Only the row rules tell the two partners apart.
    for row in await seeded_pools["community"].fetch(BUSIEST_TWO):
        grants = sorted(s.value for s in GRANTS[OrganizationKind(row["kind"])])
        first, second = (tokens.mint(code, *grants) for code in row["codes"])
        answers = []
        for token in (first, second, first, second):
            compiled = comparable(await api.post(CONTAINERS, {"first": 30}, token))
            expected = comparable(await resolver_api.post(CONTAINERS, {"first": 30}, token))
            assert compiled == expected, (row["kind"], row["codes"])
            answers.append(compiled)
        assert answers[0] == answers[2]
        assert answers[1] == answers[3]
        assert answers[0]["data"] != answers[1]["data"], row["kind"]  # else this proves nothing


# A trucker's box with another visit it holds no appointment for, events on both visits.
SHARED_BOX = f"""
SELECT cv.equipment_reference AS number, o.code AS trucker,
       array_agg(DISTINCT e.event_id::text) AS own, array_agg(DISTINCT f.event_id::text) AS other
FROM community.organization o
JOIN cargo.container_visit cv ON {APPOINTED_VISIT.format("o.scac")}
JOIN cargo.container_visit x ON x.equipment_reference = cv.equipment_reference
    AND x.id <> cv.id AND NOT {APPOINTED_VISIT.format("o.scac").replace("cv.", "x.")}
JOIN cargo.event e ON e.equipment_reference = cv.equipment_reference
    AND e.port_call_id = cv.port_call_id AND e.retracted_at IS NULL
JOIN cargo.event f ON f.equipment_reference = x.equipment_reference
    AND f.port_call_id = x.port_call_id AND f.retracted_at IS NULL
WHERE o.kind = 'TRUCKER'
GROUP BY cv.equipment_reference, o.code
ORDER BY cv.equipment_reference, o.code LIMIT 1
"""
BOX_EVENTS = """
query Box($number: String!) {
  container(number: $number) { events(first: 100) { edges { node { eventID } } } }
}
"""


async def test_a_container_lists_the_events_of_the_partners_visits_only(
    api: Api, resolver_api: Api, tokens: Tokens, seeded_pools: SourcePools
) -> None:
    box = await seeded_pools["cargo"].fetchrow(SHARED_BOX)
    assert box is not None, "the seed has a box a trucker sees one visit of, with events"
    grants = sorted(s.value for s in GRANTS[OrganizationKind.TRUCKER])
    token = tokens.mint(box["trucker"], *grants)
    variables = {"number": box["number"]}
    compiled = comparable(await api.post(BOX_EVENTS, variables, token))
    assert compiled == comparable(await resolver_api.post(BOX_EVENTS, variables, token))
    seen = {e["node"]["eventID"] for e in compiled["data"]["container"]["events"]["edges"]}
    assert set(box["own"]) <= seen
    assert not set(box["other"]) & seen
