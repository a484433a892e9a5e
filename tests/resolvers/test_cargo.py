"""The cargo source against the seeded database: row rules, loaders, pages and filters.

Expected values come from plain SQL written here, independently of resolvers/cargo.py (window
functions where the code uses DISTINCT ON, joins where it uses IN, and so on).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

import asyncpg
import pytest

from resolvers.cargo import (
    CargoLoaders,
    ContainerCriteria,
    EventCriteria,
    cargo_rule,
    event_type_code,
)
from resolvers.gate import appointment_visits
from resolvers.migrate import migrate
from resolvers.paging import Page
from resolvers.principal import ANONYMOUS, OrganizationKind, Principal
from resolvers.rules import SEES_ALL, SEES_NOTHING, AppointmentVisits, Rule
from resolvers.sources import Pool, SourcePools
from tests.helpers import CountingPool, all_pages, carrier, principal, terminal

Row = asyncpg.Record
Kind = OrganizationKind


CUSTOMS = principal(Kind.CUSTOMS, "CBP")


async def rule_of(pools: SourcePools, who: Principal, in_place: bool) -> Rule:
    """The rule as the request context builds it: a trucker's from the visits of its
    appointments, or, `in_place`, asking the gate source's tables in the same statement."""
    if in_place:
        return cargo_rule(who, None, gate_alongside=True)
    visits = None
    if who.kind is Kind.TRUCKER and who.scac is not None:
        visits = await appointment_visits(pools["gate"], who.scac)
    return cargo_rule(who, visits)


async def loaders(
    pools: SourcePools, who: Principal, *, in_place: bool = False
) -> tuple[CargoLoaders, CountingPool]:
    rule = await rule_of(pools, who, in_place)

    async def provide() -> Rule:
        return rule

    counting = CountingPool(pools["cargo"])
    return CargoLoaders(cast(Pool, counting), provide), counting


# A trucker's visits: those it holds a live (not cancelled) appointment for, at their terminal,
# with a move of their direction (the empty return ends an import, the empty pickup starts an
# export). Written as one correlated EXISTS (the code hashes the gate source's keys).
TRUCKER_VISITS = """
    SELECT cv.* FROM cargo.container_visit cv
    WHERE EXISTS (SELECT 1 FROM gate.appointment a
                  WHERE a.trucker_scac = $1
                    AND a.status <> 'CANCELLED'
                    AND (a.slot_start IS NULL OR a.status IN ('ARRIVED', 'COMPLETED'))
                    AND a.equipment_reference = cv.equipment_reference
                    AND a.unlocode = cv.unlocode AND a.smdg_code = cv.smdg_code
                    AND (a.move_type IN ('IMPORT_PICKUP', 'EMPTY_RETURN'))
                        = (cv.direction = 'IMPORT'))"""

# Visible visits per kind, written with joins (the code uses IN-subqueries).
VISIBLE_VISITS = {
    Kind.CARRIER: "SELECT cv.* FROM cargo.container_visit cv WHERE cv.carrier_scac = $1",
    Kind.BCO: """
        SELECT DISTINCT cv.* FROM cargo.container_visit cv
        JOIN cargo.shipment_party sp
          ON sp.transport_document_reference = cv.transport_document_reference
        WHERE sp.organization_code = $1""",
    Kind.TRUCKER: TRUCKER_VISITS,
    Kind.TERMINAL: """
        SELECT cv.* FROM cargo.container_visit cv
        WHERE cv.unlocode || '-' || cv.smdg_code = $1""",
    Kind.CUSTOMS: "SELECT cv.* FROM cargo.container_visit cv WHERE $1::text IS NOT NULL",
}
LATEST_VISITS = """
SELECT v.id, v.equipment_reference FROM (
    SELECT visible.*, row_number() OVER (
        PARTITION BY equipment_reference ORDER BY updated_at DESC, id DESC) AS n
    FROM ({visible}) visible
) v WHERE v.n = 1 ORDER BY v.equipment_reference
"""


def key_of(who: Principal) -> str:
    assert who.kind is not None
    if who.kind in (Kind.CARRIER, Kind.TRUCKER):
        assert who.scac is not None
        return who.scac
    assert who.organization_code is not None
    return who.organization_code


async def expected_latest(pools: SourcePools, who: Principal) -> list[tuple[int, str]]:
    assert who.kind is not None
    sql = LATEST_VISITS.format(visible=VISIBLE_VISITS[who.kind])
    rows = await pools["cargo"].fetch(sql, key_of(who))
    return [(r["id"], r["equipment_reference"]) for r in rows]


async def first_carrier(pools: SourcePools, offset: int = 0) -> str:
    scac: str = await pools["cargo"].fetchval(
        "SELECT carrier_scac FROM cargo.container_visit GROUP BY 1 ORDER BY count(*) DESC, 1 "
        "OFFSET $1 LIMIT 1",
        offset,
    )
    return scac


# --- The rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who",
    [
        ANONYMOUS,
        principal(Kind.CSOC, "CSOC"),
        principal(Kind.OTHER_PORT, "NLRTM"),
        principal(Kind.CARRIER, "NOSCAC"),
        principal(Kind.TERMINAL, "HALF", terminal_unlocode="USLAX"),
        principal(Kind.TRUCKER, "TRK", scac="TRKX"),
        principal(Kind.TRUCKER, "TRK"),
    ],
)
def test_principals_without_a_claim_see_nothing(who: Principal) -> None:
    assert cargo_rule(who, None) is SEES_NOTHING
    assert cargo_rule(who, AppointmentVisits.of([])) is SEES_NOTHING
    if who.kind is not Kind.TRUCKER or who.scac is None:  # else: a claim with no visits yet
        assert cargo_rule(who, None, gate_alongside=True) is SEES_NOTHING


def test_customs_and_the_port_authority_see_everything() -> None:
    assert cargo_rule(CUSTOMS, None) is SEES_ALL
    assert cargo_rule(principal(Kind.PORT_AUTHORITY, "POLA"), None) is SEES_ALL


def test_rule_values_are_parameters_never_sql() -> None:
    rule = cargo_rule(carrier("MSCU"), None)
    assert "MSCU" not in rule.predicate
    assert rule.args == ("MSCU",)
    sql, args = rule.bind("SELECT 1 FROM cargo.container_visit cv WHERE x = $1 AND /*rule*/", 7)
    assert sql.endswith("AND (cv.carrier_scac = $2::text)")
    assert args == (7, "MSCU")
    visits = [("MSCU1234565", "USLAX", "APMT", "IMPORT"), ("MAEU1234560", "USLGB", "TTI", "EXPORT")]
    trucker = cargo_rule(principal(Kind.TRUCKER, "T", scac="TRKA"), AppointmentVisits.of(visits))
    assert trucker.args == ('{"MSCU1234565|USLAX|APMT|IMPORT","MAEU1234560|USLGB|TTI|EXPORT"}',)
    assert not any(value in trucker.predicate for visit in visits for value in visit)
    sql, args = trucker.bind("SELECT 1 FROM cargo.container_visit cv WHERE x = $1 AND /*rule*/", 7)
    assert "FROM unnest($2::text::text[]) AS k)" in sql
    assert args == (7, *trucker.args)
    in_place = cargo_rule(principal(Kind.TRUCKER, "T", scac="TRKA"), None, gate_alongside=True)
    assert in_place.args == ("TRKA",)
    assert "TRKA" not in in_place.predicate
    sql, _ = in_place.bind("SELECT 1 FROM cargo.container_visit cv WHERE x = $1 AND /*rule*/", 7)
    assert "a.trucker_scac = $2::text" in sql


@pytest.mark.parametrize("in_place", [False, True], ids=["gate-apart", "gate-alongside"])
@pytest.mark.parametrize(
    "kind", [Kind.CARRIER, Kind.BCO, Kind.TRUCKER, Kind.TERMINAL, Kind.CUSTOMS]
)
async def test_each_kind_lists_exactly_its_containers(
    seeded_pools: SourcePools, kind: OrganizationKind, in_place: bool
) -> None:
    who = await partner_of_kind(seeded_pools, kind)
    cargo, _ = await loaders(seeded_pools, who, in_place=in_place)
    rows = await all_pages(
        lambda size, after: cargo.container_page(
            ContainerCriteria(), size, None if after is None else after[0]
        ),
        97,
    )
    expected = await expected_latest(seeded_pools, who)
    assert expected, f"the seed gives {kind} containers"
    assert [(r["id"], r["equipment_reference"]) for r in rows] == expected


async def partner_of_kind(pools: SourcePools, kind: OrganizationKind) -> Principal:
    row = await pools["community"].fetchrow(
        "SELECT code, scac, terminal_unlocode, terminal_smdg_code FROM community.organization "
        "WHERE kind = $1 ORDER BY code LIMIT 1",
        kind.value,
    )
    assert row is not None
    return principal(
        kind,
        row["code"],
        scac=row["scac"],
        terminal_unlocode=row["terminal_unlocode"],
        terminal_smdg_code=row["terminal_smdg_code"],
    )


# A box a trucker moved for an import (pickup or empty return) and nothing else, that later
# left on another shipper's export bill of lading with events of its own: the trucker sees
# exactly one of its visits and no visit of that export document.
SEEN_BY_TRUCKERS = """
SELECT DISTINCT a.trucker_scac, cv.id, cv.equipment_reference, cv.transport_document_reference
FROM gate.appointment a
JOIN cargo.container_visit cv
  ON cv.equipment_reference = a.equipment_reference
 AND cv.unlocode = a.unlocode AND cv.smdg_code = a.smdg_code
 AND (a.move_type IN ('IMPORT_PICKUP', 'EMPTY_RETURN')) = (cv.direction = 'IMPORT')
WHERE a.status <> 'CANCELLED'
  AND (a.slot_start IS NULL OR a.status IN ('ARRIVED', 'COMPLETED'))
"""
IMPORT_THEN_FOREIGN_EXPORT = f"""
WITH seen AS ({SEEN_BY_TRUCKERS})
SELECT s.trucker_scac, s.equipment_reference,
       imp.id AS import_id, imp.port_call_id AS import_call,
       imp.transport_document_reference AS import_document,
       ex.id AS export_id, ex.port_call_id AS export_call,
       ex.transport_document_reference AS export_document
FROM seen s
JOIN cargo.container_visit imp ON imp.id = s.id AND imp.direction = 'IMPORT'
JOIN cargo.container_visit ex
  ON ex.equipment_reference = s.equipment_reference AND ex.direction = 'EXPORT'
 AND ex.updated_at > imp.updated_at
WHERE imp.transport_document_reference IS NOT NULL
  AND ex.transport_document_reference IS NOT NULL
  AND (SELECT count(*) FROM seen o WHERE o.trucker_scac = s.trucker_scac
         AND o.equipment_reference = s.equipment_reference) = 1
  AND NOT EXISTS (SELECT 1 FROM seen o WHERE o.trucker_scac = s.trucker_scac
                    AND o.transport_document_reference = ex.transport_document_reference)
  AND EXISTS (SELECT 1 FROM cargo.event e WHERE e.equipment_reference = ex.equipment_reference
                AND e.port_call_id = ex.port_call_id AND e.retracted_at IS NULL)
  AND s.trucker_scac LIKE $1
ORDER BY s.trucker_scac, s.equipment_reference
LIMIT 1
"""


@pytest.mark.parametrize("in_place", [False, True], ids=["gate-apart", "gate-alongside"])
async def test_an_import_appointment_does_not_expose_the_boxs_later_export(
    seeded_pools: SourcePools, in_place: bool
) -> None:
    case = await seeded_pools["cargo"].fetchrow(IMPORT_THEN_FOREIGN_EXPORT, "%")
    assert case is not None, "the seed reuses an imported box for another shipper's export"
    number = case["equipment_reference"]
    trucker = principal(Kind.TRUCKER, scac=case["trucker_scac"])
    cargo, _ = await loaders(seeded_pools, trucker, in_place=in_place)
    # The box is its import visit, though the export visit is the latest.
    box = await cargo.container_by_number.load(number)
    assert box is not None
    assert (box["id"], box["direction"]) == (case["import_id"], "IMPORT")
    listed = await cargo.container_page(
        ContainerCriteria(transport_document_reference=case["export_document"]), 100, None
    )
    assert listed.items == []
    # The export shipment does not exist for it; the import shipment does.
    shipments = await cargo.shipment_by_transport_document_reference.load_many(
        [case["import_document"], case["export_document"]]
    )
    assert [None if r is None else r["transport_document_reference"] for r in shipments] == [
        case["import_document"],
        None,
    ]
    # The box's events are the import visit's only; the export document's feed is empty.
    expected = await seeded_pools["cargo"].fetch(
        "SELECT event_id FROM cargo.event WHERE equipment_reference = $1 AND port_call_id = $2 "
        "AND retracted_at IS NULL ORDER BY event_datetime DESC, event_id",
        number,
        case["import_call"],
    )
    events = await cargo.events_by_equipment_reference.load((number, 1000, None))
    assert expected
    assert [r["event_id"] for r, _ in events.items] == [r["event_id"] for r in expected]
    assert {r["port_call_id"] for r, _ in events.items} == {case["import_call"]}
    feed = await cargo.event_page(
        EventCriteria(transport_document_reference=case["export_document"]), 100, None
    )
    assert feed.items == []
    everything, _ = await loaders(seeded_pools, CUSTOMS)
    assert (
        await everything.event_page(
            EventCriteria(transport_document_reference=case["export_document"]), 100, None
        )
    ).items


# --- Containers by number and by port call -------------------------------------------------


async def test_container_by_number_is_the_latest_visible_visit_in_one_statement(
    seeded_pools: SourcePools,
) -> None:
    scac = await first_carrier(seeded_pools)
    cargo, counting = await loaders(seeded_pools, carrier(scac))
    mine = await expected_latest(seeded_pools, carrier(scac))
    others = await seeded_pools["cargo"].fetch(
        "SELECT DISTINCT equipment_reference FROM cargo.container_visit "
        "WHERE equipment_reference NOT IN "
        "(SELECT equipment_reference FROM cargo.container_visit WHERE carrier_scac = $1) "
        "ORDER BY 1 LIMIT 5",
        scac,
    )
    numbers = [n for _, n in mine[:40]] + [r["equipment_reference"] for r in others]
    rows = await cargo.container_by_number.load_many([*numbers, "NONE0000000"])
    assert [None if r is None else r["id"] for r in rows] == [i for i, _ in mine[:40]] + [None] * 6
    assert len(counting.statements) == 1


async def test_containers_by_port_call_pages_per_key_in_one_statement(
    seeded_pools: SourcePools,
) -> None:
    calls = await seeded_pools["cargo"].fetch(
        "SELECT port_call_id FROM cargo.container_visit GROUP BY 1 "
        "ORDER BY count(*) DESC, 1 LIMIT 3"
    )
    expected = {
        c["port_call_id"]: [
            r["equipment_reference"]
            for r in await seeded_pools["cargo"].fetch(
                "SELECT equipment_reference FROM cargo.container_visit WHERE port_call_id = $1 "
                "ORDER BY equipment_reference",
                c["port_call_id"],
            )
        ]
        for c in calls
    }
    first, second, third = (c["port_call_id"] for c in calls)
    cargo, counting = await loaders(seeded_pools, CUSTOMS)
    keys = [
        (first, 5, None),
        (second, 3, (expected[second][2],)),
        (third, 1000, None),
        (uuid.UUID(int=0), 5, None),
    ]
    pages = await cargo.containers_by_port_call_id.load_many(keys)
    assert len(counting.statements) == 1
    numbers = [[r["equipment_reference"] for r, _ in p.items] for p in pages]
    assert numbers == [expected[first][:5], expected[second][3:6], expected[third], []]
    assert [p.has_next for p in pages] == [True, len(expected[second]) > 6, False, False]
    assert pages[0].items[-1][1] == (expected[first][4],)


async def test_a_port_call_shows_only_the_visits_the_rule_allows(
    seeded_pools: SourcePools,
) -> None:
    call = await seeded_pools["cargo"].fetchrow(
        "SELECT port_call_id, min(carrier_scac) AS scac FROM cargo.container_visit "
        "GROUP BY 1 HAVING count(DISTINCT carrier_scac) > 1 ORDER BY 1 LIMIT 1"
    )
    assert call is not None, "the seed mixes alliance partners' boxes on a call"
    expected = await seeded_pools["cargo"].fetch(
        "SELECT equipment_reference FROM cargo.container_visit "
        "WHERE port_call_id = $1 AND carrier_scac = $2 ORDER BY 1",
        call["port_call_id"],
        call["scac"],
    )
    cargo, _ = await loaders(seeded_pools, carrier(call["scac"]))
    page = await cargo.containers_by_port_call_id.load((call["port_call_id"], 1000, None))
    assert [r["equipment_reference"] for r, _ in page.items] == [
        r["equipment_reference"] for r in expected
    ]


# --- Events --------------------------------------------------------------------------------

VISIBLE_EQUIPMENT_EVENTS = """
SELECT e.event_id, e.event_datetime FROM cargo.event e
JOIN cargo.container_visit cv
  ON cv.equipment_reference = e.equipment_reference AND cv.port_call_id = e.port_call_id
WHERE e.equipment_reference = $1 AND e.retracted_at IS NULL AND cv.carrier_scac LIKE $2
ORDER BY e.event_datetime DESC, e.event_id
"""


async def test_events_by_equipment_are_latest_first_and_page_without_gaps(
    seeded_pools: SourcePools,
) -> None:
    busy = await seeded_pools["cargo"].fetch(
        "SELECT equipment_reference FROM cargo.event WHERE equipment_reference IS NOT NULL "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 4"
    )
    numbers = [r["equipment_reference"] for r in busy]
    expected = {
        n: [
            r["event_id"]
            for r in await seeded_pools["cargo"].fetch(VISIBLE_EQUIPMENT_EVENTS, n, "%")
        ]
        for n in numbers
    }
    cargo, counting = await loaders(seeded_pools, CUSTOMS)
    pages = await cargo.events_by_equipment_reference.load_many([(n, 3, None) for n in numbers])
    assert len(counting.statements) == 1
    assert [[r["event_id"] for r, _ in p.items] for p in pages] == [
        expected[n][:3] for n in numbers
    ]
    # Follow one container's cursor to the end: every event once, in order.
    number = numbers[0]
    walked: list[uuid.UUID] = []
    after: Any = None
    while True:
        page = await cargo.events_by_equipment_reference.load((number, 2, after))
        walked += [r["event_id"] for r, _ in page.items]
        if not page.has_next:
            break
        at, event_id = page.items[-1][1]
        after = (dt.datetime.fromisoformat(at), uuid.UUID(event_id))
    assert walked == expected[number]


async def test_retracted_events_are_left_out(seeded_pools: SourcePools) -> None:
    retracted = await seeded_pools["cargo"].fetchrow(
        "SELECT event_id, equipment_reference FROM cargo.event "
        "WHERE retracted_at IS NOT NULL ORDER BY event_id LIMIT 1"
    )
    assert retracted is not None, "the seed retracts some discharges"
    cargo, _ = await loaders(seeded_pools, CUSTOMS)
    page = await cargo.events_by_equipment_reference.load(
        (retracted["equipment_reference"], 1000, None)
    )
    ids = [r["event_id"] for r, _ in page.items]
    assert ids
    assert retracted["event_id"] not in ids
    feed = await cargo.event_page(
        EventCriteria(equipment_reference=retracted["equipment_reference"]), 1000, None
    )
    assert sorted(r["event_id"] for r, _ in feed.items) == sorted(ids)


async def test_a_carrier_sees_the_events_of_its_visits_only(seeded_pools: SourcePools) -> None:
    scac = await first_carrier(seeded_pools)
    mine = await expected_latest(seeded_pools, carrier(scac))
    foreign = await seeded_pools["cargo"].fetchval(
        "SELECT equipment_reference FROM cargo.container_visit WHERE carrier_scac <> $1 "
        "ORDER BY 1 LIMIT 1",
        scac,
    )
    cargo, _ = await loaders(seeded_pools, carrier(scac))
    number = mine[0][1]
    own, other = await cargo.events_by_equipment_reference.load_many(
        [(number, 1000, None), (foreign, 1000, None)]
    )
    expected = await seeded_pools["cargo"].fetch(VISIBLE_EQUIPMENT_EVENTS, number, scac)
    assert [r["event_id"] for r, _ in own.items] == [r["event_id"] for r in expected]
    assert other.items == []
    assert not other.has_next


async def test_a_terminal_sees_the_events_of_the_visit_at_its_terminal_only(
    seeded_pools: SourcePools,
) -> None:
    # A box that called at two terminals (imported at one, exported from another).
    row = await seeded_pools["cargo"].fetchrow(
        "SELECT equipment_reference, min(unlocode) AS unlocode, min(smdg_code) AS smdg_code "
        "FROM cargo.container_visit GROUP BY 1 HAVING count(DISTINCT smdg_code) > 1 "
        "ORDER BY 1 LIMIT 1"
    )
    assert row is not None, "the seed reuses boxes across terminals"
    number = row["equipment_reference"]
    expected = await seeded_pools["cargo"].fetch(
        """
        SELECT e.event_id FROM cargo.event e
        JOIN cargo.container_visit cv
          ON cv.equipment_reference = e.equipment_reference AND cv.port_call_id = e.port_call_id
        WHERE e.equipment_reference = $1 AND e.retracted_at IS NULL AND cv.smdg_code = $2
        ORDER BY e.event_datetime DESC, e.event_id
        """,
        number,
        row["smdg_code"],
    )
    everything = await seeded_pools["cargo"].fetchval(
        "SELECT count(*) FROM cargo.event WHERE equipment_reference = $1 AND retracted_at IS NULL",
        number,
    )
    assert 0 < len(expected) < everything
    cargo, _ = await loaders(seeded_pools, terminal(row["unlocode"], row["smdg_code"]))
    page = await cargo.events_by_equipment_reference.load((number, 1000, None))
    assert [r["event_id"] for r, _ in page.items] == [r["event_id"] for r in expected]
    feed = await cargo.event_page(EventCriteria(equipment_reference=number), 1000, None)
    assert sorted(r["event_id"] for r, _ in feed.items) == sorted(r["event_id"] for r in expected)


# One box leased by two carriers, one visit each; an event of each visit, and a gate-out
# naming neither transport call nor transport document (tied to no visit). The seed writes
# no such event, so these rows go into a database of their own.
TWO_LEASES = """
INSERT INTO cargo.equipment VALUES ('MSCU1234565', '45G1', 3900);
INSERT INTO cargo.container_visit (id, equipment_reference, port_call_id, unlocode, smdg_code,
    carrier_scac, direction, empty_indicator_code, status, updated_at) VALUES
    (1, 'MSCU1234565', '00000000-0000-0000-0000-00000000000a', 'USLAX', 'APMT', 'MSCU',
     'IMPORT', 'EMPTY', 'EMPTY_RETURNED', '2026-01-10T00:00:00Z'),
    (2, 'MSCU1234565', '00000000-0000-0000-0000-00000000000b', 'USLAX', 'APMT', 'MAEU',
     'EXPORT', 'EMPTY', 'LOADED', '2026-02-10T00:00:00Z');
INSERT INTO cargo.event (event_id, event_type, event_classifier_code, event_datetime,
    event_created_datetime, equipment_event_type_code, equipment_reference, carrier_scac,
    port_call_id, publisher_code) VALUES
    ('00000000-0000-0000-0000-000000000001', 'EQUIPMENT', 'ACT', '2026-01-05T00:00:00Z',
     '2026-01-05T00:00:00Z', 'DISC', 'MSCU1234565', 'MSCU',
     '00000000-0000-0000-0000-00000000000a', 'USLAX-APMT'),
    ('00000000-0000-0000-0000-000000000002', 'EQUIPMENT', 'ACT', '2026-02-10T00:00:00Z',
     '2026-02-10T00:00:00Z', 'LOAD', 'MSCU1234565', 'MAEU',
     '00000000-0000-0000-0000-00000000000b', 'USLAX-APMT'),
    ('00000000-0000-0000-0000-000000000003', 'EQUIPMENT', 'ACT', '2026-02-01T00:00:00Z',
     '2026-02-01T00:00:00Z', 'GTOT', 'MSCU1234565', 'MAEU', NULL, 'MAEU');
"""


async def test_an_event_tied_to_no_visit_is_seen_only_by_who_sees_every_visit(
    empty_database: str,
) -> None:
    """Neither carrier sees the untied gate-out: it may be the other's lease."""
    conn = await asyncpg.connect(empty_database)
    try:
        await migrate(conn, ["cargo"])
        await conn.execute(TWO_LEASES)
    finally:
        await conn.close()
    pool: Pool = await asyncpg.create_pool(empty_database, min_size=1, max_size=2)
    try:
        pools = SourcePools({"cargo": pool})
        seen: dict[str, tuple[list[int], list[int]]] = {}
        for name, who in (("MSCU", carrier("MSCU")), ("MAEU", carrier("MAEU")), ("CBP", CUSTOMS)):
            cargo, _ = await loaders(pools, who)
            box = await cargo.events_by_equipment_reference.load(("MSCU1234565", 10, None))
            feed = await cargo.event_page(EventCriteria(), 10, None)
            seen[name] = (
                [r["event_id"].int for r, _ in box.items],
                [r["event_id"].int for r, _ in feed.items],
            )
    finally:
        await pool.close()
    assert seen == {
        "MSCU": ([1], [1]),
        "MAEU": ([2], [2]),
        "CBP": ([2, 3, 1], [1, 3, 2]),  # latest first; oldest created first
    }


# The two leases of TWO_LEASES (an import visit, then an export visit, both at USLAX APMT)
# and appointments for them: cancelled ones, one at another terminal, live ones of each move.
TRUCKER_APPOINTMENTS = """
INSERT INTO gate.appointment (appointment_reference, trucker_scac, unlocode, smdg_code,
    equipment_reference, move_type, window_start, window_end, status, created_at, slot_start)
SELECT 'APMT' || lpad(n::text, 8, '0'), t, 'USLAX', s, 'MSCU1234565', m,
       '2026-01-01T08:00:00Z'::timestamptz + n * interval '1 day',
       '2026-01-01T09:00:00Z'::timestamptz + n * interval '1 day', st, '2025-12-31T00:00:00Z',
       CASE WHEN self_booked THEN '2026-01-01T08:00:00Z'::timestamptz + n * interval '1 day' END
FROM (VALUES
    (1, 'CNCL', 'APMT', 'IMPORT_PICKUP', 'CANCELLED', false),
    (2, 'CNCL', 'APMT', 'EMPTY_RETURN', 'CANCELLED', false),
    (3, 'CNCL', 'APMT', 'EMPTY_PICKUP', 'CANCELLED', false),
    (4, 'CNCL', 'APMT', 'EXPORT_DROPOFF', 'CANCELLED', false),
    (5, 'IMPP', 'APMT', 'IMPORT_PICKUP', 'MISSED', false),
    (6, 'EMRT', 'APMT', 'EMPTY_RETURN', 'COMPLETED', false),
    (7, 'EMRT', 'APMT', 'EXPORT_DROPOFF', 'CANCELLED', false),
    (8, 'EMPK', 'APMT', 'EMPTY_PICKUP', 'COMPLETED', false),
    (9, 'ELSW', 'TTI', 'IMPORT_PICKUP', 'COMPLETED', false),
    (10, 'ELSW', 'TTI', 'EXPORT_DROPOFF', 'SCHEDULED', false),
    (11, 'SELF', 'APMT', 'IMPORT_PICKUP', 'SCHEDULED', true),
    (12, 'SEEN', 'APMT', 'IMPORT_PICKUP', 'ARRIVED', true)
) AS v(n, t, s, m, st, self_booked)
"""


@pytest.mark.parametrize("in_place", [False, True], ids=["gate-apart", "gate-alongside"])
async def test_a_trucker_sees_the_visit_of_each_live_appointment_and_nothing_for_cancelled(
    empty_database: str, in_place: bool
) -> None:
    conn = await asyncpg.connect(empty_database)
    try:
        await migrate(conn, ["cargo", "gate"])
        await conn.execute(TWO_LEASES)
        await conn.execute(TRUCKER_APPOINTMENTS)
    finally:
        await conn.close()
    pool: Pool = await asyncpg.create_pool(empty_database, min_size=1, max_size=2)
    seen: dict[str, tuple[int | None, list[int], list[int], list[int]]] = {}
    try:
        pools = SourcePools({"cargo": pool, "gate": pool})
        for scac in ("CNCL", "IMPP", "EMRT", "EMPK", "ELSW", "SELF", "SEEN"):
            trucker = principal(Kind.TRUCKER, scac=scac)
            cargo, _ = await loaders(pools, trucker, in_place=in_place)
            box = await cargo.container_by_number.load("MSCU1234565")
            page = await cargo.container_page(ContainerCriteria(), 10, None)
            events = await cargo.events_by_equipment_reference.load(("MSCU1234565", 10, None))
            feed = await cargo.event_page(EventCriteria(), 10, None)
            seen[scac] = (
                None if box is None else box["id"],
                [r["id"] for r, _ in page.items],
                [r["event_id"].int for r, _ in events.items],
                [r["event_id"].int for r, _ in feed.items],
            )
    finally:
        await pool.close()
    assert seen == {
        "CNCL": (None, [], [], []),  # cancelled appointments grant nothing
        "SELF": (None, [], [], []),  # booked by the trucker itself: nothing until it arrives
        "SEEN": (1, [1], [1], [1]),  # ... and the import visit once the terminal saw it
        "IMPP": (1, [1], [1], [1]),  # a missed import pickup: the import visit
        "EMRT": (1, [1], [1], [1]),  # the empty return ends the import, not the export after it
        "EMPK": (2, [2], [2], [2]),  # the empty pickup starts the export
        "ELSW": (None, [], [], []),  # appointments at another terminal
    }


# The event feed a carrier may read, by event kind, as the seed writes events.
CARRIER_FEED = """
SELECT e.event_id FROM cargo.event e
WHERE e.retracted_at IS NULL AND (
    (e.equipment_reference, e.port_call_id) IN (
        SELECT equipment_reference, port_call_id FROM cargo.container_visit
        WHERE carrier_scac = $1)
    OR (e.equipment_reference IS NULL AND e.transport_document_reference IN (
        SELECT transport_document_reference FROM cargo.container_visit
        WHERE carrier_scac = $1))
    OR (e.equipment_reference IS NULL AND e.transport_document_reference IS NULL
        AND e.port_call_id IN (
            SELECT port_call_id FROM cargo.container_visit WHERE carrier_scac = $1)))
ORDER BY e.event_created_datetime, e.event_id
"""


async def test_the_event_feed_of_a_carrier_in_creation_order(seeded_pools: SourcePools) -> None:
    scac = await first_carrier(seeded_pools, 3)
    expected = [r["event_id"] for r in await seeded_pools["cargo"].fetch(CARRIER_FEED, scac)]
    cargo, _ = await loaders(seeded_pools, carrier(scac))

    async def fetch(size: int, after: Any) -> Page[Row]:
        cursor = None
        if after is not None:
            cursor = (dt.datetime.fromisoformat(after[0]), uuid.UUID(after[1]))
        return await cargo.event_page(EventCriteria(), size, cursor)

    rows = await all_pages(fetch, 100)
    assert expected
    assert [r["event_id"] for r in rows] == expected
    assert {r["event_type"] for r in rows} == {"EQUIPMENT", "TRANSPORT", "SHIPMENT"}


async def test_event_feed_filters(seeded_pools: SourcePools) -> None:
    cargo, _ = await loaders(seeded_pools, CUSTOMS)
    shipment = await seeded_pools["cargo"].fetchrow(
        "SELECT transport_document_reference, carrier_booking_reference FROM cargo.shipment "
        "ORDER BY transport_document_reference LIMIT 1"
    )
    assert shipment is not None
    document = shipment["transport_document_reference"]
    by_document = await cargo.event_page(
        EventCriteria(transport_document_reference=document, event_types=("SHIPMENT",)), 100, None
    )
    expected = await seeded_pools["cargo"].fetch(
        "SELECT event_id FROM cargo.event WHERE transport_document_reference = $1 "
        "AND event_type = 'SHIPMENT' AND retracted_at IS NULL "
        "ORDER BY event_created_datetime, event_id",
        document,
    )
    assert [r["event_id"] for r, _ in by_document.items] == [r["event_id"] for r in expected]
    assert expected
    since = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    gated = await cargo.event_page(
        EventCriteria(event_type_codes=("GTIN", "ARRI"), created_after=since), 1000, None
    )
    counts = await seeded_pools["cargo"].fetchval(
        "SELECT count(*) FROM cargo.event WHERE retracted_at IS NULL "
        "AND event_created_datetime > $1 "
        "AND (equipment_event_type_code = 'GTIN' OR transport_event_type_code = 'ARRI')",
        since,
    )
    assert len(gated.items) == min(counts, 1000)
    assert counts > 0
    assert all(r["event_created_datetime"] > since for r, _ in gated.items)
    by_booking = await cargo.event_page(
        EventCriteria(carrier_booking_reference=shipment["carrier_booking_reference"]), 100, None
    )
    assert {r["carrier_booking_reference"] for r, _ in by_booking.items} == {
        shipment["carrier_booking_reference"]
    }


def test_event_type_codes_accept_dcsa_2_2_codes_and_3_0_words() -> None:
    assert event_type_code("GTIN") == "GTIN"
    assert event_type_code(" gated_in ") == "GTIN"
    assert event_type_code("ARRIVED") == "ARRI"
    assert event_type_code("ISSU") == "ISSU"
    assert event_type_code("BOGUS") is None


# --- Holds and shipments -------------------------------------------------------------------


async def test_holds_by_visit_follow_the_rule(seeded_pools: SourcePools) -> None:
    visits = await seeded_pools["cargo"].fetch(
        "SELECT cv.id, cv.carrier_scac FROM cargo.container_visit cv "
        "WHERE EXISTS (SELECT 1 FROM cargo.hold h WHERE h.container_visit_id = cv.id) "
        "ORDER BY cv.id LIMIT 30"
    )
    scac = visits[0]["carrier_scac"]
    expected = {
        v["id"]: [
            r["id"]
            for r in await seeded_pools["cargo"].fetch(
                "SELECT id FROM cargo.hold WHERE container_visit_id = $1 ORDER BY placed_at, id",
                v["id"],
            )
        ]
        for v in visits
    }
    cargo, counting = await loaders(seeded_pools, carrier(scac))
    holds = await cargo.holds_by_container_visit_id.load_many([v["id"] for v in visits])
    assert len(counting.statements) == 1
    for visit, rows in zip(visits, holds, strict=True):
        mine = visit["carrier_scac"] == scac
        assert [r["id"] for r in rows] == (expected[visit["id"]] if mine else [])


async def test_shipment_with_its_parties_only_for_those_who_see_its_containers(
    seeded_pools: SourcePools,
) -> None:
    row = await seeded_pools["cargo"].fetchrow(
        "SELECT s.transport_document_reference AS tdr, s.carrier_scac, sp.organization_code "
        "FROM cargo.shipment s JOIN cargo.shipment_party sp USING (transport_document_reference) "
        "WHERE sp.organization_code IS NOT NULL AND sp.party_function = 'CN' "
        "ORDER BY 1 LIMIT 1"
    )
    assert row is not None
    parties = {
        r["party_function"]: r["party_name"]
        for r in await seeded_pools["cargo"].fetch(
            "SELECT party_function, party_name FROM cargo.shipment_party "
            "WHERE transport_document_reference = $1",
            row["tdr"],
        )
    }
    owner = principal(Kind.BCO, row["organization_code"])
    other = carrier("ZZZZ" if row["carrier_scac"] != "ZZZZ" else "YYYY")
    for who, visible in ((carrier(row["carrier_scac"]), True), (owner, True), (other, False)):
        cargo, _ = await loaders(seeded_pools, who)
        found = await cargo.shipment_by_transport_document_reference.load(row["tdr"])
        assert (found is not None) is visible
        if found is not None:
            names = (found["shipper_name"], found["consignee_name"], found["notify_party_name"])
            assert names == (parties["OS"], parties["CN"], parties["N1"])
            assert found["consignee_code"] == row["organization_code"]


# --- Root container filters ----------------------------------------------------------------

FILTERED = """
SELECT v.equipment_reference FROM (
    SELECT cv.*, row_number() OVER (
        PARTITION BY equipment_reference ORDER BY updated_at DESC, id DESC) AS n
    FROM cargo.container_visit cv WHERE {condition}
) v WHERE v.n = 1 ORDER BY v.equipment_reference
"""


@pytest.mark.parametrize(
    ("criteria", "condition"),
    [
        (ContainerCriteria(status="IN_YARD"), "status = 'IN_YARD'"),
        (ContainerCriteria(available_for_pickup=True), "available_for_pickup"),
        (
            ContainerCriteria(on_hold=True),
            "id IN (SELECT container_visit_id FROM cargo.hold WHERE released_at IS NULL)",
        ),
        (
            ContainerCriteria(on_hold=False, status="IN_YARD"),
            "status = 'IN_YARD' AND id NOT IN "
            "(SELECT container_visit_id FROM cargo.hold WHERE released_at IS NULL)",
        ),
        (ContainerCriteria(terminal=("USLAX", "APMT")), "smdg_code = 'APMT'"),
        (ContainerCriteria(carrier="MSCU"), "carrier_scac = 'MSCU'"),
    ],
)
async def test_container_filters(
    seeded_pools: SourcePools, criteria: ContainerCriteria, condition: str
) -> None:
    expected = [
        r["equipment_reference"]
        for r in await seeded_pools["cargo"].fetch(FILTERED.format(condition=condition))
    ]
    cargo, _ = await loaders(seeded_pools, CUSTOMS)
    rows = await all_pages(
        lambda size, after: cargo.container_page(
            criteria, size, None if after is None else after[0]
        ),
        250,
    )
    assert expected
    assert [r["equipment_reference"] for r in rows] == expected


async def test_containers_of_a_transport_document(seeded_pools: SourcePools) -> None:
    document = await seeded_pools["cargo"].fetchval(
        "SELECT transport_document_reference FROM cargo.container_visit "
        "WHERE transport_document_reference IS NOT NULL "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    )
    expected = [
        r["equipment_reference"]
        for r in await seeded_pools["cargo"].fetch(
            "SELECT DISTINCT equipment_reference FROM cargo.container_visit "
            "WHERE transport_document_reference = $1 ORDER BY 1",
            document,
        )
    ]
    assert len(expected) > 1
    cargo, counting = await loaders(seeded_pools, CUSTOMS)
    listed = await cargo.container_page(
        ContainerCriteria(transport_document_reference=document), 100, None
    )
    first, rest = await cargo.containers_by_transport_document_reference.load_many(
        [(document, 1, None), (document, 100, (expected[0],))]
    )
    assert [r["equipment_reference"] for r, _ in listed.items] == expected
    assert [r["equipment_reference"] for r, _ in first.items + rest.items] == expected
    assert first.has_next
    assert not rest.has_next
    assert len(counting.statements) == 2
