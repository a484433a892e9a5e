"""The gate source: truck appointments, gate transactions and empty-return rules.

SQL, the gate row rule and the gate loaders. Every query that reads partner rows has the
`/*rule*/` slot and names its table `g`, so the one gate predicate fits both tables.
List filters are chosen from allowlisted constant conditions (`compose`): a filter the
caller leaves out is absent from the statement, so PostgreSQL plans each shape with the
index that suits it instead of one generic plan full of `$n IS NULL OR ...`.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiodataloader import DataLoader

from resolvers.paging import (
    FILTERS_SLOT,
    LIMIT_SLOT,
    Cursor,
    Statement,
    compose,
    fetch_page,
    present,
)
from resolvers.principal import OrganizationKind, Principal
from resolvers.rules import SEES_ALL, SEES_NOTHING, AppointmentVisits, Rule
from resolvers.sources import Pool

Record = asyncpg.Record

# --- Row rule ------------------------------------------------------------------------------

# One predicate per kind of partner, written against the alias `g` of either gate table.
TRUCKER_PREDICATE = "g.trucker_scac = {0}"
TERMINAL_PREDICATE = "g.unlocode = {0} AND g.smdg_code = {1}"
SEES_ALL_KINDS = frozenset({OrganizationKind.CUSTOMS, OrganizationKind.PORT_AUTHORITY})


def gate_rule(principal: Principal) -> Rule:
    """What gate rows a partner sees: a trucker its own, a terminal its own terminal's."""
    kind = principal.kind
    if kind in SEES_ALL_KINDS:
        return SEES_ALL
    if kind is OrganizationKind.TRUCKER and principal.scac is not None:
        return Rule(TRUCKER_PREDICATE, (principal.scac,))
    if (
        kind is OrganizationKind.TERMINAL
        and principal.terminal_unlocode is not None
        and principal.terminal_smdg_code is not None
    ):
        return Rule(TERMINAL_PREDICATE, (principal.terminal_unlocode, principal.terminal_smdg_code))
    return SEES_NOTHING


# --- Appointments --------------------------------------------------------------------------

APPOINTMENT_COLUMNS = """
    g.id, g.appointment_reference, g.trucker_scac, g.unlocode, g.smdg_code,
    g.equipment_reference, g.move_type, g.window_start, g.window_end, g.status,
    g.truck_license_plate, g.created_at"""

# Oldest window first: a trucker's or terminal's day in the order the trucks come.
SELECT_APPOINTMENTS = f"""
SELECT {APPOINTMENT_COLUMNS}
FROM gate.appointment AS g
WHERE {FILTERS_SLOT} AND /*rule*/
ORDER BY g.window_start, g.id
LIMIT {LIMIT_SLOT}
"""
APPOINTMENT_CONDITIONS: Mapping[str, str] = {
    "terminal": "g.unlocode = {} AND g.smdg_code = {}",
    "status": "g.status = {}",
    "move_type": "g.move_type = {}",
    "from": "g.window_start >= {}",
    "to": "g.window_start < {}",
    "equipment_reference": "g.equipment_reference = {}",
    "after": "(g.window_start, g.id) > ({}::timestamptz, {}::bigint)",
}
SELECT_APPOINTMENTS_BY_ID = f"""
SELECT {APPOINTMENT_COLUMNS}
FROM gate.appointment AS g
WHERE g.id = ANY($1::bigint[]) AND /*rule*/
"""
# A move belongs to the direction of the visit it serves: the import pickup and the empty
# return (which ends an import) to an IMPORT visit, the empty pickup and the export drop-off
# to an EXPORT visit; a move type not listed here serves none.
MOVE_DIRECTION = """CASE WHEN a.move_type IN ('IMPORT_PICKUP', 'EMPTY_RETURN') THEN 'IMPORT'
                WHEN a.move_type IN ('EXPORT_DROPOFF', 'EMPTY_PICKUP') THEN 'EXPORT'
           END"""
# Which appointments let their trucker see their box: not cancelled, and the terminal's own
# (the demo's, booked with no slot) or, booked by the trucker itself (bookAppointment), once
# the terminal has seen the truck arrive: a trucker cannot read a box by booking it.
GRANTING_APPOINTMENT = """a.status <> 'CANCELLED'
      AND (a.slot_start IS NULL OR a.status IN ('ARRIVED', 'COMPLETED'))"""
# The container visits a trucker's live appointments are for (the cargo row rule's input):
# one (box, terminal, visit direction) per distinct visit. A cancelled appointment ties the
# trucker to nothing. No ORDER BY: the rule only hashes these, and without it DISTINCT is a
# HashAggregate (about 40% cheaper than sorting a busy trucker's thousands of rows).
SELECT_APPOINTMENT_VISITS = f"""
SELECT DISTINCT v.equipment_reference, v.unlocode, v.smdg_code, v.direction
FROM (
    SELECT a.equipment_reference, a.unlocode, a.smdg_code,
           {MOVE_DIRECTION} AS direction
    FROM gate.appointment a
    WHERE a.trucker_scac = $1 AND a.equipment_reference IS NOT NULL
      AND {GRANTING_APPOINTMENT}
) v
WHERE v.direction IS NOT NULL
"""
# The same visits asked in place, where the gate source shares cargo's database: a predicate
# on the `cv` alias of cargo.container_visit (the trucker's SCAC in {0}), one probe of
# appointment_equipment_idx per visit looked at, however many visits the trucker holds.
APPOINTED_VISIT = f"""EXISTS (
    SELECT FROM gate.appointment a
    WHERE a.equipment_reference = cv.equipment_reference AND a.trucker_scac = {{0}}::text
      AND a.unlocode = cv.unlocode AND a.smdg_code = cv.smdg_code
      AND {GRANTING_APPOINTMENT} AND {MOVE_DIRECTION} = cv.direction)"""
# The visits as one array literal of 'box|UN/LOCODE|SMDG|direction' keys (codes, never a '|').
SELECT_APPOINTMENT_VISIT_KEYS = f"""
SELECT count(*) AS visits,
       array_agg(concat_ws('|', w.equipment_reference, w.unlocode, w.smdg_code, w.direction))::text
           AS keys
FROM ({SELECT_APPOINTMENT_VISITS}) w
"""


@dataclass(frozen=True, slots=True)
class AppointmentFilter:
    """Validated appointment filters; None means "any". `start`/`end` bound window_start."""

    terminal: tuple[str, str] | None = None
    status: str | None = None
    move_type: str | None = None
    start: datetime.datetime | None = None
    end: datetime.datetime | None = None
    equipment_reference: str | None = None


def appointment_key(row: Record) -> tuple[Any, ...]:
    return (row["window_start"].isoformat(), row["id"])


def _appointment_conditions(
    f: AppointmentFilter, after: Cursor | None
) -> list[tuple[str, tuple[Any, ...]]]:
    return present(
        [
            ("terminal", f.terminal),
            ("status", f.status),
            ("move_type", f.move_type),
            ("from", f.start),
            ("to", f.end),
            ("equipment_reference", f.equipment_reference),
            ("after", after),
        ]
    )


async def appointments_page(
    pool: Pool, rule: Rule, f: AppointmentFilter, size: int, after: Cursor | None
) -> list[Record]:
    """Up to size + 1 appointments after the cursor (the extra one says more follow)."""
    return await fetch_page(pool, appointment_statement(f, size, after), rule)


def appointment_statement(f: AppointmentFilter, size: int, after: Cursor | None) -> Statement:
    """The appointment list's page (rule slot unbound)."""
    chosen = _appointment_conditions(f, after)
    return compose(SELECT_APPOINTMENTS, APPOINTMENT_CONDITIONS, chosen, size + 1)


async def appointment_visits(pool: Pool, trucker_scac: str) -> AppointmentVisits:
    """The distinct container visits a trucker holds a live appointment for (in no particular
    order): the cargo row rule's input.

    Only the appointment's own visit counts (that box, at that terminal, in the direction of
    the move), never the box's other visits: earlier or later leases, other shippers'
    bookings. A cancelled appointment counts for nothing; scheduled, arrived, completed and
    missed ones do (the trucker is, or was, to move that box there).
    """
    row = await pool.fetchrow(SELECT_APPOINTMENT_VISIT_KEYS, trucker_scac)
    assert row is not None  # an aggregate: always one row
    return AppointmentVisits(row["visits"], row["keys"] or "{}")


# --- Gate transactions ---------------------------------------------------------------------

TRANSACTION_COLUMNS = """
    g.id, g.appointment_id, g.trucker_scac, g.unlocode, g.smdg_code, g.lane,
    g.equipment_reference, g.move_type, g.gate_in_at, g.gate_out_at, g.turn_time_minutes"""

# Newest first: gate activity is read from the latest truck backwards.
SELECT_TRANSACTIONS = f"""
SELECT {TRANSACTION_COLUMNS}
FROM gate.gate_transaction AS g
WHERE {FILTERS_SLOT} AND /*rule*/
ORDER BY g.gate_in_at DESC, g.id DESC
LIMIT {LIMIT_SLOT}
"""
TRANSACTION_CONDITIONS: Mapping[str, str] = {
    "terminal": "g.unlocode = {} AND g.smdg_code = {}",
    "trucker": "g.trucker_scac = {}",
    "from": "g.gate_in_at >= {}",
    "to": "g.gate_in_at < {}",
    "move_type": "g.move_type = {}",
    "after": "(g.gate_in_at, g.id) < ({}::timestamptz, {}::bigint)",
}
SELECT_TRANSACTIONS_BY_EQUIPMENT = f"""
SELECT {TRANSACTION_COLUMNS}
FROM gate.gate_transaction AS g
WHERE g.equipment_reference = ANY($1::text[]) AND /*rule*/
ORDER BY g.equipment_reference, g.gate_in_at, g.id
"""


@dataclass(frozen=True, slots=True)
class TransactionFilter:
    """Validated gate transaction filters; `start`/`end` bound gate_in_at."""

    terminal: tuple[str, str] | None = None
    trucker: str | None = None
    start: datetime.datetime | None = None
    end: datetime.datetime | None = None
    move_type: str | None = None


def transaction_key(row: Record) -> tuple[Any, ...]:
    return (row["gate_in_at"].isoformat(), row["id"])


def _transaction_conditions(
    f: TransactionFilter, after: Cursor | None
) -> list[tuple[str, tuple[Any, ...]]]:
    return present(
        [
            ("terminal", f.terminal),
            ("trucker", f.trucker),
            ("from", f.start),
            ("to", f.end),
            ("move_type", f.move_type),
            ("after", after),
        ]
    )


async def transactions_page(
    pool: Pool, rule: Rule, f: TransactionFilter, size: int, after: Cursor | None
) -> list[Record]:
    return await fetch_page(pool, transaction_statement(f, size, after), rule)


def transaction_statement(f: TransactionFilter, size: int, after: Cursor | None) -> Statement:
    """The gate transaction list's page (rule slot unbound)."""
    chosen = _transaction_conditions(f, after)
    return compose(SELECT_TRANSACTIONS, TRANSACTION_CONDITIONS, chosen, size + 1)


# --- Empty-return rules (the "Return Signal") ----------------------------------------------

# Not partner rows: every authenticated partner may read them, so no row rule slot.
SELECT_EMPTY_RETURNS = f"""
SELECT r.id, r.unlocode, r.smdg_code, r.carrier_scac, r.iso_equipment_code, r.accepting,
       r.valid_from, r.valid_to, r.alternate_smdg_code, r.remark
FROM gate.empty_return_rule AS r
WHERE {FILTERS_SLOT}
ORDER BY r.unlocode, r.smdg_code, r.carrier_scac, r.iso_equipment_code, r.valid_from, r.id
LIMIT {LIMIT_SLOT}
"""
EMPTY_RETURN_CONDITIONS: Mapping[str, str] = {
    # In force at some moment of [from, to]: a point in time when from = to.
    "window": "r.valid_from <= {1} AND r.valid_to > {0}",
    "terminal": "r.unlocode = {} AND r.smdg_code = {}",
    "carrier": "r.carrier_scac = {}",
    "iso_type": "r.iso_equipment_code = {}",
    "after": (
        "(r.unlocode, r.smdg_code, r.carrier_scac, r.iso_equipment_code, r.valid_from, r.id)"
        " > ({}, {}, {}, {}, {}::timestamptz, {}::bigint)"
    ),
}


@dataclass(frozen=True, slots=True)
class EmptyReturnFilter:
    start: datetime.datetime
    end: datetime.datetime
    terminal: tuple[str, str] | None = None
    carrier: str | None = None
    iso_type: str | None = None


def empty_return_key(row: Record) -> tuple[Any, ...]:
    return (
        row["unlocode"],
        row["smdg_code"],
        row["carrier_scac"],
        row["iso_equipment_code"],
        row["valid_from"].isoformat(),
        row["id"],
    )


async def empty_returns_page(
    pool: Pool, f: EmptyReturnFilter, size: int, after: Cursor | None
) -> list[Record]:
    chosen = present(
        [
            ("window", (f.start, f.end)),
            ("terminal", f.terminal),
            ("carrier", f.carrier),
            ("iso_type", f.iso_type),
            ("after", after),
        ]
    )
    statement = compose(SELECT_EMPTY_RETURNS, EMPTY_RETURN_CONDITIONS, chosen, size + 1)
    return await pool.fetch(statement.sql, *statement.args)


# --- Loaders -------------------------------------------------------------------------------


class GateLoaders:
    """One request's gate loaders: the partner's row rule is fixed at construction."""

    def __init__(self, pool: Pool, principal: Principal) -> None:
        self._pool = pool
        self._principal = principal
        self.rule = gate_rule(principal)
        self.gate_transactions_by_equipment_reference: DataLoader[str, list[Record]] = DataLoader(
            self._transactions_by_equipment
        )
        self.appointment_by_id: DataLoader[int, Record | None] = DataLoader(
            self._appointments_by_id
        )

    async def _transactions_by_equipment(self, references: list[str]) -> list[list[Record]]:
        sql, args = self.rule.bind(SELECT_TRANSACTIONS_BY_EQUIPMENT, references)
        found: dict[str, list[Record]] = {reference: [] for reference in references}
        for row in await self._pool.fetch(sql, *args):
            found[row["equipment_reference"]].append(row)
        return [found[reference] for reference in references]

    async def _appointments_by_id(self, ids: list[int]) -> list[Record | None]:
        sql, args = self.rule.bind(SELECT_APPOINTMENTS_BY_ID, ids)
        found = {row["id"]: row for row in await self._pool.fetch(sql, *args)}
        return [found.get(i) for i in ids]
