"""Insights against the seeded database (anchor 2026-03-02), for fixed windows.

Each expected figure is recomputed here another way: rows read with plain SQL (joins across
schemas are fine in a test, the sources share one database here) and aggregated in Python.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest

from resolvers import insights
from resolvers.sources import SourcePools

ANCHOR_DAY = dt.date(2026, 3, 2)
WINDOW = (dt.datetime(2026, 2, 16, tzinfo=dt.UTC), dt.datetime(2026, 3, 2, tzinfo=dt.UTC))
TEU = {"1": 0.5, "2": 1.0, "3": 1.5, "4": 2.0, "L": 2.25, "M": 2.4, "N": 2.45}
SIZE = {"2": "teu_20", "4": "teu_40", "L": "teu_45"}
LOCAL = {"USLAX", "USLGB", "USONT", "USPHX", "USLAS"}
Key = tuple[str, str]


def percentile(values: list[float], fraction: float) -> float:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def stats(values: list[float]) -> dict[str, Any]:
    return {
        "count": len(values),
        "average": sum(values) / len(values),
        "median": percentile(values, 0.5),
        "p90": percentile(values, 0.9),
    }


STAT_COLUMNS = {"average": "average", "median": "median", "p90": "p90"}


def per_terminal(rows: list[Any], **columns: str) -> list[dict[str, Any]]:
    """Each row as {"terminal": (UN/LOCODE, SMDG code), name: row[column] for each column}."""
    return [
        {"terminal": (r["unlocode"], r["smdg_code"]), **{n: r[c] for n, c in columns.items()}}
        for r in rows
    ]


def close(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(
        math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-9)
        if isinstance(a[k], float)
        else a[k] == b[k]
        for k in a
    )


# --- Inbound volume ------------------------------------------------------------------------

INBOUND_BOXES = """
SELECT cv.unlocode, cv.smdg_code, e.iso_equipment_code, s.place_of_delivery,
       COALESCE(pc.actual_arrival, pc.estimated_arrival) AS arrival
FROM cargo.container_visit cv
JOIN vessel.port_call pc ON pc.id = cv.port_call_id
JOIN cargo.equipment e ON e.equipment_reference = cv.equipment_reference
LEFT JOIN cargo.shipment s ON s.transport_document_reference = cv.transport_document_reference
WHERE cv.direction = 'IMPORT' AND pc.status <> 'CANCELLED'
  AND COALESCE(pc.actual_arrival, pc.estimated_arrival) >= $1
  AND COALESCE(pc.actual_arrival, pc.estimated_arrival) < $2
"""
INBOUND_CALLS = """
SELECT tc.unlocode, tc.smdg_code, COALESCE(pc.actual_arrival, pc.estimated_arrival) AS arrival
FROM vessel.port_call pc JOIN vessel.terminal_call tc ON tc.port_call_id = pc.id
WHERE pc.status <> 'CANCELLED'
  AND COALESCE(pc.actual_arrival, pc.estimated_arrival) >= $1
  AND COALESCE(pc.actual_arrival, pc.estimated_arrival) < $2
"""
FIELDS = ("vessel_calls", "containers", "teu", "teu_20", "teu_40", "teu_45", "teu_other")


async def expected_inbound(pools: SourcePools, first: dt.date, weeks: int) -> list[dict[str, Any]]:
    low = dt.datetime.combine(first, dt.time(0), tzinfo=dt.UTC)
    high = low + dt.timedelta(weeks=weeks)
    pool = pools["vessel"]
    terminals = await pool.fetch("SELECT unlocode, smdg_code FROM vessel.terminal ORDER BY 1, 2")
    cells: dict[tuple[str, str, dt.date], dict[str, Any]] = {}
    for t in terminals:
        for n in range(weeks):
            week = first + dt.timedelta(weeks=n)
            cells[(t["unlocode"], t["smdg_code"], week)] = dict.fromkeys((*FIELDS, "teu_rail"), 0)

    def monday(at: dt.datetime) -> dt.date:
        day = at.astimezone(dt.UTC).date()
        return day - dt.timedelta(days=day.weekday())

    for call in await pool.fetch(INBOUND_CALLS, low, high):
        cells[(call["unlocode"], call["smdg_code"], monday(call["arrival"]))]["vessel_calls"] += 1
    for box in await pools["cargo"].fetch(INBOUND_BOXES, low, high):
        cell = cells[(box["unlocode"], box["smdg_code"], monday(box["arrival"]))]
        length = box["iso_equipment_code"][0]
        teu = TEU.get(length, 1.0)
        cell["containers"] += 1
        cell["teu"] += teu
        cell[SIZE.get(length, "teu_other")] += teu
        place = box["place_of_delivery"]
        if place is not None and place not in LOCAL:
            cell["teu_rail"] += teu
    return [
        {"unlocode": k[0], "smdg_code": k[1], "week_start": k[2], **v}
        for k, v in sorted(cells.items())
    ]


def volume_dict(v: insights.WeekVolume) -> dict[str, Any]:
    out: dict[str, Any] = {"unlocode": v.unlocode, "smdg_code": v.smdg_code}
    out["week_start"] = v.week_start
    for name in (*FIELDS, "teu_rail"):
        value = getattr(v, name)
        out[name] = float(value) if isinstance(value, Decimal) else value
    return out


async def test_inbound_volume_three_weeks_from_the_anchor(seeded_pools: SourcePools) -> None:
    got = await insights.inbound_volume(
        seeded_pools["vessel"], seeded_pools["cargo"], ANCHOR_DAY, 3, None
    )
    expected = await expected_inbound(seeded_pools, ANCHOR_DAY, 3)
    assert [volume_dict(v) for v in got] == expected
    assert len(got) == 12 * 3  # every terminal, every week, zeros included
    assert {v.week_start for v in got} == {dt.date(2026, 3, d) for d in (2, 9, 16)}
    assert sum(v.containers for v in got) > 0
    assert sum(v.teu_rail for v in got) > 0
    assert sum(v.teu_local for v in got) > 0
    for v in got:
        assert v.teu == v.teu_20 + v.teu_40 + v.teu_45 + v.teu_other


async def test_inbound_volume_of_one_terminal_from_mid_week(seeded_pools: SourcePools) -> None:
    everything = await insights.inbound_volume(
        seeded_pools["vessel"], seeded_pools["cargo"], ANCHOR_DAY, 6, None
    )
    busiest = max(everything, key=lambda v: v.teu)
    key = (busiest.unlocode, busiest.smdg_code)
    # A Thursday: the weeks still start on Monday 2026-03-02.
    one = await insights.inbound_volume(
        seeded_pools["vessel"], seeded_pools["cargo"], dt.date(2026, 3, 5), 6, key
    )
    assert [volume_dict(v) for v in one] == [
        volume_dict(v) for v in everything if (v.unlocode, v.smdg_code) == key
    ]


async def test_rail_derivation_agrees_with_the_gate_outs_that_happened(
    seeded_pools: SourcePools,
) -> None:
    """For boxes already gone, the mode of their laden gate-out is known: the place-of-delivery
    rule used for boxes still at sea must classify them the same way."""
    rows = await seeded_pools["cargo"].fetch(
        """
        SELECT e.mode_of_transport,
               s.place_of_delivery IS NOT NULL
                   AND s.place_of_delivery <> ALL ($1::text[]) AS derived_rail,
               count(*) AS boxes
        FROM cargo.event e
        JOIN cargo.container_visit cv
            ON cv.equipment_reference = e.equipment_reference AND cv.direction = 'IMPORT'
        JOIN cargo.shipment s ON s.transport_document_reference = cv.transport_document_reference
        WHERE e.equipment_event_type_code = 'GTOT' AND e.empty_indicator_code = 'LADEN'
        GROUP BY 1, 2
        """,
        list(insights.LOCAL_DELIVERY),
    )
    counts = {(r["mode_of_transport"], r["derived_rail"]): r["boxes"] for r in rows}
    assert counts.keys() == {("RAIL", True), ("TRUCK", False)}


def test_inbound_window_is_whole_iso_weeks() -> None:
    low, high = insights.inbound_window(dt.date(2026, 3, 5), 2)
    assert low == dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    assert high == dt.datetime(2026, 3, 16, tzinfo=dt.UTC)


# --- Dwell ---------------------------------------------------------------------------------

EQUIPMENT_MOVES = """
SELECT equipment_reference, equipment_event_type_code AS code, event_datetime AS at,
       unlocode, facility_smdg_code
FROM cargo.event
WHERE event_type = 'EQUIPMENT' AND event_classifier_code = 'ACT' AND retracted_at IS NULL
  AND equipment_event_type_code IN ('DISC', 'LOAD', 'GTIN', 'GTOT')
ORDER BY equipment_reference, event_datetime
"""


async def expected_dwell(pools: SourcePools, low: dt.datetime, high: dt.datetime) -> list[Any]:
    hours: dict[Key, list[float]] = defaultdict(list)
    previous: Any = None
    for move in await pools["cargo"].fetch(EQUIPMENT_MOVES):
        # A gate-out in the window whose previous move of the same box was its discharge.
        if (
            move["code"] == "GTOT"
            and low <= move["at"] < high
            and previous is not None
            and previous["equipment_reference"] == move["equipment_reference"]
            and previous["code"] == "DISC"
        ):
            dwell = (move["at"] - previous["at"]).total_seconds() / 3600
            hours[(move["unlocode"], move["facility_smdg_code"])].append(dwell)
        previous = move
    return [{"terminal": k, **stats(v)} for k, v in sorted(hours.items())]


async def test_dwell_discharge_to_gate_out(seeded_pools: SourcePools) -> None:
    rows = await insights.dwell(seeded_pools["cargo"], *WINDOW, None)
    got = per_terminal(rows, count="containers", **STAT_COLUMNS)
    expected = await expected_dwell(seeded_pools, *WINDOW)
    assert len(got) == len(expected) > 3
    assert all(close(a, b) for a, b in zip(got, expected, strict=True)), (got, expected)
    one = await insights.dwell(seeded_pools["cargo"], *WINDOW, got[0]["terminal"])
    assert [dict(r) for r in one] == [dict(rows[0])]


# --- Turn times ----------------------------------------------------------------------------


async def test_turn_times_per_terminal(seeded_pools: SourcePools) -> None:
    raw = await seeded_pools["gate"].fetch(
        "SELECT unlocode, smdg_code, turn_time_minutes FROM gate.gate_transaction "
        "WHERE gate_out_at IS NOT NULL AND gate_in_at >= $1 AND gate_in_at < $2",
        *WINDOW,
    )
    minutes: dict[Key, list[float]] = defaultdict(list)
    for r in raw:
        minutes[(r["unlocode"], r["smdg_code"])].append(float(r["turn_time_minutes"]))
    expected = [{"terminal": k, **stats(v)} for k, v in sorted(minutes.items())]
    rows = await insights.turn_times(seeded_pools["gate"], *WINDOW, None)
    got = per_terminal(rows, count="transactions", **STAT_COLUMNS)
    assert len(got) == len(expected) > 3
    assert all(close(a, b) for a, b in zip(got, expected, strict=True))


# --- Berth utilisation ---------------------------------------------------------------------

BERTH_STAMPS = """
SELECT tc.id AS terminal_call_id, t.event_type, t.classifier, t.event_datetime, t.created_at,
       t.id
FROM vessel.timestamp t
JOIN vessel.port_call_service s ON s.id = t.port_call_service_id
JOIN vessel.terminal_call tc ON tc.id = s.terminal_call_id
WHERE s.service_type = 'BERTH'
"""
TERMINAL_CALLS = """
SELECT tc.id, tc.unlocode, tc.smdg_code, tc.berth, pc.status, pc.actual_arrival,
       pc.estimated_arrival, pc.actual_departure, pc.estimated_departure
FROM vessel.terminal_call tc JOIN vessel.port_call pc ON pc.id = tc.port_call_id
"""
RANK = {"ACT": 0, "PLN": 1, "REQ": 2, "EST": 3}
REFERENCE_BERTHS = {  # counted by hand from the SMDG reference text
    "APMT": 6, "ETS": 11, "EAGLE": 4, "TRAP": 12, "WBCT": 11, "YUSEN": 14,
    "ITS": 11, "LBCT": 3, "SSAPCT": 10, "SSATA": 9, "MATU": 3, "TTI": 9,
}  # fmt: skip


async def expected_berths(pools: SourcePools, low: dt.datetime, high: dt.datetime) -> list[Any]:
    pool = pools["vessel"]
    best: dict[tuple[Any, str], Any] = {}
    for s in await pool.fetch(BERTH_STAMPS):
        key = (s["terminal_call_id"], s["event_type"])
        rank = (RANK[s["classifier"]], -s["created_at"].timestamp(), str(s["id"]))
        if key not in best or rank < best[key][0]:
            best[key] = (rank, s["event_datetime"])
    hours: dict[Key, float] = defaultdict(float)
    calls: dict[Key, int] = defaultdict(int)
    for c in await pool.fetch(TERMINAL_CALLS):
        if c["status"] == "CANCELLED":
            continue
        arri, depa = best.get((c["id"], "ARRI")), best.get((c["id"], "DEPA"))
        start = arri[1] if arri else c["actual_arrival"] or c["estimated_arrival"]
        end = depa[1] if depa else c["actual_departure"] or c["estimated_departure"]
        if start < high and end > low and end > start:
            key = (c["unlocode"], c["smdg_code"])
            hours[key] += (min(end, high) - max(start, low)).total_seconds() / 3600
            calls[key] += 1
    window_hours = (high - low).total_seconds() / 3600
    terminals = await pool.fetch("SELECT unlocode, smdg_code FROM vessel.terminal ORDER BY 1, 2")
    out = []
    for t in terminals:
        key = (t["unlocode"], t["smdg_code"])
        berths = REFERENCE_BERTHS[t["smdg_code"]]
        out.append(
            {
                "terminal": key,
                "berths": berths,
                "vessel_calls": calls[key],
                "berth_hours": hours[key],
                "available_hours": window_hours * berths,
            }
        )
    return out


async def test_berth_utilization_per_terminal(seeded_pools: SourcePools) -> None:
    rows = await insights.berth_utilization(seeded_pools["vessel"], *WINDOW, None)
    got = per_terminal(
        rows,
        berths="berths",
        vessel_calls="vessel_calls",
        berth_hours="berth_hours",
        available_hours="available_hours",
    )
    expected = await expected_berths(seeded_pools, *WINDOW)
    assert len(got) == 12
    assert all(close(a, b) for a, b in zip(got, expected, strict=True)), (got, expected)
    assert sum(r["vessel_calls"] for r in got) > 0


# --- Blocked intrusions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last"),
    [(dt.date(2026, 2, 20), dt.date(2026, 3, 1)), (dt.date(2025, 1, 1), dt.date(2025, 1, 2))],
)
async def test_blocked_intrusions_per_day_and_vector(
    seeded_pools: SourcePools, first: dt.date, last: dt.date
) -> None:
    raw = await seeded_pools["security"].fetch(
        "SELECT day, vector, attempts FROM security.blocked_intrusion WHERE day BETWEEN $1 AND $2",
        first,
        last,
    )
    by_vector: dict[str, int] = defaultdict(int)
    days: dict[dt.date, dict[str, int]] = defaultdict(dict)
    for r in raw:
        by_vector[r["vector"]] += r["attempts"]
        days[r["day"]][r["vector"]] = r["attempts"]
    got = await insights.blocked_intrusions(seeded_pools["security"], first, last)
    assert got.total == sum(r["attempts"] for r in raw)
    assert got.by_vector == dict(by_vector)
    assert got.days == {d: (sum(v.values()), v) for d, v in days.items()}
    if first.year == 2026:
        assert len(got.days) == 10
        assert len(got.by_vector) == 5
