"""The insights schema over HTTP with real tokens, for fixed windows around the seed anchor.

Expected figures are recomputed independently (see tests/resolvers/test_insights.py).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest

from resolvers.sources import SourcePools
from tests.helpers import BAD_USER_INPUT, UNAUTHORIZED, answer, refused
from tests.resolvers.test_insights import (
    WINDOW,
    expected_berths,
    expected_dwell,
    expected_inbound,
)

SIGNAL = """
query Signal($weeks: Int!, $from: Date, $terminal: TerminalKeyInput) {
  insights {
    inboundVolume(weeks: $weeks, from: $from, terminal: $terminal) {
      unlocode smdgCode weekStart isoWeek vesselCalls containers teu teu20 teu40 teu45
      teuOther teuRail teuLocal
    }
  }
}
"""
WINDOWED = """
query Windowed($from: Date, $to: Date, $terminal: TerminalKeyInput) {
  insights {
    dwell(from: $from, to: $to, terminal: $terminal) {
      unlocode smdgCode containers averageHours medianHours p90Hours
    }
    turnTimes(from: $from, to: $to, terminal: $terminal) {
      unlocode smdgCode transactions averageMinutes medianMinutes p90Minutes
    }
    berthUtilization(from: $from, to: $to, terminal: $terminal) {
      unlocode smdgCode berths vesselCalls berthHours availableBerthHours utilization
    }
    blockedIntrusions(from: $from, to: $to) {
      from to total byVector { vector attempts } days { day total byVector { vector attempts } }
    }
  }
}
"""
# WINDOW is [2026-02-16T00Z, 2026-03-02T00Z): the days 2026-02-16 to 2026-03-01, included.
DAYS = {"from": "2026-02-16", "to": "2026-03-01"}


def approx(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


async def test_the_signal_for_three_weeks_from_the_anchor(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    _, token = tokens.partner("PORT_AUTHORITY")
    data = await api.data(SIGNAL, {"weeks": 3, "from": "2026-03-02"}, token)
    expected = await expected_inbound(seeded_pools, dt.date(2026, 3, 2), 3)
    got = data["insights"]["inboundVolume"]
    assert len(got) == len(expected) == 36
    for node, want in zip(got, expected, strict=True):
        year, week, _ = want["week_start"].isocalendar()
        assert node == {
            "unlocode": want["unlocode"],
            "smdgCode": want["smdg_code"],
            "weekStart": want["week_start"].isoformat(),
            "isoWeek": f"{year}-W{week:02d}",
            "vesselCalls": want["vessel_calls"],
            "containers": want["containers"],
            "teu": want["teu"],
            "teu20": want["teu_20"],
            "teu40": want["teu_40"],
            "teu45": want["teu_45"],
            "teuOther": want["teu_other"],
            "teuRail": want["teu_rail"],
            "teuLocal": want["teu"] - want["teu_rail"],
        }
    assert {n["isoWeek"] for n in got} == {"2026-W10", "2026-W11", "2026-W12"}
    assert sum(n["teu"] for n in got) > 0


async def test_one_terminal_of_the_signal(api: Any, tokens: Any) -> None:
    _, token = tokens.partner("PORT_AUTHORITY")
    every = await api.data(SIGNAL, {"weeks": 6, "from": "2026-03-02"}, token)
    busiest = max(every["insights"]["inboundVolume"], key=lambda n: n["teu"])
    key = {"unlocode": busiest["unlocode"], "smdgCode": busiest["smdgCode"]}
    one = await api.data(SIGNAL, {"weeks": 6, "from": "2026-03-04", "terminal": key}, token)
    assert one["insights"]["inboundVolume"] == [
        n
        for n in every["insights"]["inboundVolume"]
        if (n["unlocode"], n["smdgCode"]) == (busiest["unlocode"], busiest["smdgCode"])
    ]


async def test_windowed_insights_exact(api: Any, tokens: Any, seeded_pools: SourcePools) -> None:
    _, token = tokens.partner("PORT_AUTHORITY")
    data = (await api.data(WINDOWED, DAYS, token))["insights"]
    dwell = await expected_dwell(seeded_pools, *WINDOW)
    assert [(d["unlocode"], d["smdgCode"], d["containers"]) for d in data["dwell"]] == [
        (*d["terminal"], d["count"]) for d in dwell
    ]
    for got, want in zip(data["dwell"], dwell, strict=True):
        assert approx(got["averageHours"], want["average"])
        assert approx(got["medianHours"], want["median"])
        assert approx(got["p90Hours"], want["p90"])
    turn = await seeded_pools["gate"].fetch(
        "SELECT unlocode, smdg_code, count(*) AS n, avg(turn_time_minutes)::float8 AS a "
        "FROM gate.gate_transaction WHERE gate_out_at IS NOT NULL "
        "AND gate_in_at >= $1 AND gate_in_at < $2 GROUP BY 1, 2 ORDER BY 1, 2",
        *WINDOW,
    )
    assert [(t["unlocode"], t["smdgCode"], t["transactions"]) for t in data["turnTimes"]] == [
        (r["unlocode"], r["smdg_code"], r["n"]) for r in turn
    ]
    assert all(
        approx(t["averageMinutes"], r["a"]) for t, r in zip(data["turnTimes"], turn, strict=True)
    )
    berths = await expected_berths(seeded_pools, *WINDOW)
    for got, want in zip(data["berthUtilization"], berths, strict=True):
        assert (got["unlocode"], got["smdgCode"]) == want["terminal"]
        assert (got["berths"], got["vesselCalls"]) == (want["berths"], want["vessel_calls"])
        assert approx(got["berthHours"], want["berth_hours"])
        assert approx(got["availableBerthHours"], 14 * 24 * want["berths"])
        assert approx(got["utilization"], want["berth_hours"] / (14 * 24 * want["berths"]))
    raw = await seeded_pools["security"].fetch(
        "SELECT day, vector, attempts FROM security.blocked_intrusion "
        "WHERE day BETWEEN '2026-02-16' AND '2026-03-01' ORDER BY day, vector"
    )
    blocked = data["blockedIntrusions"]
    assert (blocked["from"], blocked["to"]) == ("2026-02-16", "2026-03-01")
    assert blocked["total"] == sum(r["attempts"] for r in raw)
    assert [d["day"] for d in blocked["days"]] == sorted({r["day"].isoformat() for r in raw})
    first_day = blocked["days"][0]
    assert first_day["byVector"] == [
        {"vector": r["vector"], "attempts": r["attempts"]}
        for r in raw
        if r["day"].isoformat() == first_day["day"]
    ]
    assert first_day["total"] == sum(v["attempts"] for v in first_day["byVector"])


async def test_insights_need_insights_read(api: Any, tokens: Any) -> None:
    _, token = tokens.partner("CARRIER")
    data, errors = await answer(api, SIGNAL, {"weeks": 3}, token)
    assert data == {"insights": None}
    refused(errors, UNAUTHORIZED, ["insights"])
    data, errors = await answer(api, SIGNAL, {"weeks": 3}, None)
    assert data == {"insights": None}
    refused(errors, UNAUTHORIZED, ["insights"])


@pytest.mark.parametrize(
    ("query", "variables", "field", "argument"),
    [
        (SIGNAL, {"weeks": 7}, "inboundVolume", "weeks"),
        (SIGNAL, {"weeks": 0}, "inboundVolume", "weeks"),
        (
            SIGNAL,
            {"weeks": 3, "terminal": {"smdgCode": "APMT", "unlocode": "US-LAX"}},
            "inboundVolume",
            "terminal.unlocode",
        ),
        (WINDOWED, {"from": "2026-03-02", "to": "2026-03-01"}, "dwell", "from"),
        (WINDOWED, {"from": "2024-01-01", "to": "2026-03-01"}, "dwell", "from"),
        (WINDOWED, {"from": "9999-12-30", "to": "9999-12-31"}, "dwell", "to"),
        (SIGNAL, {"weeks": 6, "from": "9999-12-31"}, "inboundVolume", "from"),
        (WINDOWED, {"terminal": {"smdgCode": "some where"}}, "dwell", "terminal.smdgCode"),
    ],
)
async def test_bad_input_names_the_argument(
    api: Any, tokens: Any, query: str, variables: dict[str, Any], field: str, argument: str
) -> None:
    _, token = tokens.partner("PORT_AUTHORITY")
    data, errors = await answer(api, query, variables, token)
    assert data["insights"][field] is None
    mine = [e for e in errors if e["path"] == ["insights", field]]
    assert len(mine) == 1
    assert mine[0]["extensions"]["code"] == BAD_USER_INPUT
    assert f"`{argument}`" in mine[0]["message"]
