"""The gate schema over HTTP with real tokens, against the seeded database (anchor 2026-03-02).

Expected values are read with plain SQL here, never through the code under test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import pytest

from resolvers.sources import SourcePools
from schema.pagination import encode_cursor
from tests.helpers import (
    BAD_USER_INPUT,
    PAGE_SIZES,
    UNAUTHORIZED,
    answer,
    iso,
    page_costs,
    refused,
    walk,
)

Row = asyncpg.Record
ANCHOR = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
# Literal counts of the deterministic seed (scale 0.05, seed 7, anchor 2026-03-02), next to
# the SQL-derived expectations: a list that is empty (or shrinks) on both sides fails here.
BUSIEST_TRUCKER = ("HBDR", 504)  # its SCAC and its appointments
BUSIEST_TRUCKER_RECENT_TRANSACTIONS = 95  # gate moves in the 5 days before the anchor
BUSIEST_TERMINAL = ("USLGB", "TTI")  # the most gate transactions
BUSIEST_TERMINAL_APPOINTMENTS_LAST_3_DAYS = 38
ONEY_RULES_AT_NOON = 12  # empty-return rules of ONEY in force at the anchor's noon
APMT_45G1_RULES_ON_ANCHOR_DAY = 2

APPOINTMENTS = """
query Appointments($filter: AppointmentFilter, $first: Int, $after: String) {
  appointments(filter: $filter, first: $first, after: $after) {
    edges { cursor node {
      reference truckerScac unlocode smdgCode equipmentReference moveType
      windowStart windowEnd status truckLicensePlate createdAt
    } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
TRANSACTIONS = """
query Transactions($filter: GateTransactionFilter, $first: Int, $after: String) {
  gateTransactions(filter: $filter, first: $first, after: $after) {
    edges { cursor node {
      truckerScac unlocode smdgCode lane equipmentReference moveType gateInAt gateOutAt
      turnTimeMinutes appointment { reference status }
    } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
EMPTY_RETURNS = """
query Returns($terminal: TerminalKeyInput, $carrier: String, $isoType: String, $from: DateTime,
              $to: DateTime, $first: Int, $after: String) {
  emptyReturns(terminal: $terminal, carrier: $carrier, isoType: $isoType, from: $from, to: $to,
               first: $first, after: $after) {
    edges { node {
      unlocode smdgCode carrierScac isoType accepting validFrom validTo alternateSmdgCode remark
    } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


def expected_appointment(row: Row) -> dict[str, Any]:
    return {
        "reference": row["appointment_reference"],
        "truckerScac": row["trucker_scac"],
        "unlocode": row["unlocode"],
        "smdgCode": row["smdg_code"],
        "equipmentReference": row["equipment_reference"],
        "moveType": row["move_type"],
        "windowStart": iso(row["window_start"]),
        "windowEnd": iso(row["window_end"]),
        "status": row["status"],
        "truckLicensePlate": row["truck_license_plate"],
        "createdAt": iso(row["created_at"]),
    }


def expected_transaction(row: Row) -> dict[str, Any]:
    appointment = None
    if row["appointment_reference"] is not None:
        appointment = {"reference": row["appointment_reference"], "status": row["status"]}
    return {
        "truckerScac": row["trucker_scac"],
        "unlocode": row["unlocode"],
        "smdgCode": row["smdg_code"],
        "lane": row["lane"],
        "equipmentReference": row["equipment_reference"],
        "moveType": row["move_type"],
        "gateInAt": iso(row["gate_in_at"]),
        "gateOutAt": iso(row["gate_out_at"]),
        "turnTimeMinutes": row["turn_time_minutes"],
        "appointment": appointment,
    }


# The container visit an appointment's move belongs to (an empty return ends an import visit,
# an empty pickup starts an export one).
MOVE_DIRECTION = {
    "IMPORT_PICKUP": "IMPORT",
    "EMPTY_RETURN": "IMPORT",
    "EXPORT_DROPOFF": "EXPORT",
    "EMPTY_PICKUP": "EXPORT",
}
SELECT_APPOINTMENTS = "SELECT * FROM gate.appointment g WHERE {} ORDER BY window_start, id"
SELECT_TRANSACTIONS = """
SELECT g.*, a.appointment_reference, a.status
FROM gate.gate_transaction g LEFT JOIN gate.appointment a ON a.id = g.appointment_id
WHERE {} ORDER BY g.gate_in_at DESC, g.id DESC
"""


@pytest.fixture(scope="module")
async def trucker_scac(seeded_pools: SourcePools) -> str:
    """The trucker with the most appointments (its organization code is its SCAC)."""
    return str(
        await seeded_pools["gate"].fetchval(
            "SELECT trucker_scac FROM gate.appointment GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        )
    )


@pytest.fixture(scope="module")
async def terminal_key(seeded_pools: SourcePools) -> tuple[str, str]:
    row = await seeded_pools["gate"].fetchrow(
        "SELECT unlocode, smdg_code FROM gate.gate_transaction GROUP BY 1, 2 "
        "ORDER BY count(*) DESC, 1, 2 LIMIT 1"
    )
    assert row is not None
    return row["unlocode"], row["smdg_code"]


# --- Row rule: truckers, terminals, customs ------------------------------------------------


async def test_trucker_reads_exactly_its_own_appointments(
    api: Any, tokens: Any, seeded_pools: SourcePools, trucker_scac: str
) -> None:
    token = tokens.mint(trucker_scac, "gate:read")
    rows = await seeded_pools["gate"].fetch(
        SELECT_APPOINTMENTS.format("trucker_scac = $1"), trucker_scac
    )
    nodes = await walk(api, APPOINTMENTS, "appointments", 60, token)
    assert len(rows) > 60
    assert (trucker_scac, len(rows)) == BUSIEST_TRUCKER
    assert nodes == [expected_appointment(r) for r in rows]


async def test_trucker_reads_exactly_its_own_transactions(
    api: Any, tokens: Any, seeded_pools: SourcePools, trucker_scac: str
) -> None:
    token = tokens.mint(trucker_scac, "gate:read")
    rows = await seeded_pools["gate"].fetch(
        SELECT_TRANSACTIONS.format("g.trucker_scac = $1 AND g.gate_in_at >= $2"),
        trucker_scac,
        ANCHOR - dt.timedelta(days=5),
    )
    variables = {"filter": {"from": iso(ANCHOR - dt.timedelta(days=5))}}
    nodes = await walk(api, TRANSACTIONS, "gateTransactions", 25, token, **variables)
    assert len(rows) > 25
    assert len(rows) == BUSIEST_TRUCKER_RECENT_TRANSACTIONS
    assert nodes == [expected_transaction(r) for r in rows]
    # Another trucker's name in the filter finds nothing: not an error, not their rows.
    other = {"filter": {"trucker": "HBDR" if trucker_scac != "HBDR" else "PRTL"}}
    data = await api.data(TRANSACTIONS, other, token)
    assert data["gateTransactions"]["edges"] == []


async def test_terminal_reads_only_its_terminal(
    api: Any, tokens: Any, seeded_pools: SourcePools, terminal_key: tuple[str, str]
) -> None:
    port, code = terminal_key
    token = tokens.mint(f"{port}-{code}", "gate:read")
    rows = await seeded_pools["gate"].fetch(
        SELECT_TRANSACTIONS.format("g.unlocode = $1 AND g.smdg_code = $2"), port, code
    )
    data = await api.data(TRANSACTIONS, {"first": 100}, token)
    nodes = [e["node"] for e in data["gateTransactions"]["edges"]]
    assert nodes == [expected_transaction(r) for r in rows[:100]]
    window = {
        "from": iso(ANCHOR - dt.timedelta(days=3)),
        "to": iso(ANCHOR),
        "terminal": {"unlocode": port, "smdgCode": code},
    }
    expected = await seeded_pools["gate"].fetch(
        SELECT_APPOINTMENTS.format(
            "unlocode = $1 AND smdg_code = $2 AND window_start >= $3 AND window_start < $4"
        ),
        port,
        code,
        ANCHOR - dt.timedelta(days=3),
        ANCHOR,
    )
    nodes = await walk(api, APPOINTMENTS, "appointments", 40, token, filter=window)
    assert nodes == [expected_appointment(r) for r in expected]
    assert terminal_key == BUSIEST_TERMINAL
    assert len(nodes) == BUSIEST_TERMINAL_APPOINTMENTS_LAST_3_DAYS


async def test_customs_reads_every_terminal(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    _, token = tokens.partner("CUSTOMS")
    rows = await seeded_pools["gate"].fetch(SELECT_TRANSACTIONS.format("TRUE") + " LIMIT 100")
    data = await api.data(TRANSACTIONS, {"first": 100}, token)
    nodes = [e["node"] for e in data["gateTransactions"]["edges"]]
    assert nodes == [expected_transaction(r) for r in rows]
    assert len({(n["unlocode"], n["smdgCode"]) for n in nodes}) > 1


# --- Field rule ----------------------------------------------------------------------------


async def test_carrier_without_gate_read_gets_null_and_one_error(api: Any, tokens: Any) -> None:
    _, token = tokens.partner("CARRIER")
    data, errors = await answer(api, TRANSACTIONS, {"first": 5}, token)
    assert data == {"gateTransactions": None}
    refused(errors, UNAUTHORIZED, ["gateTransactions"])
    aliased = "{ mine: gateTransactions(first: 1) { edges { cursor } } me { scopes } }"
    data, errors = await answer(api, aliased, None, token)
    assert data["mine"] is None
    assert "gate:read" not in data["me"]["scopes"]
    refused(errors, UNAUTHORIZED, ["mine"])
    data, errors = await answer(api, APPOINTMENTS, {"first": 5}, token)
    assert data == {"appointments": None}
    refused(errors, UNAUTHORIZED, ["appointments"])


async def test_empty_returns_for_any_partner_but_not_anonymous(
    api: Any, tokens: Any, seeded_pools: SourcePools, trucker_scac: str
) -> None:
    at = ANCHOR + dt.timedelta(hours=12)
    rows = await seeded_pools["gate"].fetch(
        """
        SELECT * FROM gate.empty_return_rule
        WHERE valid_from <= $1 AND valid_to > $1 AND carrier_scac = 'ONEY'
        ORDER BY unlocode, smdg_code, carrier_scac, iso_equipment_code, valid_from, id
        """,
        at,
    )
    expected = [
        {
            "unlocode": r["unlocode"],
            "smdgCode": r["smdg_code"],
            "carrierScac": r["carrier_scac"],
            "isoType": r["iso_equipment_code"],
            "accepting": r["accepting"],
            "validFrom": iso(r["valid_from"]),
            "validTo": iso(r["valid_to"]),
            "alternateSmdgCode": r["alternate_smdg_code"],
            "remark": r["remark"],
        }
        for r in rows
    ]
    token = tokens.mint(trucker_scac)  # no scope at all: authentication is enough
    variables = {"carrier": "oney", "from": iso(at)}
    nodes = await walk(api, EMPTY_RETURNS, "emptyReturns", 4, token, **variables)
    assert len(expected) > 4
    assert len(expected) == ONEY_RULES_AT_NOON
    assert nodes == expected
    assert any(not n["accepting"] and n["alternateSmdgCode"] for n in nodes)
    data, errors = await answer(api, EMPTY_RETURNS, variables, None)
    assert data == {"emptyReturns": None}
    refused(errors, UNAUTHORIZED, ["emptyReturns"])


async def test_empty_returns_for_a_whole_day_at_one_terminal(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    rows = await seeded_pools["gate"].fetch(
        """
        SELECT carrier_scac, accepting, valid_from FROM gate.empty_return_rule
        WHERE valid_from <= $2 AND valid_to > $1 AND unlocode = 'USLAX' AND smdg_code = 'APMT'
          AND iso_equipment_code = '45G1'
        ORDER BY unlocode, smdg_code, carrier_scac, iso_equipment_code, valid_from, id
        """,
        ANCHOR,
        ANCHOR + dt.timedelta(hours=23),
    )
    _, token = tokens.partner("TRUCKER")
    variables = {
        "terminal": {"smdgCode": "apmt"},  # this server's port (USLAX) when omitted
        "isoType": "45g1",
        "from": iso(ANCHOR),
        "to": iso(ANCHOR + dt.timedelta(hours=23)),
        "first": 100,
    }
    data = await api.data(EMPTY_RETURNS, variables, token)
    got = [
        (n["carrierScac"], n["accepting"], n["validFrom"])
        for n in (e["node"] for e in data["emptyReturns"]["edges"])
    ]
    assert got == [(r["carrier_scac"], r["accepting"], iso(r["valid_from"])) for r in rows]
    assert len(got) == APMT_45G1_RULES_ON_ANCHOR_DAY


# --- Bad input -----------------------------------------------------------------------------

FORGED = encode_cursor(["not a time", "x"])
BAD_INPUTS = [
    (TRANSACTIONS, {"filter": {"trucker": "TOOLONG"}}, "filter.trucker"),
    (TRANSACTIONS, {"filter": {"trucker": "12"}}, "filter.trucker"),
    (TRANSACTIONS, {"filter": {"terminal": {"smdgCode": "NO WHERE"}}}, "filter.terminal.smdgCode"),
    (
        TRANSACTIONS,
        {"filter": {"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}},
        "filter.from",
    ),
    (APPOINTMENTS, {"filter": {"from": "2026-03-01T08:00:00"}}, "filter.from"),
    (APPOINTMENTS, {"filter": {"equipmentReference": "MSCU1234567"}}, "filter.equipmentReference"),
    (
        APPOINTMENTS,
        {"filter": {"terminal": {"smdgCode": "APMT", "unlocode": "LGB"}}},
        "filter.terminal.unlocode",
    ),
    (APPOINTMENTS, {"after": "not-a-cursor"}, "after"),
    (APPOINTMENTS, {"after": FORGED}, "after"),
    (APPOINTMENTS, {"first": 101}, "first"),
    (APPOINTMENTS, {"first": -1}, "first"),
    (EMPTY_RETURNS, {"carrier": "M1"}, "carrier"),
    (EMPTY_RETURNS, {"isoType": "ZZZZ"}, "isoType"),
    (EMPTY_RETURNS, {"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "from"),
    (EMPTY_RETURNS, {"after": encode_cursor(["a", "b", "c", "d", "e", 1.5])}, "after"),
    (APPOINTMENTS, {"after": encode_cursor(["2026-03-01T00:00:00+00:00", 10**30])}, "after"),
    (
        EMPTY_RETURNS,
        {"after": encode_cursor(["USLAX\x00", "B", "C", "D", "2026-03-01T00:00:00Z", 1])},
        "after",
    ),
]


@pytest.mark.parametrize(("query", "variables", "argument"), BAD_INPUTS)
async def test_bad_input_is_a_user_error_naming_the_argument(
    api: Any, tokens: Any, query: str, variables: dict[str, Any], argument: str
) -> None:
    _, token = tokens.partner("CUSTOMS")
    data, errors = await answer(api, query, variables, token)
    root = next(iter(data))
    assert data[root] is None
    error = refused(errors, BAD_USER_INPUT, [root])
    assert f"`{argument}`" in error["message"], error


async def test_malformed_instant_is_refused_before_execution(api: Any, tokens: Any) -> None:
    _, token = tokens.partner("CUSTOMS")
    response = await api.post(APPOINTMENTS, {"filter": {"from": "yesterday"}}, token)
    payload = response.json()
    assert response.status_code == 400, payload  # graphql-response+json: never executed
    assert payload.get("data") is None
    assert "from" in payload["errors"][0]["message"]


# --- Cross-source links --------------------------------------------------------------------

LINKED = """
query Linked($first: Int) {
  appointments(first: $first) { edges { node {
    reference equipmentReference terminal { unlocode smdgCode name } container { number }
  } } }
}
"""
LINKED_TRANSACTIONS = """
query LinkedTransactions($first: Int) {
  gateTransactions(first: $first) { edges { node {
    equipmentReference appointment { reference } terminal { smdgCode } container { number }
  } } }
}
"""


async def test_links_to_terminal_and_container_follow_the_cargo_rule(
    api: Any, tokens: Any, seeded_pools: SourcePools, trucker_scac: str
) -> None:
    token = tokens.mint(trucker_scac, "gate:read", "cargo:read")
    data = await api.data(LINKED, {"first": 30}, token)
    names = {
        (r["unlocode"], r["smdg_code"]): r["name"]
        for r in await seeded_pools["vessel"].fetch(
            "SELECT unlocode, smdg_code, name FROM vessel.terminal"
        )
    }
    # The trucker's live (not cancelled) appointments, each naming one visit: that box, at
    # that terminal, in the direction of the move.
    live = {
        (r["equipment_reference"], r["unlocode"], r["smdg_code"], MOVE_DIRECTION[r["move_type"]])
        for r in await seeded_pools["gate"].fetch(
            "SELECT equipment_reference, unlocode, smdg_code, move_type FROM gate.appointment "
            "WHERE trucker_scac = $1 AND status <> 'CANCELLED' AND equipment_reference IS NOT NULL",
            trucker_scac,
        )
    }
    visible = {
        r["equipment_reference"]
        for r in await seeded_pools["cargo"].fetch(
            "SELECT equipment_reference, unlocode, smdg_code, direction FROM cargo.container_visit"
        )
        if (r["equipment_reference"], r["unlocode"], r["smdg_code"], r["direction"]) in live
    }
    nodes = [e["node"] for e in data["appointments"]["edges"]]
    assert len(nodes) == 30
    for node in nodes:
        terminal = node["terminal"]
        assert terminal["name"] == names[(terminal["unlocode"], terminal["smdgCode"])]
        number = node["equipmentReference"]
        # A trucker sees a box through a visit it holds a live appointment for, no other.
        expected = {"number": number} if number in visible else None
        assert node["container"] == expected, node
    assert any(n["container"] for n in nodes)
    assert any(n["container"] is None for n in nodes)  # the sample holds both kinds


async def test_container_link_needs_cargo_read(api: Any, tokens: Any, trucker_scac: str) -> None:
    token = tokens.mint(trucker_scac, "gate:read")
    query = "{ appointments(first: 3) { edges { node { reference container { number } } } } }"
    data, errors = await answer(api, query, None, token)
    assert [e["node"]["container"] for e in data["appointments"]["edges"]] == [None] * 3
    assert sorted(tuple(e["path"]) for e in errors) == [
        ("appointments", "edges", i, "node", "container") for i in range(3)
    ]
    assert {e["extensions"]["code"] for e in errors} == {UNAUTHORIZED}


# --- Statements per request ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "root"),
    [
        (APPOINTMENTS, "appointments"),
        (TRANSACTIONS, "gateTransactions"),
        # organization, page, then one batch per link: appointment/terminal/cargo rule/container
        (LINKED, "appointments"),
        (LINKED_TRANSACTIONS, "gateTransactions"),
    ],
    ids=["appointments", "transactions", "linked-appointments", "linked-transactions"],
)
async def test_statement_count_does_not_grow_with_the_page(
    api: Any, tokens: Any, count_sql: Any, query: str, root: str
) -> None:
    _, token = tokens.partner("CUSTOMS")
    edges, counts = await page_costs(api, count_sql, query, root, token)
    assert edges == list(PAGE_SIZES)
    assert counts[0] == counts[1], counts
