"""Insights: aggregates over the sources, computed in SQL, one source per statement.

The sources may live in separate databases, so nothing here joins across schemas: a figure
that needs two sources (the inbound volume) reads the first, then hands its keys to the
second with `= ANY($1)` and combines the two in Python.

Aggregates expose no partner row, so they read every row of their source; the field rule
(`insights:read`) decides who may see them at all.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import asyncpg

from resolvers.sources import Pool

Record = asyncpg.Record
TerminalKey = tuple[str, str]

# Import boxes delivered here leave the terminal by truck ("local"): the port's own UN/LOCODEs
# and the inland places within a day's drive that trucks serve from San Pedro Bay. Any other
# place of delivery is an inland point intermodal (IPI) move: the box leaves by rail. The
# schema has no rail flag on a shipment, and for boxes still at sea the carrier's place of
# delivery is the only honest signal (gate-out events with mode RAIL come only afterwards).
LOCAL_DELIVERY = ("USLAX", "USLGB", "USONT", "USPHX", "USLAS")

# --- Inbound volume ("the Signal") ---------------------------------------------------------

# Vessel source: calls arriving in the window, with each terminal they call at. A call's
# arrival is its actual arrival when it has one, else its estimate.
SELECT_INBOUND_CALLS = """
SELECT pc.id, COALESCE(pc.actual_arrival, pc.estimated_arrival) AS arrival,
       tc.unlocode, tc.smdg_code
FROM vessel.port_call AS pc
JOIN vessel.terminal_call AS tc ON tc.port_call_id = pc.id
WHERE pc.status <> 'CANCELLED'
  AND COALESCE(pc.actual_arrival, pc.estimated_arrival) >= $1
  AND COALESCE(pc.actual_arrival, pc.estimated_arrival) < $2
  AND ($3::text IS NULL OR (tc.unlocode = $3 AND tc.smdg_code = $4))
ORDER BY pc.id
"""
SELECT_TERMINALS = """
SELECT unlocode, smdg_code
FROM vessel.terminal
WHERE ($1::text IS NULL OR (unlocode = $1 AND smdg_code = $2))
ORDER BY unlocode, smdg_code
"""
# Cargo source: import boxes of those calls, per call and terminal. TEU is the box length over
# 20 ft (ISO 6346 length code: 2 = 20', 4 = 40', L = 45'; a 45' box is 2.25 TEU).
SELECT_INBOUND_BOXES = """
WITH box AS (
    SELECT cv.port_call_id, cv.unlocode, cv.smdg_code,
           left(e.iso_equipment_code, 1) AS length_code,
           CASE left(e.iso_equipment_code, 1)
               WHEN '1' THEN 0.5 WHEN '2' THEN 1.0 WHEN '3' THEN 1.5 WHEN '4' THEN 2.0
               WHEN 'L' THEN 2.25 WHEN 'M' THEN 2.4 WHEN 'N' THEN 2.45 ELSE 1.0
           END AS teu,
           s.place_of_delivery IS NOT NULL
               AND s.place_of_delivery <> ALL ($2::text[]) AS by_rail
    FROM cargo.container_visit AS cv
    JOIN cargo.equipment AS e ON e.equipment_reference = cv.equipment_reference
    LEFT JOIN cargo.shipment AS s
        ON s.transport_document_reference = cv.transport_document_reference
    WHERE cv.port_call_id = ANY ($1::uuid[])
      AND cv.direction = 'IMPORT'
      AND ($3::text IS NULL OR (cv.unlocode = $3 AND cv.smdg_code = $4))
)
SELECT port_call_id, unlocode, smdg_code,
       count(*) AS containers,
       sum(teu) AS teu,
       COALESCE(sum(teu) FILTER (WHERE length_code = '2'), 0) AS teu_20,
       COALESCE(sum(teu) FILTER (WHERE length_code = '4'), 0) AS teu_40,
       COALESCE(sum(teu) FILTER (WHERE length_code = 'L'), 0) AS teu_45,
       COALESCE(sum(teu) FILTER (WHERE length_code NOT IN ('2', '4', 'L')), 0) AS teu_other,
       COALESCE(sum(teu) FILTER (WHERE by_rail), 0) AS teu_rail
FROM box
GROUP BY port_call_id, unlocode, smdg_code
"""


@dataclass(slots=True)
class WeekVolume:
    """Inbound volume of one terminal in one ISO week (TEU as exact decimals)."""

    unlocode: str
    smdg_code: str
    week_start: datetime.date
    vessel_calls: int = 0
    containers: int = 0
    teu: Decimal = Decimal(0)
    teu_20: Decimal = Decimal(0)
    teu_40: Decimal = Decimal(0)
    teu_45: Decimal = Decimal(0)
    teu_other: Decimal = Decimal(0)
    teu_rail: Decimal = Decimal(0)

    @property
    def teu_local(self) -> Decimal:
        return self.teu - self.teu_rail

    def add_boxes(self, row: Record) -> None:
        self.containers += row["containers"]
        self.teu += row["teu"]
        self.teu_20 += row["teu_20"]
        self.teu_40 += row["teu_40"]
        self.teu_45 += row["teu_45"]
        self.teu_other += row["teu_other"]
        self.teu_rail += row["teu_rail"]


def week_of(date: datetime.date) -> datetime.date:
    """The Monday that starts the ISO week holding `date`."""
    return date - datetime.timedelta(days=date.weekday())


def midnight(date: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(date, datetime.time(0), tzinfo=datetime.UTC)


def inbound_window(start: datetime.date, weeks: int) -> tuple[datetime.datetime, datetime.datetime]:
    """Whole ISO weeks (UTC): from the Monday of `start`'s week, `weeks` weeks long."""
    first = week_of(start)
    return midnight(first), midnight(first + datetime.timedelta(weeks=weeks))


async def inbound_volume(
    vessel_pool: Pool,
    cargo_pool: Pool,
    start: datetime.date,
    weeks: int,
    terminal: TerminalKey | None,
) -> list[WeekVolume]:
    """Per terminal and ISO week: vessel calls and import TEU by size, by rail and local.

    Every terminal of the port gets every week, zeros included, so a chart has no holes.
    """
    low, high = inbound_window(start, weeks)
    port, code = terminal if terminal is not None else (None, None)
    calls = await vessel_pool.fetch(SELECT_INBOUND_CALLS, low, high, port, code)
    known = await vessel_pool.fetch(SELECT_TERMINALS, port, code)
    grid = _week_grid(((t["unlocode"], t["smdg_code"]) for t in known), week_of(start), weeks)
    arrival_week: dict[uuid.UUID, datetime.date] = {}
    for call in calls:
        week = week_of(call["arrival"].astimezone(datetime.UTC).date())
        arrival_week[call["id"]] = week
        _cell(grid, call["unlocode"], call["smdg_code"], week).vessel_calls += 1
    if arrival_week:
        boxes = await cargo_pool.fetch(
            SELECT_INBOUND_BOXES, list(arrival_week), list(LOCAL_DELIVERY), port, code
        )
        for row in boxes:
            week = arrival_week[row["port_call_id"]]
            _cell(grid, row["unlocode"], row["smdg_code"], week).add_boxes(row)
    return sorted(grid.values(), key=lambda w: (w.unlocode, w.smdg_code, w.week_start))


Grid = dict[tuple[str, str, datetime.date], WeekVolume]


def _week_grid(terminals: Iterable[TerminalKey], first: datetime.date, weeks: int) -> Grid:
    grid: Grid = {}
    for port, code in terminals:
        for n in range(weeks):
            week = first + datetime.timedelta(weeks=n)
            grid[(port, code, week)] = WeekVolume(port, code, week)
    return grid


def _cell(grid: Grid, port: str, code: str, week: datetime.date) -> WeekVolume:
    """A terminal missing from the reference table still gets its cells (never drop TEU)."""
    key = (port, code, week)
    cell = grid.get(key)
    if cell is None:
        cell = grid[key] = WeekVolume(port, code, week)
    return cell


# --- Dwell ---------------------------------------------------------------------------------

# Import dwell: discharge (DISC) to gate-out (GTOT), for boxes that left in [$1, $2). Each
# gate-out is paired with the box's previous move at a terminal; it counts only when that
# move was a discharge (an empty picked up for export has no DISC before its GTOT).
SELECT_DWELL = """
WITH gate_out AS (
    SELECT o.equipment_reference, o.event_datetime AS out_at,
           o.unlocode, o.facility_smdg_code AS smdg_code
    FROM cargo.event AS o
    WHERE o.equipment_event_type_code = 'GTOT'
      AND o.event_classifier_code = 'ACT'
      AND o.retracted_at IS NULL
      AND o.event_datetime >= $1 AND o.event_datetime < $2
      AND o.unlocode IS NOT NULL AND o.facility_smdg_code IS NOT NULL
      AND ($3::text IS NULL OR (o.unlocode = $3 AND o.facility_smdg_code = $4))
), dwell AS (
    SELECT g.unlocode, g.smdg_code,
           extract(epoch FROM g.out_at - previous.event_datetime) / 3600 AS hours
    FROM gate_out AS g
    CROSS JOIN LATERAL (
        SELECT p.equipment_event_type_code, p.event_datetime
        FROM cargo.event AS p
        WHERE p.equipment_reference = g.equipment_reference
          AND p.event_classifier_code = 'ACT'
          AND p.retracted_at IS NULL
          AND p.equipment_event_type_code IN ('DISC', 'LOAD', 'GTIN', 'GTOT')
          AND p.event_datetime < g.out_at
        ORDER BY p.event_datetime DESC
        LIMIT 1
    ) AS previous
    WHERE previous.equipment_event_type_code = 'DISC'
)
SELECT unlocode, smdg_code,
       count(*) AS containers,
       avg(hours)::float8 AS average,
       (percentile_cont(0.5) WITHIN GROUP (ORDER BY hours))::float8 AS median,
       (percentile_cont(0.9) WITHIN GROUP (ORDER BY hours))::float8 AS p90
FROM dwell
GROUP BY unlocode, smdg_code
ORDER BY unlocode, smdg_code
"""


async def dwell(
    cargo_pool: Pool, low: datetime.datetime, high: datetime.datetime, terminal: TerminalKey | None
) -> list[Record]:
    port, code = terminal if terminal is not None else (None, None)
    return await cargo_pool.fetch(SELECT_DWELL, low, high, port, code)


# --- Truck turn times ----------------------------------------------------------------------

# Completed visits (gate-out recorded) that entered in [$1, $2).
SELECT_TURN_TIMES = """
SELECT g.unlocode, g.smdg_code,
       count(*) AS transactions,
       avg(g.turn_time_minutes)::float8 AS average,
       (percentile_cont(0.5) WITHIN GROUP (ORDER BY g.turn_time_minutes))::float8 AS median,
       (percentile_cont(0.9) WITHIN GROUP (ORDER BY g.turn_time_minutes))::float8 AS p90
FROM gate.gate_transaction AS g
WHERE g.gate_out_at IS NOT NULL
  AND g.gate_in_at >= $1 AND g.gate_in_at < $2
  AND ($3::text IS NULL OR (g.unlocode = $3 AND g.smdg_code = $4))
GROUP BY g.unlocode, g.smdg_code
ORDER BY g.unlocode, g.smdg_code
"""


async def turn_times(
    gate_pool: Pool, low: datetime.datetime, high: datetime.datetime, terminal: TerminalKey | None
) -> list[Record]:
    port, code = terminal if terminal is not None else (None, None)
    return await gate_pool.fetch(SELECT_TURN_TIMES, low, high, port, code)


# --- Berth utilisation ---------------------------------------------------------------------

# Time alongside per terminal call, from its JIT BERTH service: the best arrival and
# departure timestamps (actual, else planned, else requested, else estimated; latest
# published first), falling back to the port call's own times. The port call's arrival is
# at the sea buoy, before any wait at anchor, so it is only the last resort.
# Berths per terminal: the berths its reference text names ("Berths 401-406" is 6, "Pier J,
# Berths J243-J247, J266-J270" is 10); when the text names none, the distinct berths calls
# were seen at; at least 1.
SELECT_BERTH_UTILIZATION = """
WITH best AS (
    SELECT DISTINCT ON (t.port_call_service_id, t.event_type)
           t.port_call_service_id, t.event_type, t.event_datetime
    FROM vessel.timestamp AS t
    JOIN vessel.port_call_service AS s ON s.id = t.port_call_service_id
    WHERE s.service_type = 'BERTH' AND t.event_type IN ('ARRI', 'DEPA')
    ORDER BY t.port_call_service_id, t.event_type,
             CASE t.classifier WHEN 'ACT' THEN 0 WHEN 'PLN' THEN 1 WHEN 'REQ' THEN 2 ELSE 3 END,
             t.created_at DESC, t.id
), alongside AS (
    SELECT tc.unlocode, tc.smdg_code, tc.port_call_id,
           COALESCE(arri.event_datetime, pc.actual_arrival, pc.estimated_arrival) AS berthed,
           COALESCE(depa.event_datetime, pc.actual_departure, pc.estimated_departure) AS unberthed
    FROM vessel.terminal_call AS tc
    JOIN vessel.port_call AS pc ON pc.id = tc.port_call_id
    LEFT JOIN vessel.port_call_service AS s
        ON s.terminal_call_id = tc.id AND s.service_type = 'BERTH'
    LEFT JOIN best AS arri ON arri.port_call_service_id = s.id AND arri.event_type = 'ARRI'
    LEFT JOIN best AS depa ON depa.port_call_service_id = s.id AND depa.event_type = 'DEPA'
    WHERE pc.status <> 'CANCELLED'
), in_window AS (
    SELECT unlocode, smdg_code, port_call_id,
           extract(epoch FROM least(unberthed, $2) - greatest(berthed, $1)) / 3600 AS hours
    FROM alongside
    WHERE berthed < $2 AND unberthed > $1 AND unberthed > berthed
), berth_count AS (
    SELECT t.unlocode, t.smdg_code,
           (SELECT sum(m[3]::int - m[2]::int + 1)
            FROM regexp_matches(t.berths, '([A-Z]?)(\\d+)-[A-Z]?(\\d+)', 'g') AS m
           )::int AS named,
           (SELECT count(DISTINCT tc.berth)
            FROM vessel.terminal_call AS tc
            WHERE tc.unlocode = t.unlocode AND tc.smdg_code = t.smdg_code
           )::int AS seen
    FROM vessel.terminal AS t
    WHERE ($3::text IS NULL OR (t.unlocode = $3 AND t.smdg_code = $4))
)
SELECT b.unlocode, b.smdg_code,
       GREATEST(COALESCE(b.named, b.seen), 1) AS berths,
       count(w.port_call_id)::int AS vessel_calls,
       COALESCE(sum(w.hours), 0)::float8 AS berth_hours,
       (extract(epoch FROM $2 - $1) / 3600 * GREATEST(COALESCE(b.named, b.seen), 1))::float8
           AS available_hours
FROM berth_count AS b
LEFT JOIN in_window AS w ON w.unlocode = b.unlocode AND w.smdg_code = b.smdg_code
GROUP BY b.unlocode, b.smdg_code, b.named, b.seen
ORDER BY b.unlocode, b.smdg_code
"""


async def berth_utilization(
    vessel_pool: Pool,
    low: datetime.datetime,
    high: datetime.datetime,
    terminal: TerminalKey | None,
) -> list[Record]:
    port, code = terminal if terminal is not None else (None, None)
    return await vessel_pool.fetch(SELECT_BERTH_UTILIZATION, low, high, port, code)


# --- Blocked intrusions --------------------------------------------------------------------

# Totals per day and vector, per day, per vector and overall in one pass.
SELECT_BLOCKED_INTRUSIONS = """
SELECT day, vector, sum(attempts)::bigint AS attempts,
       GROUPING(day) = 1 AS all_days, GROUPING(vector) = 1 AS all_vectors
FROM security.blocked_intrusion
WHERE day >= $1 AND day <= $2
GROUP BY GROUPING SETS ((day, vector), (day), (vector), ())
ORDER BY day NULLS LAST, vector NULLS LAST
"""


@dataclass(slots=True)
class IntrusionTotals:
    """Blocked attempts of a window: overall, per vector, and per day (with its vectors)."""

    total: int = 0
    by_vector: dict[str, int] = field(default_factory=dict)
    days: dict[datetime.date, tuple[int, dict[str, int]]] = field(default_factory=dict)


async def blocked_intrusions(
    security_pool: Pool, first: datetime.date, last: datetime.date
) -> IntrusionTotals:
    rows = await security_pool.fetch(SELECT_BLOCKED_INTRUSIONS, first, last)
    return _intrusion_totals(rows)


def _intrusion_totals(rows: Iterable[Record]) -> IntrusionTotals:
    by_vector: dict[str, int] = {}
    days: dict[datetime.date, tuple[int, dict[str, int]]] = {}
    total = 0
    for row in rows:
        attempts: int = row["attempts"] or 0
        if row["all_days"] and row["all_vectors"]:
            total = attempts
        elif row["all_days"]:
            by_vector[row["vector"]] = attempts
        elif row["all_vectors"]:
            days[row["day"]] = (attempts, days.get(row["day"], (0, {}))[1])
        else:
            days.setdefault(row["day"], (0, {}))[1][row["vector"]] = attempts
    return IntrusionTotals(total=total, by_vector=by_vector, days=days)
