"""The vessel source: vessels, ports, terminals, port calls (DCSA JIT 2.0) and AIS positions.

SQL, row rules and the per-request loaders. Port calls and vessels are the public
schedule, so their rule sees every row; JIT timestamps (the berth-time negotiation)
are visible only to the parties of the call and the authorities.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeAlias, TypeVar

from aiodataloader import DataLoader
from asyncpg import Record

from resolvers.paging import (
    FILTERS_SLOT,
    LIMIT_SLOT,
    Page,
    Statement,
    columns,
    compose,
    fetch_page,
    make_page,
    present,
)
from resolvers.principal import OrganizationKind, Principal
from resolvers.rules import SEES_ALL, SEES_NOTHING, Rule
from resolvers.sources import Pool

TerminalKey: TypeAlias = tuple[str, str]  # (unlocode, smdg_code)
VesselCursor: TypeAlias = tuple[str, str]  # (lower(name), imo)
PortCallCursor: TypeAlias = tuple[datetime.datetime, uuid.UUID]  # (estimated_arrival, id)
# A nested page of one vessel's port calls: (imo, page size, cursor or None).
VesselPortCallsKey: TypeAlias = tuple[str, int, PortCallCursor | None]

K = TypeVar("K", bound=Hashable)

# --- Row rules -------------------------------------------------------------------------------

# Written against the aliases of TIMESTAMP_FROM: `pc` (port call), `tc` (terminal call).
TIMESTAMPS_OF_CARRIER = "pc.carrier_scac = {0}"
TIMESTAMPS_AT_TERMINAL = "tc.unlocode = {0} AND tc.smdg_code = {1}"
AUTHORITIES = frozenset({OrganizationKind.CUSTOMS, OrganizationKind.PORT_AUTHORITY})


@dataclass(frozen=True, slots=True)
class VesselRules:
    """The vessel source's row rules for one principal."""

    schedule: Rule  # vessels and port calls (aliases `v`, `pc`)
    timestamps: Rule  # JIT timestamps (aliases `pc`, `tc`)


def timestamp_rule(principal: Principal) -> Rule:
    """Who sees a call's JIT timestamps: its carrier, the terminal called at, the authorities.

    A terminal sees the services negotiated at its own terminal call only: a port call with
    two terminal calls must not show one terminal the other's berth plans.
    """
    if principal.kind in AUTHORITIES:
        return SEES_ALL
    if principal.kind is OrganizationKind.CARRIER and principal.scac is not None:
        return Rule(TIMESTAMPS_OF_CARRIER, (principal.scac,))
    terminal = (principal.terminal_unlocode, principal.terminal_smdg_code)
    if principal.kind is OrganizationKind.TERMINAL and None not in terminal:
        return Rule(TIMESTAMPS_AT_TERMINAL, terminal)
    return SEES_NOTHING


def vessel_rules(principal: Principal) -> VesselRules:
    # The schedule is public (DESIGN: anonymous reads it); the slot stays in every SQL so
    # narrowing it later is a change here only.
    return VesselRules(schedule=SEES_ALL, timestamps=timestamp_rule(principal))


# --- SQL -------------------------------------------------------------------------------------

VESSEL_COLUMNS = """
v.imo, v.mmsi, v.name, v.flag, v.call_sign, v.operator_scac, v.length_overall_m,
v.teu_capacity, lower(v.name) AS sort_name
"""
SELECT_VESSELS_BY_IMO = f"""
SELECT {VESSEL_COLUMNS}
FROM vessel.vessel v
WHERE v.imo = ANY($1::text[]) AND /*rule*/
"""
SELECT_VESSEL_PAGE = f"""
SELECT {VESSEL_COLUMNS}
FROM vessel.vessel v
WHERE {FILTERS_SLOT} AND /*rule*/
ORDER BY lower(v.name), v.imo
LIMIT {LIMIT_SLOT}
"""
# Allowlisted conditions (`compose`): {n} are a condition's parameters, numbered when composed.
VESSEL_FILTERS: Mapping[str, str] = {
    # The start of the name, any case.
    "name": "starts_with(lower(v.name), lower({0}::text))",
    # A 7-digit search: the start of the name, or the IMO number exactly.
    "name_or_imo": "starts_with(lower(v.name), lower({0}::text)) OR v.imo = {0}::text",
    "after": "(lower(v.name), v.imo) > ({0}::text, {1}::text)",
}

# A port call with the terminal of its first terminal call (the schedule's "terminal").
# PORT_CALL_NAMES are the names of these columns: what a per-parent page selects again.
PORT_CALL_COLUMNS = """
pc.id, pc.port_visit_reference, pc.unlocode, pc.vessel_imo, pc.carrier_scac,
pc.carrier_import_voyage, pc.carrier_export_voyage, pc.service_code, pc.status,
pc.estimated_arrival, pc.actual_arrival, pc.estimated_departure, pc.actual_departure,
ftc.unlocode AS terminal_unlocode, ftc.smdg_code AS terminal_smdg_code, ftc.berth
"""
PORT_CALL_NAMES = (
    *("id", "port_visit_reference", "unlocode", "vessel_imo", "carrier_scac"),
    *("carrier_import_voyage", "carrier_export_voyage", "service_code", "status"),
    *("estimated_arrival", "actual_arrival", "estimated_departure", "actual_departure"),
    *("terminal_unlocode", "terminal_smdg_code", "berth"),
)
PORT_CALL_FROM = """
vessel.port_call pc
LEFT JOIN LATERAL (
    SELECT tc.unlocode, tc.smdg_code, tc.berth
    FROM vessel.terminal_call tc
    WHERE tc.port_call_id = pc.id
    ORDER BY tc.sequence
    LIMIT 1
) ftc ON TRUE
"""
SELECT_PORT_CALLS_BY_ID = f"""
SELECT {PORT_CALL_COLUMNS}
FROM {PORT_CALL_FROM}
WHERE pc.id = ANY($1::uuid[]) AND /*rule*/
"""
SELECT_PORT_CALL_PAGE = f"""
SELECT {PORT_CALL_COLUMNS}
FROM {PORT_CALL_FROM}
WHERE {FILTERS_SLOT} AND /*rule*/
ORDER BY pc.estimated_arrival, pc.id
LIMIT {LIMIT_SLOT}
"""
PORT_CALL_FILTERS: Mapping[str, str] = {
    "terminal": (
        "EXISTS (SELECT 1 FROM vessel.terminal_call f WHERE f.port_call_id = pc.id "
        "AND f.unlocode = {0}::text AND f.smdg_code = {1}::text)"
    ),
    "status": "pc.status = {0}::text",
    "carrier_scac": "pc.carrier_scac = {0}::text",
    "vessel_imo": "pc.vessel_imo = {0}::text",
    "arriving_after": "pc.estimated_arrival >= {0}::timestamptz",
    "arriving_before": "pc.estimated_arrival < {0}::timestamptz",
    "after": "(pc.estimated_arrival, pc.id) > ({0}::timestamptz, {1}::uuid)",
}
# One page per vessel in one statement: each key row carries its own size and cursor.
SELECT_PORT_CALL_PAGES_BY_VESSEL = f"""
SELECT k.ord, {columns("p", PORT_CALL_NAMES)}
FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::uuid[])
     WITH ORDINALITY AS k(imo, size, after_arrival, after_id, ord)
CROSS JOIN LATERAL (
    SELECT {PORT_CALL_COLUMNS}
    FROM {PORT_CALL_FROM}
    WHERE pc.vessel_imo = k.imo
      AND (k.after_arrival IS NULL OR (pc.estimated_arrival, pc.id) > (k.after_arrival, k.after_id))
      AND /*rule*/
    ORDER BY pc.estimated_arrival, pc.id
    LIMIT k.size + 1
) p
ORDER BY k.ord, p.estimated_arrival, p.id
"""

TIMESTAMP_COLUMNS = """
tc.port_call_id, t.id, t.classifier, t.event_type, t.event_datetime, t.reply_to_timestamp_id,
t.publisher_code, t.publisher_role, t.remark, t.delay_reason_code, t.created_at,
s.service_type, tc.unlocode AS terminal_unlocode, tc.smdg_code AS terminal_smdg_code
"""
TIMESTAMP_FROM = """
vessel.timestamp t
JOIN vessel.port_call_service s ON s.id = t.port_call_service_id
JOIN vessel.terminal_call tc ON tc.id = s.terminal_call_id
JOIN vessel.port_call pc ON pc.id = tc.port_call_id
"""
# The negotiation reads as a log: in the order the timestamps were sent.
SELECT_TIMESTAMPS_BY_PORT_CALL = f"""
SELECT {TIMESTAMP_COLUMNS}
FROM {TIMESTAMP_FROM}
WHERE tc.port_call_id = ANY($1::uuid[]) AND /*rule*/
ORDER BY tc.port_call_id, t.created_at, t.id
"""
SELECT_TIMESTAMPS_BY_ID = f"""
SELECT {TIMESTAMP_COLUMNS}
FROM {TIMESTAMP_FROM}
WHERE t.id = ANY($1::uuid[]) AND /*rule*/
"""

# Newest fix per vessel through the (vessel_imo, recorded_at) primary key.
SELECT_LATEST_POSITIONS = """
SELECT p.vessel_imo, p.recorded_at, p.latitude, p.longitude, p.speed_knots, p.course_deg,
       p.heading_deg, p.navigational_status
FROM unnest($1::text[]) AS k(imo)
CROSS JOIN LATERAL (
    SELECT a.vessel_imo, a.recorded_at, a.latitude, a.longitude, a.speed_knots, a.course_deg,
           a.heading_deg, a.navigational_status
    FROM vessel.ais_position a
    WHERE a.vessel_imo = k.imo
    ORDER BY a.recorded_at DESC
    LIMIT 1
) p
"""

SELECT_PORTS = """
SELECT unlocode, name, country, latitude, longitude
FROM vessel.port
WHERE unlocode = ANY($1::text[])
"""
TERMINAL_COLUMNS = """
t.unlocode, t.smdg_code, t.name, t.operator_name, t.berths, t.latitude, t.longitude
"""
SELECT_TERMINALS_BY_KEY = f"""
SELECT {TERMINAL_COLUMNS}
FROM unnest($1::text[], $2::text[]) AS k(unlocode, smdg_code)
JOIN vessel.terminal t ON t.unlocode = k.unlocode AND t.smdg_code = k.smdg_code
"""
SELECT_TERMINALS_BY_PORT = f"""
SELECT {TERMINAL_COLUMNS}
FROM vessel.terminal t
WHERE t.unlocode = ANY($1::text[])
ORDER BY t.unlocode, t.smdg_code
"""


# --- Sort keys (the content of cursors) -------------------------------------------------------


def vessel_sort_key(row: Record) -> tuple[Any, ...]:
    return (row["sort_name"], row["imo"])


def port_call_sort_key(row: Record) -> tuple[Any, ...]:
    return (row["estimated_arrival"].isoformat(), str(row["id"]))


# --- Batch functions: one statement per batch, results in key order ---------------------------


def _one_per_key(
    keys: Sequence[K], rows: Sequence[Record], key_of: Callable[[Record], K]
) -> list[Record | None]:
    found = {key_of(r): r for r in rows}
    return [found.get(k) for k in keys]


def _many_per_key(
    keys: Sequence[K], rows: Sequence[Record], key_of: Callable[[Record], K]
) -> list[list[Record]]:
    grouped: dict[K, list[Record]] = {k: [] for k in keys}
    for row in rows:
        grouped[key_of(row)].append(row)
    return [grouped[k] for k in keys]


async def _fetch(pool: Pool, rule: Rule, sql: str, *args: Any) -> list[Record]:
    """Run a statement with the rule in its `/*rule*/` slot."""
    bound, values = rule.bind(sql, *args)
    return await pool.fetch(bound, *values)


async def vessels_by_imo(pool: Pool, rule: Rule, imos: list[str]) -> list[Record | None]:
    rows = await _fetch(pool, rule, SELECT_VESSELS_BY_IMO, imos)
    return _one_per_key(imos, rows, lambda r: r["imo"])


async def port_calls_by_id(pool: Pool, rule: Rule, ids: list[uuid.UUID]) -> list[Record | None]:
    rows = await _fetch(pool, rule, SELECT_PORT_CALLS_BY_ID, ids)
    return _one_per_key(ids, rows, lambda r: r["id"])


async def port_call_pages_by_vessel(
    pool: Pool, rule: Rule, keys: list[VesselPortCallsKey]
) -> list[Page[Record]]:
    imos = [imo for imo, _, _ in keys]
    sizes = [size for _, size, _ in keys]
    arrivals = [None if after is None else after[0] for _, _, after in keys]
    after_ids = [None if after is None else after[1] for _, _, after in keys]
    rows = await _fetch(
        pool, rule, SELECT_PORT_CALL_PAGES_BY_VESSEL, imos, sizes, arrivals, after_ids
    )
    per_key: list[list[Record]] = [[] for _ in keys]
    for row in rows:
        per_key[row["ord"] - 1].append(row)
    return [make_page(r, size, port_call_sort_key) for r, size in zip(per_key, sizes, strict=True)]


async def timestamps_by_port_call(
    pool: Pool, rule: Rule, ids: list[uuid.UUID]
) -> list[list[Record]]:
    rows = await _fetch(pool, rule, SELECT_TIMESTAMPS_BY_PORT_CALL, ids)
    return _many_per_key(ids, rows, lambda r: r["port_call_id"])


async def timestamps_by_id(pool: Pool, rule: Rule, ids: list[uuid.UUID]) -> list[Record | None]:
    rows = await _fetch(pool, rule, SELECT_TIMESTAMPS_BY_ID, ids)
    return _one_per_key(ids, rows, lambda r: r["id"])


async def latest_positions(pool: Pool, imos: list[str]) -> list[Record | None]:
    rows = await pool.fetch(SELECT_LATEST_POSITIONS, imos)
    return _one_per_key(imos, rows, lambda r: r["vessel_imo"])


async def ports_by_unlocode(pool: Pool, codes: list[str]) -> list[Record | None]:
    rows = await pool.fetch(SELECT_PORTS, codes)
    return _one_per_key(codes, rows, lambda r: r["unlocode"])


async def terminals_by_key(pool: Pool, keys: list[TerminalKey]) -> list[Record | None]:
    unlocodes = [u for u, _ in keys]
    smdg_codes = [s for _, s in keys]
    rows = await pool.fetch(SELECT_TERMINALS_BY_KEY, unlocodes, smdg_codes)
    return _one_per_key(keys, rows, lambda r: (r["unlocode"], r["smdg_code"]))


async def terminals_by_port(pool: Pool, codes: list[str]) -> list[list[Record]]:
    rows = await pool.fetch(SELECT_TERMINALS_BY_PORT, codes)
    return _many_per_key(codes, rows, lambda r: r["unlocode"])


# --- Lists -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortCallCriteria:
    """Validated `portCalls` filters; None means "any"."""

    terminal: TerminalKey | None = None
    status: str | None = None
    carrier_scac: str | None = None
    vessel_imo: str | None = None
    arriving_after: datetime.datetime | None = None  # inclusive
    arriving_before: datetime.datetime | None = None  # exclusive


def vessel_statement(search: str | None, size: int, after: VesselCursor | None) -> Statement:
    # A 7-digit search also matches the IMO number exactly.
    by_imo = search is not None and search.isdigit() and len(search) == 7
    chosen = present(
        [
            ("name", None if by_imo else search),
            ("name_or_imo", search if by_imo else None),
            ("after", after),
        ]
    )
    return compose(SELECT_VESSEL_PAGE, VESSEL_FILTERS, chosen, size + 1)


async def vessel_page(
    pool: Pool, rule: Rule, search: str | None, size: int, after: VesselCursor | None
) -> Page[Record]:
    rows = await fetch_page(pool, vessel_statement(search, size, after), rule)
    return make_page(rows, size, vessel_sort_key)


def port_call_conditions(
    criteria: PortCallCriteria, after: PortCallCursor | None
) -> list[tuple[str, tuple[Any, ...]]]:
    return present(
        [
            ("terminal", criteria.terminal),
            ("status", criteria.status),
            ("carrier_scac", criteria.carrier_scac),
            ("vessel_imo", criteria.vessel_imo),
            ("arriving_after", criteria.arriving_after),
            ("arriving_before", criteria.arriving_before),
            ("after", after),
        ]
    )


def port_call_statement(
    criteria: PortCallCriteria, size: int, after: PortCallCursor | None
) -> Statement:
    chosen = port_call_conditions(criteria, after)
    return compose(SELECT_PORT_CALL_PAGE, PORT_CALL_FILTERS, chosen, size + 1)


async def port_call_page(
    pool: Pool, rule: Rule, criteria: PortCallCriteria, size: int, after: PortCallCursor | None
) -> Page[Record]:
    rows = await fetch_page(pool, port_call_statement(criteria, size, after), rule)
    return make_page(rows, size, port_call_sort_key)


# --- Per-request loaders ---------------------------------------------------------------------


class VesselLoaders:
    """The vessel source's loaders for one request (their caches die with it)."""

    def __init__(self, pool: Pool, principal: Principal) -> None:
        self._pool = pool
        self.rules = vessel_rules(principal)
        schedule, timestamps = self.rules.schedule, self.rules.timestamps
        self.vessel_by_imo: DataLoader[str, Record | None] = DataLoader(
            partial(vessels_by_imo, pool, schedule)
        )
        self.port_call_by_id: DataLoader[uuid.UUID, Record | None] = DataLoader(
            partial(port_calls_by_id, pool, schedule)
        )
        self.port_calls_by_vessel_imo: DataLoader[VesselPortCallsKey, Page[Record]] = DataLoader(
            partial(port_call_pages_by_vessel, pool, schedule)
        )
        self.timestamps_by_port_call_id: DataLoader[uuid.UUID, list[Record]] = DataLoader(
            self._timestamps_by_port_call
        )
        self.timestamp_by_id: DataLoader[uuid.UUID, Record | None] = DataLoader(
            partial(timestamps_by_id, pool, timestamps)
        )
        self.latest_position_by_vessel_imo: DataLoader[str, Record | None] = DataLoader(
            partial(latest_positions, pool)
        )
        self.port_by_unlocode: DataLoader[str, Record | None] = DataLoader(
            partial(ports_by_unlocode, pool)
        )
        self.terminal_by_key: DataLoader[TerminalKey, Record | None] = DataLoader(
            partial(terminals_by_key, pool)
        )
        self.terminals_by_unlocode: DataLoader[str, list[Record]] = DataLoader(
            partial(terminals_by_port, pool)
        )

    async def _timestamps_by_port_call(self, ids: list[uuid.UUID]) -> list[list[Record]]:
        lists = await timestamps_by_port_call(self._pool, self.rules.timestamps, ids)
        # `replyTo` then resolves from the cache: the chain costs no further statement.
        for row in (r for rows in lists for r in rows):
            self.timestamp_by_id.prime(row["id"], row)
        return lists

    async def vessels(
        self, search: str | None, size: int, after: VesselCursor | None
    ) -> Page[Record]:
        page = await vessel_page(self._pool, self.rules.schedule, search, size, after)
        for row, _ in page.items:
            self.vessel_by_imo.prime(row["imo"], row)
        return page

    async def port_calls(
        self, criteria: PortCallCriteria, size: int, after: PortCallCursor | None
    ) -> Page[Record]:
        page = await port_call_page(self._pool, self.rules.schedule, criteria, size, after)
        for row, _ in page.items:
            self.port_call_by_id.prime(row["id"], row)
        return page
