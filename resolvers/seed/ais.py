"""AIS positions: a few recent reports per vessel, consistent with where its call puts it."""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

from resolvers.seed.fleet import Vessel
from resolvers.seed.geography import ANCHORAGE, SEA_BUOY
from resolvers.seed.plan import Plan, hours
from resolvers.seed.schedule import PortCall
from resolvers.seed.tables import Row, Table

AIS_COLUMNS = (
    "vessel_imo", "recorded_at", "latitude", "longitude", "speed_knots", "course_deg",
    "heading_deg", "navigational_status",
)  # fmt: skip
NM_PER_DEGREE_LON = 60 * math.cos(math.radians(33.7))
MAX_LON_OFFSET = 55.0  # keep mid-ocean positions east of the date line


def _current_call(now: dt.datetime, calls: list[PortCall]) -> PortCall | None:
    """The call nearest the anchor: the one in progress, else the next, else the last."""
    live = [c for c in calls if not c.cancelled]
    for call in live:
        if call.arrival <= now < call.departure:
            return call
    upcoming = [c for c in live if c.arrival > now]
    if upcoming:
        return min(upcoming, key=lambda c: c.arrival)
    return max(live, key=lambda c: c.departure) if live else None


def _at_sea(rng: random.Random, lon_offset: float, inbound: bool, speed: float) -> Row:
    lat = SEA_BUOY[0] - min(lon_offset, MAX_LON_OFFSET) * 0.08 + rng.uniform(-0.05, 0.05)
    lon = SEA_BUOY[1] - min(lon_offset, MAX_LON_OFFSET)
    course = rng.uniform(80, 100) if inbound else rng.uniform(260, 280)
    return (
        round(lat, 5),
        round(lon, 5),
        Decimal(f"{speed:.1f}"),
        Decimal(f"{course:.1f}"),
        round(course) % 360,
        "UNDER_WAY_USING_ENGINE",
    )


def _position(rng: random.Random, call: PortCall, at: dt.datetime, moored_heading: int) -> Row:
    """Where the vessel of `call` is at `at`: at sea, at anchor, piloted in, or moored."""
    speed = rng.uniform(13, 18)
    if at < call.arrival:
        distance = (call.arrival - at).total_seconds() / 3600 * speed
        return _at_sea(rng, distance / NM_PER_DEGREE_LON, True, speed)
    if at >= call.departure:
        distance = (at - call.departure).total_seconds() / 3600 * speed
        return _at_sea(rng, distance / NM_PER_DEGREE_LON, False, speed)
    if at < call.berth_at - hours(1.5):
        lat, lon = ANCHORAGE[0] + rng.uniform(-0.01, 0.01), ANCHORAGE[1] + rng.uniform(-0.02, 0.02)
        heading = rng.randrange(0, 360)
        return (round(lat, 5), round(lon, 5), Decimal("0.1"), None, heading, "AT_ANCHOR")
    if at < call.berth_at:
        lat, lon = SEA_BUOY
        return (lat, lon, Decimal("6.0"), Decimal("20.0"), 20, "RESTRICTED_MANOEUVRABILITY")
    lat = call.terminal.latitude + rng.uniform(-0.0008, 0.0008)
    lon = call.terminal.longitude + rng.uniform(-0.0008, 0.0008)
    return (round(lat, 5), round(lon, 5), Decimal("0.0"), None, moored_heading, "MOORED")


def table(plan: Plan, vessels: list[Vessel], calls: list[PortCall]) -> Table:
    rng, now = plan.rng("ais"), plan.now
    by_vessel: dict[str, list[PortCall]] = {}
    for each in calls:
        by_vessel.setdefault(each.vessel.imo, []).append(each)
    rows: list[Row] = []
    for vessel in vessels:
        call = _current_call(now, by_vessel.get(vessel.imo, []))
        if call is None:
            continue
        count, heading = rng.randint(4, 8), rng.randrange(0, 360)
        minutes_ago = sorted(rng.sample(range(3, 48 * 60), count), reverse=True)
        for ago in minutes_ago:
            at = now - dt.timedelta(minutes=ago)
            rows.append((vessel.imo, at, *_position(rng, call, at, heading)))
    return Table("vessel.ais_position", AIS_COLUMNS, rows)
