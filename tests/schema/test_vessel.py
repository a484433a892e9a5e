"""The vessel schema over HTTP with real tokens, against the seeded database.

Expected values are read with plain SQL here, never through the code under test.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import pytest

from graph.settings import Settings
from resolvers.sources import SourcePools
from tests.helpers import UNAUTHORIZED, answer, global_id, iso, source_statements, walk

Row = asyncpg.Record

SCHEDULE_SQL = """
SELECT pc.id, pc.port_visit_reference, pc.carrier_scac, pc.status, pc.estimated_arrival,
       pc.actual_arrival, pc.estimated_departure, pc.actual_departure, tc.berth,
       p.unlocode AS port_unlocode, p.name AS port_name,
       t.unlocode AS terminal_unlocode, t.smdg_code, t.name AS terminal_name,
       v.imo, v.name AS vessel_name, v.flag, v.operator_scac
FROM vessel.port_call pc
JOIN vessel.port p ON p.unlocode = pc.unlocode
JOIN vessel.vessel v ON v.imo = pc.vessel_imo
LEFT JOIN vessel.terminal_call tc ON tc.port_call_id = pc.id AND tc.sequence = 1
LEFT JOIN vessel.terminal t ON t.unlocode = tc.unlocode AND t.smdg_code = tc.smdg_code
"""
SCHEDULE_ORDER = " ORDER BY pc.estimated_arrival, pc.id"

CALL_FIELDS = """
fragment Call on PortCall {
  id portCallId portVisitReference carrier status berth
  estimatedArrival actualArrival estimatedDeparture actualDeparture
  port { unlocode name }
  terminal { unlocode smdgCode name }
  vessel { imo name flag operator }
}
"""
PORT_CALLS = (
    """
query Calls($first: Int, $after: String, $filter: PortCallFilter) {
  portCalls(first: $first, after: $after, filter: $filter) {
    edges { cursor node { ...Call } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""
    + CALL_FIELDS
)
TIMESTAMP_CHAIN = """
query Chain($id: ID!) {
  portCall(id: $id) {
    portCallId
    timestamps {
      id classifier serviceType eventType eventDateTime publisher publisherRole remark
      delayReasonCode
      terminal { smdgCode }
      replyTo { id classifier replyTo { id classifier replyTo { id } } }
    }
  }
}
"""


def expected_call(row: Row) -> dict[str, Any]:
    terminal = None
    if row["smdg_code"] is not None:
        terminal = {
            "unlocode": row["terminal_unlocode"],
            "smdgCode": row["smdg_code"],
            "name": row["terminal_name"],
        }
    return {
        "id": global_id("PortCall", str(row["id"])),
        "portCallId": str(row["id"]),
        "portVisitReference": row["port_visit_reference"],
        "carrier": row["carrier_scac"],
        "status": row["status"],
        "berth": row["berth"],
        "estimatedArrival": iso(row["estimated_arrival"]),
        "actualArrival": iso(row["actual_arrival"]),
        "estimatedDeparture": iso(row["estimated_departure"]),
        "actualDeparture": iso(row["actual_departure"]),
        "port": {"unlocode": row["port_unlocode"], "name": row["port_name"]},
        "terminal": terminal,
        "vessel": {
            "imo": row["imo"],
            "name": row["vessel_name"],
            "flag": row["flag"],
            "operator": row["operator_scac"],
        },
    }


@pytest.fixture(scope="module")
async def busy_call(seeded_pools: SourcePools) -> Row:
    """A call with a berth negotiated EST -> REQ -> PLN, its carrier and its terminal."""
    row = await seeded_pools["vessel"].fetchrow(
        """
        SELECT pc.id, pc.carrier_scac, pc.vessel_imo, tc.unlocode, tc.smdg_code
        FROM vessel.port_call pc
        JOIN vessel.terminal_call tc ON tc.port_call_id = pc.id
        JOIN vessel.port_call_service s ON s.terminal_call_id = tc.id
        JOIN vessel.timestamp t ON t.port_call_service_id = s.id
        WHERE t.classifier = 'PLN' AND t.reply_to_timestamp_id IS NOT NULL
        ORDER BY pc.estimated_arrival DESC, pc.id
        LIMIT 1
        """
    )
    assert row is not None
    return row


async def expected_timestamps(pools: SourcePools, port_call_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await pools["vessel"].fetch(
        """
        SELECT t.id, t.classifier, s.service_type, t.event_type, t.event_datetime,
               t.publisher_code, t.publisher_role, t.remark, t.delay_reason_code,
               tc.smdg_code, t.reply_to_timestamp_id
        FROM vessel.timestamp t
        JOIN vessel.port_call_service s ON s.id = t.port_call_service_id
        JOIN vessel.terminal_call tc ON tc.id = s.terminal_call_id
        WHERE tc.port_call_id = $1
        ORDER BY t.created_at, t.id
        """,
        port_call_id,
    )
    by_id = {r["id"]: r for r in rows}

    def chain(ident: uuid.UUID | None, depth: int) -> dict[str, Any] | None:
        if ident is None:
            return None
        link: dict[str, Any] = {"id": str(ident)}
        if depth < 3:
            link["classifier"] = by_id[ident]["classifier"]
            link["replyTo"] = chain(by_id[ident]["reply_to_timestamp_id"], depth + 1)
        return link

    return [
        {
            "id": str(r["id"]),
            "classifier": r["classifier"],
            "serviceType": r["service_type"],
            "eventType": r["event_type"],
            "eventDateTime": iso(r["event_datetime"]),
            "publisher": r["publisher_code"],
            "publisherRole": r["publisher_role"],
            "remark": r["remark"],
            "delayReasonCode": r["delay_reason_code"],
            "terminal": {"smdgCode": r["smdg_code"]},
            "replyTo": chain(r["reply_to_timestamp_id"], 1),
        }
        for r in rows
    ]


# --- The public schedule ------------------------------------------------------------------------


async def test_anonymous_reads_the_whole_schedule_page_by_page(
    api: Any, seeded_pools: SourcePools
) -> None:
    rows = await seeded_pools["vessel"].fetch(SCHEDULE_SQL + SCHEDULE_ORDER)
    assert len(rows) > 10
    nodes = await walk(api, PORT_CALLS, "portCalls", 5)
    assert nodes == [expected_call(r) for r in rows]


async def test_anonymous_is_refused_the_protected_fields_at_their_paths(api: Any) -> None:
    query = """
    { portCalls(first: 3) { edges { node {
        portVisitReference timestamps { id }
        vessel { imo name mmsi callSign latestPosition { latitude } }
    } } } }
    """
    data, errors = await answer(api, query)
    edges = data["portCalls"]["edges"]
    assert len(edges) == 3
    for edge in edges:
        node = edge["node"]
        assert node["portVisitReference"]
        assert node["vessel"]["name"]
        assert node["timestamps"] is None
        assert node["vessel"]["mmsi"] is None
        assert node["vessel"]["callSign"] is None
        assert node["vessel"]["latestPosition"] is None
    refused = sorted(
        json.dumps(e["path"]) for e in errors if e["extensions"]["code"] == UNAUTHORIZED
    )
    expected = sorted(
        json.dumps(["portCalls", "edges", i, "node", *tail])
        for i in range(3)
        for tail in (
            ["timestamps"],
            ["vessel", "mmsi"],
            ["vessel", "callSign"],
            ["vessel", "latestPosition"],
        )
    )
    assert refused == expected
    assert len(errors) == len(expected)


async def test_refused_the_same_way_through_alias_fragment_node_and_entities(
    api: Any, busy_call: Row
) -> None:
    gid = global_id("PortCall", str(busy_call["id"]))
    query = """
    query($id: ID!, $reps: [_Any!]!) {
      aliased: portCall(id: $id) { stamps: timestamps { id } }
      fragmented: portCall(id: $id) { ...Stamps }
      node(id: $id) { ... on PortCall { timestamps { id } } }
      _entities(representations: $reps) { ... on PortCall { timestamps { id } } }
    }
    fragment Stamps on PortCall { timestamps { id } }
    """
    reps = [{"__typename": "PortCall", "id": gid}]
    data, errors = await answer(api, query, {"id": gid, "reps": reps})
    assert data == {
        "aliased": {"stamps": None},
        "fragmented": {"timestamps": None},
        "node": {"timestamps": None},
        "_entities": [{"timestamps": None}],
    }
    assert sorted((json.dumps(e["path"]), e["extensions"]["code"]) for e in errors) == sorted(
        (json.dumps(path), UNAUTHORIZED)
        for path in (
            ["aliased", "stamps"],
            ["fragmented", "timestamps"],
            ["node", "timestamps"],
            ["_entities", 0, "timestamps"],
        )
    )


async def test_vessel_with_its_port_calls_and_protected_particulars(
    api: Any, tokens: Any, seeded_pools: SourcePools, busy_call: Row
) -> None:
    pool = seeded_pools["vessel"]
    vessel = await pool.fetchrow(
        "SELECT imo, mmsi, call_sign, name, length_overall_m, teu_capacity FROM vessel.vessel"
        " WHERE imo = $1",
        busy_call["vessel_imo"],
    )
    position = await pool.fetchrow(
        """
        SELECT recorded_at, latitude, longitude, navigational_status FROM vessel.ais_position
        WHERE vessel_imo = $1 ORDER BY recorded_at DESC LIMIT 1
        """,
        busy_call["vessel_imo"],
    )
    calls = await pool.fetch(
        "SELECT id FROM vessel.port_call WHERE vessel_imo = $1 ORDER BY estimated_arrival, id",
        busy_call["vessel_imo"],
    )
    assert vessel is not None
    query = """
    query($imo: String!) { vessel(imo: $imo) {
      id imo name mmsi callSign lengthOverall teuCapacity
      latestPosition { recordedAt latitude longitude navigationalStatus }
      portCalls(first: 100) { edges { node { portCallId } } pageInfo { hasNextPage } }
    } }
    """
    _, token = tokens.partner("OTHER_PORT")  # vessel:read, no party to any call
    data = await api.data(query, {"imo": "IMO " + vessel["imo"]}, token)
    assert data["vessel"] == {
        "id": global_id("Vessel", vessel["imo"]),
        "imo": vessel["imo"],
        "name": vessel["name"],
        "mmsi": vessel["mmsi"],
        "callSign": vessel["call_sign"],
        "lengthOverall": None
        if vessel["length_overall_m"] is None
        else float(vessel["length_overall_m"]),
        "teuCapacity": vessel["teu_capacity"],
        "latestPosition": None
        if position is None
        else {
            "recordedAt": iso(position["recorded_at"]),
            "latitude": position["latitude"],
            "longitude": position["longitude"],
            "navigationalStatus": position["navigational_status"],
        },
        "portCalls": {
            "edges": [{"node": {"portCallId": str(c["id"])}} for c in calls],
            "pageInfo": {"hasNextPage": False},
        },
    }


async def test_vessels_pages_and_search(api: Any, seeded_pools: SourcePools) -> None:
    pool = seeded_pools["vessel"]
    everyone = await pool.fetch("SELECT imo FROM vessel.vessel ORDER BY lower(name), imo")
    query = """
    query($first: Int, $after: String, $search: String) {
      vessels(first: $first, after: $after, search: $search) {
        edges { node { imo } } pageInfo { hasNextPage hasPreviousPage endCursor }
      }
    }
    """
    nodes = await walk(api, query, "vessels", 5)
    assert [n["imo"] for n in nodes] == [r["imo"] for r in everyone]
    name = await pool.fetchval("SELECT name FROM vessel.vessel ORDER BY imo LIMIT 1")
    prefix = name[:4].lower()
    matching = await pool.fetch(
        "SELECT imo FROM vessel.vessel WHERE lower(name) LIKE $1 || '%' ORDER BY lower(name), imo",
        prefix,
    )
    found = await walk(api, query, "vessels", 2, search=prefix)
    assert [n["imo"] for n in found] == [r["imo"] for r in matching]


# --- Filters and input errors -----------------------------------------------------------------


async def test_port_call_filters(api: Any, seeded_pools: SourcePools, busy_call: Row) -> None:
    anchor = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    after, before = anchor - dt.timedelta(days=20), anchor + dt.timedelta(days=20)
    rows = await seeded_pools["vessel"].fetch(
        SCHEDULE_SQL
        + """
        WHERE EXISTS (SELECT 1 FROM vessel.terminal_call f WHERE f.port_call_id = pc.id
                      AND f.unlocode = $1 AND f.smdg_code = $2)
          AND pc.carrier_scac = $3 AND pc.estimated_arrival >= $4 AND pc.estimated_arrival < $5
        """
        + SCHEDULE_ORDER,
        busy_call["unlocode"],
        busy_call["smdg_code"],
        busy_call["carrier_scac"],
        after,
        before,
    )
    assert rows
    filter_ = {
        "terminal": {"smdgCode": busy_call["smdg_code"].lower(), "unlocode": busy_call["unlocode"]},
        "carrier": busy_call["carrier_scac"].lower(),
        "arrivingAfter": after.isoformat(),
        "arrivingBefore": before.isoformat(),
    }
    nodes = await walk(api, PORT_CALLS, "portCalls", 2, filter=filter_)
    assert nodes == [expected_call(r) for r in rows]

    by_status = await seeded_pools["vessel"].fetch(
        SCHEDULE_SQL
        + " WHERE pc.status = 'AT_BERTH' AND pc.vessel_imo = pc.vessel_imo"
        + SCHEDULE_ORDER
    )
    data = await api.data(PORT_CALLS, {"first": 100, "filter": {"status": "AT_BERTH"}})
    assert [e["node"] for e in data["portCalls"]["edges"]] == [expected_call(r) for r in by_status]

    of_vessel = await seeded_pools["vessel"].fetch(
        SCHEDULE_SQL + " WHERE pc.vessel_imo = $1" + SCHEDULE_ORDER, busy_call["vessel_imo"]
    )
    data = await api.data(
        PORT_CALLS, {"first": 100, "filter": {"vesselImo": busy_call["vessel_imo"]}}
    )
    assert [e["node"] for e in data["portCalls"]["edges"]] == [expected_call(r) for r in of_vessel]


# `portCalls` is a non-null connection: its refusal nulls the whole answer (`data: null`);
# `vessel` and `portCall` are nullable, so only they are null.
NO_DATA = None
NO_VESSEL = {"vessel": None}
NO_PORT_CALL = {"portCall": None}


@pytest.mark.parametrize(
    ("query", "variables", "argument", "expected"),
    [
        ("query($v: String!) { vessel(imo: $v) { name } }", {"v": "93214"}, "imo", NO_VESSEL),
        (
            "query($v: String) { portCalls(filter: {carrier: $v}) { edges { cursor } } }",
            {"v": "MSC1"},
            "filter.carrier",
            NO_DATA,
        ),
        (
            "query($v: String) { portCalls(filter: {vesselImo: $v}) { edges { cursor } } }",
            {"v": "IMO 12"},
            "filter.vesselImo",
            NO_DATA,
        ),
        (
            "query($v: String!) { portCalls(filter: {terminal: {smdgCode: $v}})"
            " { edges { cursor } } }",
            {"v": "NOT-A-CODE"},
            "filter.terminal.smdgCode",
            NO_DATA,
        ),
        (
            'query($v: String!) { portCalls(filter: {terminal: {smdgCode: "APMT", unlocode: $v}})'
            " { edges { cursor } } }",
            {"v": "LAX"},
            "filter.terminal.unlocode",
            NO_DATA,
        ),
        (
            "query($v: DateTime) { portCalls(filter: {arrivingAfter: $v}) { edges { cursor } } }",
            {"v": "2026-03-02T08:00:00"},
            "filter.arrivingAfter",
            NO_DATA,
        ),
        ("query($v: ID!) { portCall(id: $v) { status } }", {"v": "not-an-id"}, "id", NO_PORT_CALL),
        (
            "query($v: ID!) { portCall(id: $v) { status } }",
            {"v": global_id("Vessel", "9321483")},
            "id",
            NO_PORT_CALL,
        ),
    ],
)
async def test_invalid_identifiers_are_user_errors_naming_the_argument(
    api: Any,
    query: str,
    variables: dict[str, Any],
    argument: str,
    expected: dict[str, None] | None,
) -> None:
    data, errors = await answer(api, query, variables)
    assert data == expected
    assert len(errors) == 1
    assert errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}
    assert f"`{argument}`" in errors[0]["message"]
    root = query.split("{", 1)[1].split("(", 1)[0].strip()
    assert errors[0]["path"] == [root]


async def test_imo_check_digit_mismatch_is_no_error(api: Any) -> None:
    # 1234568 fails the check digit (7 expected): many real ships do, so it is looked up.
    data, errors = await answer(api, '{ vessel(imo: "1234568") { name } }')
    assert data == {"vessel": None}
    assert errors == []


@pytest.mark.parametrize(
    ("root", "arity"),
    [("portCalls", 2), ("vessels", 2)],
)
async def test_bad_cursors_and_oversized_pages_are_user_errors(
    api: Any, test_settings: Settings, root: str, arity: int
) -> None:
    query = (
        f"query($first: Int, $after: String) {{ {root}(first: $first, after: $after)"
        " { edges { cursor } } }"
    )
    wrong_types = base64.urlsafe_b64encode(json.dumps([1] * arity).encode()).decode()
    for after in ("garbage", wrong_types):
        data, errors = await answer(api, query, {"after": after})
        assert data is None
        assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]
        assert "`after`" in errors[0]["message"]
    data, errors = await answer(api, query, {"first": test_settings.max_page_size + 1})
    assert data is None
    assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]
    assert "`first`" in errors[0]["message"]


async def test_nested_bad_cursor_nulls_only_its_parent(api: Any, busy_call: Row) -> None:
    query = """query($imo: String!) {
      vessel(imo: $imo) { portCalls(after: "garbage") { edges { cursor } } }
      portCalls(first: 1) { edges { cursor } }
    }"""
    data, errors = await answer(api, query, {"imo": busy_call["vessel_imo"]})
    assert data["vessel"] is None
    assert len(data["portCalls"]["edges"]) == 1
    assert [(e["path"], e["extensions"]["code"]) for e in errors] == [
        (["vessel", "portCalls"], "BAD_USER_INPUT")
    ]


# --- JIT timestamps: the chain and the row rule -------------------------------------------------


async def test_carrier_reads_its_call_timestamps_with_the_reply_chain(
    api: Any, tokens: Any, seeded_pools: SourcePools, busy_call: Row
) -> None:
    token = tokens.mint(busy_call["carrier_scac"], "vessel:read")
    expected = await expected_timestamps(seeded_pools, busy_call["id"])
    assert any(t["classifier"] == "PLN" and t["replyTo"] for t in expected)
    data = await api.data(TIMESTAMP_CHAIN, {"id": str(busy_call["id"])}, token)
    assert data["portCall"] == {"portCallId": str(busy_call["id"]), "timestamps": expected}
    pln = next(t for t in data["portCall"]["timestamps"] if t["classifier"] == "PLN")
    assert pln["replyTo"]["classifier"] == "REQ"
    assert pln["replyTo"]["replyTo"]["classifier"] == "EST"


async def test_terminal_and_customs_see_the_timestamps_another_carrier_does_not(
    api: Any, tokens: Any, seeded_pools: SourcePools, busy_call: Row
) -> None:
    other = await seeded_pools["community"].fetchval(
        """
        SELECT code FROM community.organization
        WHERE kind = 'CARRIER' AND scac <> $1 ORDER BY code LIMIT 1
        """,
        busy_call["carrier_scac"],
    )
    expected = await expected_timestamps(seeded_pools, busy_call["id"])
    variables = {"id": global_id("PortCall", str(busy_call["id"]))}
    terminal = f"{busy_call['unlocode']}-{busy_call['smdg_code']}"
    for org, sees in ((terminal, True), ("CBP", True), (other, False)):
        data = await api.data(TIMESTAMP_CHAIN, variables, tokens.mint(org, "vessel:read"))
        assert data["portCall"]["timestamps"] == (expected if sees else []), org


# --- Node, entities and the statement count ---------------------------------------------------


async def test_node_and_entities_resolve_through_the_loaders(
    api: Any, seeded_pools: SourcePools, busy_call: Row
) -> None:
    rows = await seeded_pools["vessel"].fetch(SCHEDULE_SQL + " WHERE pc.id = $1", busy_call["id"])
    call_id = global_id("PortCall", str(busy_call["id"]))
    vessel_id = global_id("Vessel", busy_call["vessel_imo"])
    query = (
        """
    query($call: ID!, $vessel: ID!, $missing: ID!, $reps: [_Any!]!) {
      call: node(id: $call) { id ...Call }
      vessel: node(id: $vessel) { id ... on Vessel { imo } }
      missing: node(id: $missing) { id }
      _entities(representations: $reps) {
        ... on PortCall { portCallId }
        ... on Vessel { name }
        ... on Terminal { name port { unlocode } }
        ... on Port { name }
      }
    }
    """
        + CALL_FIELDS
    )
    missing = global_id("PortCall", str(uuid.UUID(int=0)))
    reps = [
        {"__typename": "PortCall", "id": call_id},
        {"__typename": "Vessel", "imo": busy_call["vessel_imo"]},
        {
            "__typename": "Terminal",
            "unlocode": busy_call["unlocode"],
            "smdgCode": busy_call["smdg_code"],
        },
        {"__typename": "Port", "unlocode": busy_call["unlocode"]},
        {"__typename": "Vessel", "imo": "0000000"},
        # Subgraphs that know only the DCSA portCallID may send it as the key.
        {"__typename": "PortCall", "id": str(busy_call["id"])},
    ]
    variables = {"call": call_id, "vessel": vessel_id, "missing": missing, "reps": reps}
    data, errors = await answer(api, query, variables)
    assert errors == []
    assert data["call"] == expected_call(rows[0])
    assert data["vessel"] == {"id": vessel_id, "imo": busy_call["vessel_imo"]}
    assert data["missing"] is None
    row = rows[0]
    assert data["_entities"] == [
        {"portCallId": str(busy_call["id"])},
        {"name": row["vessel_name"]},
        {"name": row["terminal_name"], "port": {"unlocode": busy_call["unlocode"]}},
        {"name": row["port_name"]},
        None,
        {"portCallId": str(busy_call["id"])},
    ]


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "resolvers"])
async def test_statement_count_does_not_grow_with_the_page(
    api: Any,
    resolver_api: Any,
    tokens: Any,
    count_sql: Any,
    seeded_pools: SourcePools,
    compiled: bool,
) -> None:
    client = api if compiled else resolver_api
    total = await seeded_pools["vessel"].fetchval("SELECT count(*) FROM vessel.port_call")
    assert total > 10
    query = """
    query($first: Int) { portCalls(first: $first) { edges { node {
      id status
      port { name }
      vessel { name imo latestPosition { latitude } }
      terminal { name port { name } }
      timestamps { id classifier terminal { smdgCode } replyTo { id replyTo { id } } }
    } } } }
    """
    token = tokens.mint("CBP", "vessel:read")
    counts = []
    for first in (10, 100):
        async with count_sql() as counter:
            data = await client.data(query, {"first": first}, token)
        # The token's organization is looked up when its 5 s cache has lapsed: not the page's.
        statements = source_statements(counter.statements)
        counts.append(len(statements))
        assert len(data["portCalls"]["edges"]) == min(first, total)
        # Resolvers: one per level and loader: page, port, vessel, position, terminal,
        # timestamps (the replyTo chain and the timestamps' terminals come from the loaders'
        # caches). Compiled: one for the source.
        expected = 1 if compiled else 6
        assert len([s for s in statements if "vessel." in s]) == expected, statements
    assert counts[0] == counts[1], counts


# --- Cross-source links: a call's containers, a terminal's advisories ---------------------------


async def test_port_call_containers_under_the_cargo_rule(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    # A call carrying containers of more than one carrier shows the cargo rule at work.
    call = await seeded_pools["cargo"].fetchrow(
        """
        SELECT port_call_id, min(carrier_scac) AS carrier_scac
        FROM cargo.container_visit GROUP BY port_call_id
        ORDER BY count(DISTINCT carrier_scac) DESC, count(*) DESC, port_call_id LIMIT 1
        """
    )
    assert call is not None
    numbers_sql = """
        SELECT equipment_reference FROM cargo.container_visit
        WHERE port_call_id = $1 AND ($2::text IS NULL OR carrier_scac = $2)
        ORDER BY equipment_reference
    """
    everything = await seeded_pools["cargo"].fetch(numbers_sql, call["port_call_id"], None)
    own = await seeded_pools["cargo"].fetch(numbers_sql, call["port_call_id"], call["carrier_scac"])
    assert 0 < len(own) <= len(everything)
    query = """
    query($id: ID!, $first: Int, $after: String) { portCall(id: $id) {
      containers(first: $first, after: $after) {
        edges { node { number } } pageInfo { hasNextPage hasPreviousPage endCursor }
      }
    } }
    """
    variables = {"id": str(call["port_call_id"])}
    stranger = await seeded_pools["community"].fetchval(
        """
        SELECT code FROM community.organization
        WHERE kind = 'CARRIER' AND scac <> ALL($1::text[]) ORDER BY code LIMIT 1
        """,
        await seeded_pools["cargo"].fetchval(
            "SELECT array_agg(DISTINCT carrier_scac) FROM cargo.container_visit"
            " WHERE port_call_id = $1",
            call["port_call_id"],
        ),
    )
    cases: tuple[tuple[str, Sequence[Row]], ...] = (
        (call["carrier_scac"], own),
        ("CBP", everything),
        (stranger, []),
    )
    for org, expected in cases:
        token = tokens.mint(org, "cargo:read")
        numbers: list[str] = []
        after = None
        while True:
            data = await api.data(query, {**variables, "first": 7, "after": after}, token)
            page = data["portCall"]["containers"]
            numbers += [e["node"]["number"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert numbers == [r["equipment_reference"] for r in expected], org

    data, errors = await answer(api, query, variables, tokens.mint("CBP", "vessel:read"))
    assert data == {"portCall": {"containers": None}}
    assert [(e["path"], e["extensions"]["code"]) for e in errors] == [
        (["portCall", "containers"], UNAUTHORIZED)
    ]


async def test_terminal_open_advisories_under_the_tlp_rule(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    rows = await seeded_pools["security"].fetch(
        """
        SELECT f.unlocode, f.smdg_code, a.reference
        FROM security.advisory a JOIN security.advisory_facility f ON f.advisory_id = a.id
        WHERE (a.expires_at IS NULL OR a.expires_at > now()) AND a.tlp IN ('CLEAR', 'GREEN')
        ORDER BY f.unlocode, f.smdg_code, a.published_at DESC, a.id
        """
    )
    terminals = await seeded_pools["vessel"].fetch(
        "SELECT unlocode, smdg_code FROM vessel.terminal WHERE unlocode = 'USLAX' ORDER BY smdg_code"
    )
    expected = [
        {
            "smdgCode": t["smdg_code"],
            "openAdvisories": [
                {"reference": r["reference"]}
                for r in rows
                if (r["unlocode"], r["smdg_code"]) == (t["unlocode"], t["smdg_code"])
            ],
        }
        for t in terminals
    ]
    assert any(t["openAdvisories"] for t in expected)
    query = '{ port(unlocode: "US LAX") { terminals { smdgCode openAdvisories { reference } } } }'
    _, token = tokens.partner("OTHER_PORT")  # security:read: shared (CLEAR, GREEN) advisories
    data = await api.data(query, token=token)
    assert data["port"]["terminals"] == expected

    data, errors = await answer(api, query)
    assert [t["openAdvisories"] for t in data["port"]["terminals"]] == [None] * len(terminals)
    assert sorted(json.dumps(e["path"]) for e in errors) == sorted(
        json.dumps(["port", "terminals", i, "openAdvisories"]) for i in range(len(terminals))
    )
