"""The subgraph's federation surface, gateway bypassed: `_entities` and `_service`.

A gateway is one way in; anyone who can reach the subgraph can also post `_entities`
straight at it. These calls go to the same app the partners reach (the in-process `api`
fixture), and must hold the same field rules (null + UNAUTHORIZED_FIELD_OR_TYPE at the path)
and row rules (a row the caller may not see is null, never an error that leaks it) as
`container(number:)`, at a constant number of SQL statements whatever the number of
representations. Expected values come from plain SQL on the seeded database.
"""

from __future__ import annotations

import functools
import itertools
import operator
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from graphql import (
    DirectiveNode,
    ListValueNode,
    ObjectTypeDefinitionNode,
    StringValueNode,
    parse,
    print_ast,
    visit,
)
from graphql.language import Visitor

import schema as schema_module
from resolvers.identifiers import imo_check_digit
from resolvers.principal import ANONYMOUS, OrganizationKind, Principal
from resolvers.sources import Pool, SourcePools
from schema import print_sdl
from schema.context import new_context
from schema.scopes import Scope
from tests.conftest import Api, SqlCounter, Tokens
from tests.helpers import (
    BAD_USER_INPUT,
    UNAUTHORIZED,
    answer,
    global_id,
    no_writes,
    source_statements,
)

Row = asyncpg.Record
# Directives a federation v2 subgraph SDL may carry: federation's own (those Harborgraph
# uses and the rest of the v2 set), plus the two the GraphQL specification itself defines.
FEDERATION_DIRECTIVES = frozenset(
    {
        "link",
        "key",
        "shareable",
        "inaccessible",
        "override",
        "external",
        "provides",
        "requires",
        "tag",
        "extends",
        "composeDirective",
        "interfaceObject",
        "authenticated",
        "requiresScopes",
        "policy",
        "context",
        "fromContext",
        "cost",
        "listSize",
    }
)
SPEC_DIRECTIVES = frozenset({"specifiedBy", "deprecated"})

ENTITIES = """
query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Container { number consignee status }
  }
}
"""

# The carrier's containers as `container(number:)` shows them: the latest visit among the
# carrier's own, with the consignee of its bill of lading.
CARRIER_LADEN_CONTAINER = """
SELECT v.equipment_reference, v.status, cn.party_name AS consignee,
       v.transport_document_reference
FROM (
    SELECT DISTINCT ON (cv.equipment_reference) cv.*
    FROM cargo.container_visit cv
    WHERE cv.carrier_scac = $1
    ORDER BY cv.equipment_reference, cv.updated_at DESC, cv.id DESC
) v
JOIN cargo.shipment_party cn
  ON cn.transport_document_reference = v.transport_document_reference
 AND cn.party_function = 'CN'
ORDER BY v.equipment_reference
LIMIT 1
"""
CARRIER_ORGS = """
SELECT code, scac FROM community.organization WHERE kind = 'CARRIER' ORDER BY code
"""
# A carrier other than $1 that has no visit of container $2 at all.
OTHER_CARRIER = """
SELECT o.code FROM community.organization o
WHERE o.kind = 'CARRIER' AND o.code <> $1
  AND NOT EXISTS (SELECT 1 FROM cargo.container_visit cv
                  WHERE cv.equipment_reference = $2 AND cv.carrier_scac = o.scac)
ORDER BY o.code
LIMIT 1
"""
# Containers with holds and events first, so every nested level has rows to load.
BUSY_CONTAINERS = """
SELECT e.equipment_reference
FROM cargo.equipment e
WHERE EXISTS (SELECT 1 FROM cargo.container_visit cv WHERE cv.equipment_reference = e.equipment_reference)
ORDER BY
    EXISTS (SELECT 1 FROM cargo.container_visit cv JOIN cargo.hold h ON h.container_visit_id = cv.id
            WHERE cv.equipment_reference = e.equipment_reference) DESC,
    EXISTS (SELECT 1 FROM cargo.event ev WHERE ev.equipment_reference = e.equipment_reference
            AND ev.retracted_at IS NULL) DESC,
    e.equipment_reference
LIMIT $1
"""


async def one(pool: Pool, sql: str, *args: Any) -> Row:
    row = await pool.fetchrow(sql, *args)
    assert row is not None, (sql, args)
    return row


def container_reps(*numbers: str) -> list[dict[str, str]]:
    return [{"__typename": "Container", "number": n} for n in numbers]


def refusals(errors: list[dict[str, Any]]) -> list[list[Any]]:
    """The paths of the errors, each of which must be a field refusal."""
    assert all(e["extensions"]["code"] == UNAUTHORIZED for e in errors), errors
    return sorted(e["path"] for e in errors)


@dataclass(frozen=True)
class CarrierBox:
    org: str  # the carrier organization's code
    number: str
    status: str
    consignee: str
    document: str  # its transport document reference
    other_org: str  # a carrier that never had this container


@pytest.fixture(scope="module")
async def carrier_box(seeded_pools: SourcePools) -> CarrierBox:
    pool = seeded_pools["cargo"]
    for org in await pool.fetch(CARRIER_ORGS):
        box = await pool.fetchrow(CARRIER_LADEN_CONTAINER, org["scac"])
        if box is None:
            continue
        other = await pool.fetchval(OTHER_CARRIER, org["code"], box["equipment_reference"])
        assert other is not None, "the seed has carriers that never carried this container"
        return CarrierBox(
            org=org["code"],
            number=box["equipment_reference"],
            status=box["status"],
            consignee=box["consignee"],
            document=box["transport_document_reference"],
            other_org=other,
        )
    raise AssertionError("the seed gives some carrier a laden container")


# --- Container entities: the same field and row rules as container(number:) ----------------


async def test_entities_give_the_owner_with_the_commercial_scope_everything(
    api: Api, tokens: Tokens, carrier_box: CarrierBox
) -> None:
    token = tokens.mint(carrier_box.org, "cargo:read", "cargo:commercial")
    data, errors = await answer(
        api, ENTITIES, {"representations": container_reps(carrier_box.number)}, token
    )
    assert errors == []
    assert data == {
        "_entities": [
            {
                "number": carrier_box.number,
                "consignee": carrier_box.consignee,
                "status": carrier_box.status,
            }
        ]
    }


async def test_entities_without_a_token_return_no_row(api: Api, carrier_box: CarrierBox) -> None:
    response = await api.post(ENTITIES, {"representations": container_reps(carrier_box.number)})
    assert response.status_code == 200
    assert response.json() == {"data": {"_entities": [None]}}


async def test_entities_without_the_commercial_scope_refuse_the_consignee_at_its_path(
    api: Api, tokens: Tokens, carrier_box: CarrierBox
) -> None:
    token = tokens.mint(carrier_box.org, "vessel:read", "cargo:read")
    data, errors = await answer(
        api, ENTITIES, {"representations": container_reps(carrier_box.number)}, token
    )
    assert data == {
        "_entities": [
            {"number": carrier_box.number, "consignee": None, "status": carrier_box.status}
        ]
    }
    assert refusals(errors) == [["_entities", 0, "consignee"]]
    assert "cargo:commercial" in errors[0]["message"]


async def test_entities_with_another_carriers_token_return_no_foreign_row(
    api: Api, tokens: Tokens, carrier_box: CarrierBox
) -> None:
    token = tokens.mint(carrier_box.other_org, "vessel:read", "cargo:read", "cargo:commercial")
    reps = container_reps(carrier_box.number)
    response = await api.post(ENTITIES, {"representations": reps}, token)
    assert response.status_code == 200
    assert response.json() == {"data": {"_entities": [None]}}
    # The same call is what `container(number:)` gives that token: nothing.
    data = await api.data(
        "query($n: String!) { container(number: $n) { number } }", {"n": carrier_box.number}, token
    )
    assert data == {"container": None}


@pytest.mark.parametrize(
    ("type_name", "key", "root"),
    [
        ("Container", "number", "container(number: $key)"),
        ("Shipment", "transportDocumentReference", "shipment(transportDocumentReference: $key)"),
    ],
)
async def test_entities_never_give_a_token_more_than_the_root_field_does(
    api: Api, tokens: Tokens, carrier_box: CarrierBox, type_name: str, key: str, root: str
) -> None:
    """Without `cargo:read` the root field is refused; `_entities` must not be a way around
    it (a gateway reaches it from another subgraph's fields, never through our root)."""
    value = carrier_box.number if type_name == "Container" else carrier_box.document
    token = tokens.mint(carrier_box.org, "vessel:read")
    data, errors = await answer(
        api, f"query($key: String!) {{ {root} {{ __typename }} }}", {"key": value}, token
    )
    field = root.split("(")[0]
    assert data == {field: None}
    assert refusals(errors) == [[field]]
    query = (
        "query($representations: [_Any!]!) { _entities(representations: $representations) "
        f"{{ ... on {type_name} {{ {key} carrier }} }} }}"
    )
    reps = [{"__typename": type_name, key: value}]
    data, errors = await answer(api, query, {"representations": reps}, token)
    assert data == {"_entities": [None]}, f"a token without cargo:read read a {type_name}"
    assert all(e["extensions"]["code"] == UNAUTHORIZED for e in errors), errors


async def test_entities_mix_visible_foreign_and_unknown_rows_position_by_position(
    api: Api, tokens: Tokens, carrier_box: CarrierBox, seeded_pools: SourcePools
) -> None:
    foreign: str = await seeded_pools["cargo"].fetchval(
        "SELECT equipment_reference FROM cargo.container_visit WHERE equipment_reference NOT IN "
        "(SELECT equipment_reference FROM cargo.container_visit cv "
        " JOIN community.organization o ON o.scac = cv.carrier_scac WHERE o.code = $1) "
        "ORDER BY 1 LIMIT 1",
        carrier_box.org,
    )
    token = tokens.mint(carrier_box.org, "cargo:read")
    reps = container_reps(foreign, carrier_box.number, "ZZZU0000000")
    data, errors = await answer(api, ENTITIES, {"representations": reps}, token)
    assert data == {
        "_entities": [
            None,
            {"number": carrier_box.number, "consignee": None, "status": carrier_box.status},
            None,
        ]
    }
    assert refusals(errors) == [["_entities", 1, "consignee"]]


# --- The other entities resolve by their keys ---------------------------------------------


async def test_every_entity_type_resolves_by_its_key(
    api: Api, tokens: Tokens, carrier_box: CarrierBox, seeded_pools: SourcePools
) -> None:
    pool = seeded_pools["cargo"]
    visit = await one(
        pool,
        "SELECT DISTINCT ON (cv.equipment_reference) cv.* FROM cargo.container_visit cv "
        "JOIN community.organization o ON o.scac = cv.carrier_scac "
        "WHERE o.code = $1 AND cv.equipment_reference = $2 "
        "ORDER BY cv.equipment_reference, cv.updated_at DESC, cv.id DESC",
        carrier_box.org,
        carrier_box.number,
    )
    call = await one(pool, "SELECT * FROM vessel.port_call WHERE id = $1", visit["port_call_id"])
    vessel = await one(pool, "SELECT * FROM vessel.vessel WHERE imo = $1", call["vessel_imo"])
    terminal = await one(
        pool,
        "SELECT * FROM vessel.terminal WHERE unlocode = $1 AND smdg_code = $2",
        visit["unlocode"],
        visit["smdg_code"],
    )
    port = await one(pool, "SELECT * FROM vessel.port WHERE unlocode = $1", visit["unlocode"])
    shipment = await one(
        pool,
        "SELECT * FROM cargo.shipment WHERE transport_document_reference = $1",
        visit["transport_document_reference"],
    )
    org = await one(pool, "SELECT * FROM community.organization WHERE code = $1", carrier_box.org)
    call_id = global_id("PortCall", str(call["id"]))
    query = """
    query Entities($representations: [_Any!]!) {
      _entities(representations: $representations) {
        __typename
        ... on Vessel { imo name }
        ... on PortCall { id portVisitReference carrier }
        ... on Terminal { unlocode smdgCode name }
        ... on Port { unlocode name }
        ... on Shipment { transportDocumentReference carrier commodity }
        ... on Organization { code name kind }
        ... on Container { number }
      }
    }
    """
    reps: list[dict[str, str]] = [
        {"__typename": "Vessel", "imo": vessel["imo"]},
        {"__typename": "PortCall", "id": call_id},
        {
            "__typename": "Terminal",
            "unlocode": terminal["unlocode"],
            "smdgCode": terminal["smdg_code"],
        },
        {"__typename": "Port", "unlocode": port["unlocode"]},
        {
            "__typename": "Shipment",
            "transportDocumentReference": shipment["transport_document_reference"],
        },
        {"__typename": "Organization", "code": org["code"]},
        {"__typename": "Container", "number": carrier_box.number},
    ]
    token = tokens.mint(carrier_box.org, "vessel:read", "cargo:read", "cargo:commercial")
    data = await api.data(query, {"representations": reps}, token)
    assert data == {
        "_entities": [
            {"__typename": "Vessel", "imo": vessel["imo"], "name": vessel["name"]},
            {
                "__typename": "PortCall",
                "id": call_id,
                "portVisitReference": call["port_visit_reference"],
                "carrier": call["carrier_scac"],
            },
            {
                "__typename": "Terminal",
                "unlocode": terminal["unlocode"],
                "smdgCode": terminal["smdg_code"],
                "name": terminal["name"],
            },
            {"__typename": "Port", "unlocode": port["unlocode"], "name": port["name"]},
            {
                "__typename": "Shipment",
                "transportDocumentReference": shipment["transport_document_reference"],
                "carrier": shipment["carrier_scac"],
                "commodity": shipment["commodity"],
            },
            {
                "__typename": "Organization",
                "code": org["code"],
                "name": org["name"],
                "kind": org["kind"],
            },
            {"__typename": "Container", "number": carrier_box.number},
        ]
    }


async def test_another_carriers_shipment_entity_does_not_resolve(
    api: Api, tokens: Tokens, carrier_box: CarrierBox, seeded_pools: SourcePools
) -> None:
    scac = await seeded_pools["cargo"].fetchval(
        "SELECT scac FROM community.organization WHERE code = $1", carrier_box.org
    )
    theirs = await seeded_pools["cargo"].fetchval(
        "SELECT transport_document_reference FROM cargo.shipment WHERE carrier_scac <> $1 "
        "AND transport_document_reference NOT IN (SELECT transport_document_reference "
        "FROM cargo.container_visit WHERE carrier_scac = $1 "
        "AND transport_document_reference IS NOT NULL) ORDER BY 1 LIMIT 1",
        scac,
    )
    assert theirs is not None
    token = tokens.mint(carrier_box.org, "cargo:read", "cargo:commercial")
    query = """
    query($representations: [_Any!]!) {
      _entities(representations: $representations) {
        ... on Shipment { transportDocumentReference commodity consignee { name } }
      }
    }
    """
    reps = [{"__typename": "Shipment", "transportDocumentReference": theirs}]
    response = await api.post(query, {"representations": reps}, token)
    assert response.status_code == 200
    assert response.json() == {"data": {"_entities": [None]}}


# --- A constant number of SQL statements, whatever the number of representations -----------

NESTED = """
query Boxes($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Container {
      number status
      terminal { smdgCode name }
      portCall { id portVisitReference vessel { imo name } }
      holds { type reasonCode remark placedAt active }
      events(first: 3) { edges { cursor node { eventID eventType eventDateTime } } }
    }
  }
}
"""


async def test_entities_cost_the_same_statements_for_100_representations_as_for_10(
    api: Api, tokens: Tokens, count_sql: SqlCounter, seeded_pools: SourcePools
) -> None:
    numbers = [
        r["equipment_reference"] for r in await seeded_pools["cargo"].fetch(BUSY_CONTAINERS, 100)
    ]
    assert len(numbers) == 100
    _, token = tokens.partner("CUSTOMS")  # customs sees every container
    await api.data(NESTED, {"representations": container_reps(*numbers[:3])}, token)  # warm-up
    counts: dict[int, int] = {}
    for size in (10, 100):
        async with count_sql() as counter:
            data = await api.data(
                NESTED, {"representations": container_reps(*numbers[:size])}, token
            )
        boxes = data["_entities"]
        assert [b["number"] for b in boxes] == numbers[:size]
        assert all(b["portCall"] is not None and b["terminal"] is not None for b in boxes)
        assert any(b["holds"] for b in boxes[:10]), "the sample exercises the holds level"
        assert any(b["events"]["edges"] for b in boxes[:10]), "and the events level"
        assert all(len(b["events"]["edges"]) <= 3 for b in boxes)
        counts[size] = len(source_statements(counter.statements))
    assert counts[10] > 0
    assert counts[100] == counts[10], counts


# The other entity types. The seed (scale 0.05) has 100+ shipments but only 12 vessels,
# 24 port calls, 12 terminals and 19 ports. So that 100 representations are still 100
# distinct keys, vessels and port calls are padded with well-formed keys of rows that do not
# exist (null at their positions: a lookup per key would show as 100 statements). Terminal
# and port keys are only the existing ones (an unknown SMDG code may be refused as bad input),
# repeated past 12 and 19: their 100 representations are the 12 (19) distinct keys.
ENTITY_FIELDS = {
    "Vessel": """imo name mmsi latestPosition { recordedAt }
        portCalls(first: 3) { edges { node { id terminal { name } } } }""",
    "PortCall": """id portVisitReference vessel { name } terminal { name } port { name }
        timestamps { classifier replyTo { classifier } }
        containers(first: 3) { edges { node { number status } } }""",
    "Shipment": """transportDocumentReference carrier commodity consignee { name }
        containers(first: 3) { edges { node { number status terminal { name } } } }""",
    "Terminal": "unlocode smdgCode name port { name } openAdvisories { reference }",
    "Port": "unlocode name terminals { smdgCode name }",
}
# How many of the first 10 and of all 100 representations exist (real and unknown keys
# alternate for vessels and port calls), and a nested level that must hold data.
ENTITIES_FOUND = {
    "Vessel": (5, 12),
    "PortCall": (5, 24),
    "Shipment": (10, 100),
    "Terminal": (10, 100),
    "Port": (10, 100),
}
NESTED_LEVEL = {
    "Vessel": ("portCalls", "edges"),
    "PortCall": ("containers", "edges"),
    "Shipment": ("containers", "edges"),
    "Terminal": ("port",),
    "Port": ("terminals",),
}
ENTITY_KEYS = {
    "Vessel": ("imo",),
    "PortCall": ("id",),
    "Shipment": ("transportDocumentReference",),
    "Terminal": ("unlocode", "smdgCode"),
    "Port": ("unlocode",),
}


def _unknown_imos(known: set[str], count: int) -> list[str]:
    imos: list[str] = []
    n = 100_000
    while len(imos) < count:
        digits = f"{n:06d}"
        imo = digits + str(imo_check_digit(digits))
        if imo not in known:
            imos.append(imo)
        n += 1
    return imos


def _interleaved(real: list[dict[str, str]], unknown: list[dict[str, str]]) -> list[dict[str, str]]:
    """Real and unknown keys alternating, then the rest: both samples hold both kinds."""
    mixed: list[dict[str, str]] = []
    for pair in itertools.zip_longest(real, unknown):
        mixed += [r for r in pair if r is not None]
    return mixed[:100]


async def _entity_representations(
    pools: SourcePools, type_name: str
) -> tuple[list[dict[str, str]], set[tuple[str, ...]]]:
    """100 representations of type_name and the keys of those that exist."""
    vessel, cargo = pools["vessel"], pools["cargo"]
    real: list[dict[str, str]]
    unknown: list[dict[str, str]] = []
    if type_name == "Vessel":
        imos = [r["imo"] for r in await vessel.fetch("SELECT imo FROM vessel.vessel ORDER BY imo")]
        real = [{"imo": i} for i in imos]
        unknown = [{"imo": i} for i in _unknown_imos(set(imos), 100 - len(real))]
    elif type_name == "PortCall":
        rows = await vessel.fetch("SELECT id FROM vessel.port_call ORDER BY id")
        real = [{"id": global_id("PortCall", str(r["id"]))} for r in rows]
        ids = {r["id"] for r in rows}
        fakes = (uuid.UUID(int=n) for n in itertools.count(1))
        unknown = [
            {"id": global_id("PortCall", str(u))}
            for u in itertools.islice((u for u in fakes if u not in ids), 100 - len(real))
        ]
    elif type_name == "Shipment":
        rows = await cargo.fetch(
            "SELECT s.transport_document_reference FROM cargo.shipment s WHERE EXISTS "
            "(SELECT 1 FROM cargo.container_visit cv "
            " WHERE cv.transport_document_reference = s.transport_document_reference) "
            "ORDER BY 1 LIMIT 100"
        )
        real = [{"transportDocumentReference": r[0]} for r in rows]
    elif type_name == "Terminal":
        rows = await vessel.fetch(
            "SELECT unlocode, smdg_code FROM vessel.terminal ORDER BY unlocode, smdg_code"
        )
        real = [{"unlocode": r["unlocode"], "smdgCode": r["smdg_code"]} for r in rows]
    else:
        rows = await vessel.fetch(
            "SELECT p.unlocode FROM vessel.port p ORDER BY EXISTS (SELECT 1 FROM vessel.terminal "
            "t WHERE t.unlocode = p.unlocode) DESC, p.unlocode"
        )
        real = [{"unlocode": r["unlocode"]} for r in rows]
    keys = ENTITY_KEYS[type_name]
    existing = {tuple(r[k] for k in keys) for r in real}
    reps = (
        _interleaved(real, unknown)
        if unknown
        else list(itertools.islice(itertools.cycle(real), 100))
    )
    assert len(reps) == 100
    return [{"__typename": type_name, **r} for r in reps], existing


@pytest.mark.parametrize("type_name", sorted(ENTITY_FIELDS))
async def test_other_entities_cost_the_same_statements_for_100_representations_as_for_10(
    api: Api, tokens: Tokens, count_sql: SqlCounter, seeded_pools: SourcePools, type_name: str
) -> None:
    reps, existing = await _entity_representations(seeded_pools, type_name)
    keys = ENTITY_KEYS[type_name]
    query = (
        "query Entities($representations: [_Any!]!) { _entities(representations: $representations)"
        f" {{ __typename ... on {type_name} {{ {ENTITY_FIELDS[type_name]} }} }} }}"
    )
    # Customs sees every row of every source.
    token = tokens.mint("CBP", "vessel:read", "cargo:read", "cargo:commercial", "security:read")
    await api.data(query, {"representations": reps[:3]}, token)  # warm-up
    counts: dict[int, int] = {}
    for size in (10, 100):
        sample = reps[:size]
        async with count_sql() as counter:
            data = await api.data(query, {"representations": sample}, token)
        got = data["_entities"]
        assert len(got) == size
        for rep, entity in zip(sample, got, strict=True):
            key = tuple(rep[k] for k in keys)
            if key in existing:
                assert entity is not None, rep
                assert entity["__typename"] == type_name
                assert tuple(entity[k] for k in keys) == key
            else:
                assert entity is None, rep
        found = [e for e in got if e is not None]
        expected_found = ENTITIES_FOUND[type_name][0 if size == 10 else 1]
        assert len(found) == expected_found, f"{type_name}: {len(found)} of {size} found"
        nested = [functools.reduce(operator.getitem, NESTED_LEVEL[type_name], e) for e in found]
        assert any(nested), f"{type_name}: the sample exercises its nested level"
        counts[size] = len(source_statements(counter.statements))
    assert counts[10] > 0
    assert counts[100] == counts[10], f"{type_name}: {counts}"


# --- Representations that are not a valid key: one user error each, at their position -------

ANY_ENTITY = """
query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Port { unlocode name }
    ... on Terminal { unlocode smdgCode name }
    ... on Vessel { imo name }
  }
}
"""
BAD_REPRESENTATIONS = {
    "terminal-unlocode-not-a-string": {"__typename": "Terminal", "unlocode": 5, "smdgCode": "APMT"},
    "terminal-smdg-code-not-a-string": {
        "__typename": "Terminal",
        "unlocode": "USLAX",
        "smdgCode": ["APMT"],
    },
    "port-unlocode-not-a-string": {"__typename": "Port", "unlocode": 5},
    "port-unlocode-null": {"__typename": "Port", "unlocode": None},
    "port-without-its-key": {"__typename": "Port"},
    "terminal-without-smdg-code": {"__typename": "Terminal", "unlocode": "USLAX"},
    "unknown-typename": {"__typename": "Warehouse", "unlocode": "USLAX"},
    "no-typename": {"unlocode": "USLAX"},
    "vessel-imo-not-a-string": {"__typename": "Vessel", "imo": 9321483},
}


async def _good_neighbours(pools: SourcePools) -> tuple[list[dict[str, Any]], list[Any]]:
    """Valid representations of each kind and what `_entities` answers for them."""
    port = await one(pools["vessel"], "SELECT unlocode, name FROM vessel.port ORDER BY unlocode")
    terminal = await one(
        pools["vessel"],
        "SELECT unlocode, smdg_code, name FROM vessel.terminal ORDER BY unlocode, smdg_code",
    )
    vessel = await one(pools["vessel"], "SELECT imo, name FROM vessel.vessel ORDER BY imo")
    reps: list[dict[str, Any]] = [
        {"__typename": "Port", "unlocode": port["unlocode"]},
        {
            "__typename": "Terminal",
            "unlocode": terminal["unlocode"],
            "smdgCode": terminal["smdg_code"],
        },
        {"__typename": "Vessel", "imo": vessel["imo"]},
    ]
    expected: list[Any] = [
        {"__typename": "Port", "unlocode": port["unlocode"], "name": port["name"]},
        {
            "__typename": "Terminal",
            "unlocode": terminal["unlocode"],
            "smdgCode": terminal["smdg_code"],
            "name": terminal["name"],
        },
        {"__typename": "Vessel", "imo": vessel["imo"], "name": vessel["name"]},
    ]
    return reps, expected


def _user_errors(errors: list[dict[str, Any]]) -> list[list[Any]]:
    """The paths of the errors, each a BAD_USER_INPUT naming its representation, the way
    every user error names its argument."""
    for error in errors:
        position = error["path"][-1]
        argument = f"representations[{position}]"
        assert error["extensions"] == {"code": BAD_USER_INPUT, "argument": argument}, error
        assert f"`{argument}`" in error["message"], error
    return sorted(e["path"] for e in errors)


@pytest.mark.parametrize("bad", sorted(BAD_REPRESENTATIONS))
async def test_a_bad_representation_is_a_user_error_at_its_position_the_rest_resolve(
    api: Api, tokens: Tokens, seeded_pools: SourcePools, bad: str
) -> None:
    good, expected = await _good_neighbours(seeded_pools)
    # The bad one between the good ones, its own type's valid key right next to it.
    reps = [good[0], BAD_REPRESENTATIONS[bad], good[1], good[2]]
    _, token = tokens.partner("CUSTOMS")
    data, errors = await answer(api, ANY_ENTITY, {"representations": reps}, token)
    assert data == {"_entities": [expected[0], None, expected[1], expected[2]]}, errors
    assert _user_errors(errors) == [["_entities", 1]]


async def test_several_bad_representations_each_get_their_own_error(
    api: Api, seeded_pools: SourcePools
) -> None:
    good, expected = await _good_neighbours(seeded_pools)
    reps = [
        BAD_REPRESENTATIONS["port-unlocode-not-a-string"],
        good[0],
        BAD_REPRESENTATIONS["unknown-typename"],
        good[1],
        BAD_REPRESENTATIONS["terminal-without-smdg-code"],
        good[2],
    ]
    data, errors = await answer(api, ANY_ENTITY, {"representations": reps})  # anonymous
    assert data == {"_entities": [None, expected[0], None, expected[1], None, expected[2]]}
    assert _user_errors(errors) == [["_entities", 0], ["_entities", 2], ["_entities", 4]]


# --- _service { sdl }: development, production, the directives it carries -----------------


async def test_service_sdl_answers_in_development_mode_and_is_the_committed_schema(
    api: Api,
) -> None:
    data = await api.data("{ _service { sdl } }")
    assert data["_service"]["sdl"] + "\n" == print_sdl()


def principal(*scopes: str) -> Principal:
    return Principal(
        subject="gateway",
        organization_code="PORT",
        kind=OrganizationKind.PORT_AUTHORITY,
        scopes=frozenset(scopes),
    )


@pytest.mark.parametrize(
    "who",
    [ANONYMOUS, principal(*(s.value for s in Scope if s is not Scope.FEDERATION_SDL))],
    ids=["anonymous", "every-scope-but-federation-sdl"],
)
async def test_production_schema_refuses_service_sdl_without_the_federation_scope(
    seeded_pools: SourcePools, who: Principal
) -> None:
    production = schema_module.build_schema(development=False)
    context = new_context(
        who, seeded_pools, max_page_size=100, port_locode="USLAX", audit=no_writes
    )
    result = await production.execute("{ _service { sdl } }", context_value=context)
    assert result.data is None  # _service is non-null: the refusal nulls the whole answer
    assert result.errors is not None
    assert [(e.path, (e.extensions or {}).get("code")) for e in result.errors] == [
        (["_service"], UNAUTHORIZED)
    ]


async def test_production_schema_gives_service_sdl_to_the_federation_scope(
    seeded_pools: SourcePools,
) -> None:
    production = schema_module.build_schema(development=False)
    context = new_context(
        principal(Scope.FEDERATION_SDL.value),
        seeded_pools,
        max_page_size=100,
        port_locode="USLAX",
        audit=no_writes,
    )
    result = await production.execute("{ _service { sdl } }", context_value=context)
    assert result.errors is None
    assert result.data is not None
    assert result.data["_service"]["sdl"] + "\n" == print_sdl()


def _field_directives(sdl: str, type_name: str, field_name: str) -> list[str]:
    for node in parse(sdl).definitions:
        if isinstance(node, ObjectTypeDefinitionNode) and node.name.value == type_name:
            for field in node.fields or ():
                if field.name.value == field_name:
                    return [print_ast(d) for d in field.directives or ()]
    raise AssertionError(f"{type_name}.{field_name} is not in the SDL")


def test_sdl_declares_the_consignee_scope_for_the_gateway() -> None:
    sdl = print_sdl()
    assert _field_directives(sdl, "Container", "consignee") == [
        '@requiresScopes(scopes: [["cargo:commercial"]])'
    ]
    assert _field_directives(sdl, "Shipment", "consignee") == [
        '@requiresScopes(scopes: [["cargo:commercial"]])'
    ]
    assert _field_directives(sdl, "Query", "container") == [
        '@requiresScopes(scopes: [["cargo:read"]])'
    ]


def test_sdl_has_no_stray_directives() -> None:
    """Only federation's directives (and the GraphQL spec's own) reach the gateway."""
    used: dict[str, list[DirectiveNode]] = {}

    class Directives(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: object) -> None:
            used.setdefault(node.name.value, []).append(node)

    visit(parse(print_sdl()), Directives())
    assert set(used) - FEDERATION_DIRECTIVES - SPEC_DIRECTIVES == set()
    assert {"key", "link", "requiresScopes", "authenticated"} <= set(used)
    # Every federation directive used is imported by the one @link (composition needs it).
    (link,) = used["link"]
    imports = next(a.value for a in link.arguments or () if a.name.value == "import")
    assert isinstance(imports, ListValueNode)
    imported = {v.value.removeprefix("@") for v in imports.values if isinstance(v, StringValueNode)}
    assert set(used) & FEDERATION_DIRECTIVES - {"link"} <= imported
