"""A container's visit as a time-ordered list of DCSA steps, and the holds that gate it.

Import: ARRI -> DISC -> (CUSS -> (CUSI)) -> CUSR -> AVPU -> GTOT -> (STRP) -> GTIN (empty).
Export: GTOT (empty) -> STUF -> GTIN -> LOAD -> DEPA; an empty going back: (GTIN) -> LOAD -> DEPA.
Every step is drawn in full; the caller keeps what happened by the anchor (ACT) and announces
the vessel steps still to come (EST/PLN).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from resolvers.seed import catalog
from resolvers.seed.catalog import HoldReason
from resolvers.seed.community import CUSTOMS
from resolvers.seed.plan import hours
from resolvers.seed.reference import Terminal
from resolvers.seed.schedule import PortCall

VESSEL, TRUCK, RAIL = "VESSEL", "TRUCK", "RAIL"
MIN_GAP = dt.timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Step:
    code: str  # DCSA equipment (DISC, GTOT, ...) or transport (ARRI, DEPA) event type code
    at: dt.datetime
    laden: bool
    mode: str | None
    unlocode: str | None
    smdg_code: str | None
    publisher: str

    @property
    def transport(self) -> bool:
        return self.code in ("ARRI", "DEPA")


@dataclass(frozen=True, slots=True)
class HoldPlan:
    reason: HoldReason
    placed_by: str
    placed_at: dt.datetime
    released_at: dt.datetime | None  # None: never released


@dataclass(slots=True)
class Timeline:
    steps: list[Step] = field(default_factory=list)
    holds: list[HoldPlan] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Leg:
    """What a timeline needs to know about the container's trip."""

    call: PortCall
    carrier: str
    place: str  # place of delivery (imports) or receipt (exports)
    by_rail: bool
    return_terminal: Terminal


def _at_terminal(
    code: str, at: dt.datetime, laden: bool, mode: str | None, terminal: Terminal, publisher: str
) -> Step:
    return Step(code, at, laden, mode, terminal.unlocode, terminal.smdg_code, publisher)


def vessel_movements(call: PortCall) -> tuple[Step, Step]:
    """The vessel's own arrival at and departure from the berth, published by its operator."""
    terminal, carrier = call.terminal, call.carrier
    return (
        _at_terminal("ARRI", call.berth_at, True, VESSEL, terminal, carrier),
        _at_terminal("DEPA", call.departure, True, VESSEL, terminal, carrier),
    )


def _vessel_steps(leg: Leg, rng: random.Random, discharge: bool) -> tuple[Step, Step]:
    call, terminal = leg.call, leg.call.terminal
    span_h = (call.ops_end - call.ops_start).total_seconds() / 3600
    if discharge:
        arri = _at_terminal("ARRI", call.berth_at, True, VESSEL, terminal, leg.carrier)
        disc_at = call.ops_start + hours(span_h * rng.uniform(0.02, 0.7))
        return arri, _at_terminal("DISC", disc_at, True, VESSEL, terminal, terminal.org_code)
    load_at = call.ops_start + hours(span_h * rng.uniform(0.3, 0.98))
    load = _at_terminal("LOAD", load_at, True, VESSEL, terminal, terminal.org_code)
    return load, _at_terminal("DEPA", call.departure, True, VESSEL, terminal, leg.carrier)


def _customs(rng: random.Random, tl: Timeline, leg: Leg, disc: Step) -> dt.datetime | None:
    """Customs holds and exam steps; when customs released the box (None: not yet decided)."""
    terminal, draw = leg.call.terminal, rng.random()
    if draw < 0.70:
        return disc.at + hours(rng.uniform(0.2, 6))
    if draw < 0.88:
        placed = leg.call.berth_at - hours(rng.uniform(0, 48))
        release = disc.at + hours(rng.uniform(2, 48))
        reason = rng.choice(catalog.CUSTOMS_DOCUMENT)
    else:
        placed = disc.at + hours(rng.uniform(0.5, 6))
        tl.steps.append(_at_terminal("CUSS", placed, True, None, terminal, CUSTOMS))
        release = placed + hours(rng.uniform(12, 72))
        reason = catalog.CUSTOMS_SCAN
        if draw > 0.97:
            cusi = placed + hours(rng.uniform(4, 24))
            tl.steps.append(_at_terminal("CUSI", cusi, True, None, terminal, CUSTOMS))
            release = cusi + hours(rng.uniform(48, 120))
            reason = catalog.CUSTOMS_INTENSIVE
    released = None if rng.random() < 0.02 else release
    tl.holds.append(HoldPlan(reason, CUSTOMS, placed, released))
    return released


def _commercial_holds(
    rng: random.Random, tl: Timeline, leg: Leg, disc: Step
) -> list[dt.datetime | None]:
    """Freight (carrier) and terminal holds; their release times."""
    releases: list[dt.datetime | None] = []
    if rng.random() < 0.12:
        placed = leg.call.berth_at - hours(rng.uniform(0, 72))
        release = max(placed + hours(1), disc.at + hours(rng.uniform(0, 72)))
        released = None if rng.random() < 0.01 else release
        tl.holds.append(HoldPlan(rng.choice(catalog.FREIGHT), leg.carrier, placed, released))
        releases.append(released)
    if rng.random() < 0.05:
        placed = disc.at + hours(rng.uniform(0.5, 24))
        released = placed + hours(rng.uniform(2, 48))
        terminal = leg.call.terminal.org_code
        tl.holds.append(HoldPlan(rng.choice(catalog.TERMINAL), terminal, placed, released))
        releases.append(released)
    return releases


def _dwell(rng: random.Random) -> dt.timedelta:
    """Import dwell after availability: log-normal, median 2.5 days, 3 hours to 14 days."""
    return hours(min(336.0, max(3.0, rng.lognormvariate(math.log(60), 0.6))))


def _delivery(rng: random.Random, tl: Timeline, leg: Leg, avpu: dt.datetime) -> None:
    terminal = leg.call.terminal
    if leg.by_rail:
        gtot = avpu + hours(rng.uniform(6, 72))
        tl.steps.append(_at_terminal("GTOT", gtot, True, RAIL, terminal, terminal.org_code))
        back = gtot + hours(rng.uniform(12 * 24, 30 * 24))
        ret = leg.return_terminal
        tl.steps.append(_at_terminal("GTIN", back, False, RAIL, ret, ret.org_code))
        return
    gtot = avpu + _dwell(rng)
    tl.steps.append(_at_terminal("GTOT", gtot, True, TRUCK, terminal, terminal.org_code))
    emptied = gtot
    if rng.random() < 0.3:
        emptied = gtot + hours(rng.uniform(3, 36))
        tl.steps.append(Step("STRP", emptied, True, None, leg.place, None, leg.carrier))
    back = emptied + hours(rng.uniform(24, 9 * 24))
    ret = leg.return_terminal
    tl.steps.append(_at_terminal("GTIN", back, False, TRUCK, ret, ret.org_code))


def import_timeline(rng: random.Random, leg: Leg) -> Timeline:
    tl = Timeline()
    arri, disc = _vessel_steps(leg, rng, discharge=True)
    tl.steps += [arri, disc]
    cleared = _customs(rng, tl, leg, disc)
    others = _commercial_holds(rng, tl, leg, disc)
    if cleared is None:
        return tl
    terminal = leg.call.terminal
    tl.steps.append(_at_terminal("CUSR", cleared, True, None, terminal, CUSTOMS))
    if any(r is None for r in others):
        return tl
    ready = max([disc.at + hours(rng.uniform(1, 4)), cleared, *(r for r in others if r)])
    avpu = ready + dt.timedelta(minutes=rng.randint(5, 30))
    tl.steps.append(_at_terminal("AVPU", avpu, True, None, terminal, terminal.org_code))
    _delivery(rng, tl, leg, avpu)
    return tl


def export_timeline(rng: random.Random, leg: Leg) -> Timeline:
    """Laden export: the empty leaves the terminal, is stuffed at the shipper, comes back."""
    load, depa = _vessel_steps(leg, rng, discharge=False)
    terminal, mode = leg.call.terminal, RAIL if leg.by_rail else TRUCK
    gtin = min(leg.call.eta - hours(rng.uniform(12, 120)), load.at - hours(8))
    stuf = gtin - hours(rng.uniform(3, 36) + (48 if leg.by_rail else 0))
    gtot = stuf - hours(rng.uniform(2, 48) + (48 if leg.by_rail else 0))
    return Timeline(
        steps=[
            _at_terminal("GTOT", gtot, False, mode, terminal, terminal.org_code),
            Step("STUF", stuf, True, None, leg.place, None, leg.carrier),
            _at_terminal("GTIN", gtin, True, mode, terminal, terminal.org_code),
            load,
            depa,
        ]
    )


def empty_export_timeline(rng: random.Random, leg: Leg, gate_in: dt.datetime | None) -> Timeline:
    """An empty sent back to Asia: gated in by truck (unless already in the yard), loaded."""
    load, depa = _vessel_steps(leg, rng, discharge=False)
    load = Step(load.code, load.at, False, load.mode, load.unlocode, load.smdg_code, load.publisher)
    depa = Step(depa.code, depa.at, False, depa.mode, depa.unlocode, depa.smdg_code, depa.publisher)
    if gate_in is None:
        return Timeline(steps=[load, depa])
    terminal = leg.call.terminal
    gtin = _at_terminal("GTIN", gate_in, False, TRUCK, terminal, terminal.org_code)
    return Timeline(steps=[gtin, load, depa])


def empty_gate_in(rng: random.Random, call: PortCall, now: dt.datetime) -> dt.datetime:
    """When an empty for export reaches the terminal: 1-6 days ahead, never after the anchor."""
    return min(call.eta - hours(rng.uniform(24, 144)), now - hours(rng.uniform(0.5, 24)))
