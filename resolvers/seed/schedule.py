"""Port calls from anchor - 30 days to anchor + 21 days, with times and status consistent."""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from dataclasses import dataclass

from resolvers.seed import ids
from resolvers.seed.fleet import Vessel
from resolvers.seed.lines import CARRIER_TERMINALS
from resolvers.seed.plan import FUTURE_DAYS, PAST_DAYS, PORT_CALLS, Plan, apportion, hours
from resolvers.seed.reference import Terminal
from resolvers.seed.tables import Row, Table

PORT_CALL_COLUMNS = (
    "id", "port_visit_reference", "unlocode", "vessel_imo", "carrier_scac",
    "carrier_import_voyage", "carrier_export_voyage", "service_code", "status",
    "estimated_arrival", "actual_arrival", "estimated_departure", "actual_departure", "updated_at",
)  # fmt: skip
BERTH_RANGE = re.compile(r"([A-Z]?)(\d+)-[A-Z]?(\d+)")
CANCELLED_SHARE = 0.025
HOME_TERMINAL_SHARE = 0.85
# The first ships are pinned so every status exists at any scale: vessel 0 berths 14.5 hours
# before the anchor (at berth then), vessel 1 arrives 3 hours before and waits 10 hours at
# anchor. Values: (arrival, hours after the window opens; hours at anchor).
PINNED = {0: (PAST_DAYS * 24 - 16, 1.5), 1: (PAST_DAYS * 24 - 3, 10.0)}


@dataclass(frozen=True, slots=True)
class PortCall:
    """One call; `arrival` .. `departure` are actual up to the anchor and projected after it."""

    id: uuid.UUID
    reference: str
    vessel: Vessel
    terminal: Terminal
    berth: str
    status: str
    import_voyage: str
    export_voyage: str
    eta: dt.datetime
    etd: dt.datetime
    arrival: dt.datetime  # at the sea buoy
    berth_at: dt.datetime
    ops_start: dt.datetime
    ops_end: dt.datetime
    departure: dt.datetime

    @property
    def carrier(self) -> str:
        return self.vessel.operator

    @property
    def unlocode(self) -> str:
        return self.terminal.unlocode

    @property
    def cancelled(self) -> bool:
        return self.status == "CANCELLED"


@dataclass(frozen=True, slots=True)
class _Draft:
    vessel: Vessel
    terminal: Terminal
    voyage: int
    eta: dt.datetime
    delay_h: float
    anchorage_h: float
    ops_h: float
    cancelled: bool


def berth_names(terminal: Terminal) -> list[str]:
    """Berths named in the terminal's reference text, e.g. "Pier J, Berths J243-J247"."""
    names: list[str] = []
    for prefix, first, last in BERTH_RANGE.findall(terminal.berths):
        names.extend(f"{prefix}{n}" for n in range(int(first), int(last) + 1))
    return names or [terminal.berths]


def _terminals_of(vessel: Vessel, terminals: tuple[Terminal, ...]) -> list[Terminal]:
    codes = CARRIER_TERMINALS.get(vessel.operator)
    chosen = [t for t in terminals if codes is None or t.smdg_code in codes]
    return chosen or list(terminals)


def _offset(rng: random.Random, spacing: float, target: float | None) -> float:
    """Where in its first slot a vessel's schedule starts (hours after the window opens)."""
    if target is None:
        return rng.uniform(0, spacing)
    return target - (target // spacing) * spacing


def _draft(
    rng: random.Random, vessel: Vessel, spacing: float, pin: tuple[float, float] | None
) -> tuple[float, float, float, bool]:
    """Delay, anchorage wait, crane hours and cancellation of one call (pinned: as told)."""
    delay_h = 0.0 if pin else max(-6.0, min(30.0, rng.gauss(1.5, 6)))
    if pin:
        anchorage_h = pin[1]
    elif rng.random() < 0.85:
        anchorage_h = rng.uniform(0.7, 2.5)
    else:
        anchorage_h = rng.uniform(6, 48)  # waiting for a berth
    ops_h = min((18 + vessel.teu * 0.0015) * rng.uniform(0.85, 1.25), spacing * 0.6)
    return delay_h, anchorage_h, ops_h, rng.random() < CANCELLED_SHARE


def _drafts(
    plan: Plan, rng: random.Random, vessels: list[Vessel], terminals: tuple[Terminal, ...]
) -> list[_Draft]:
    """Each vessel's calls, evenly spaced over the window from a random start."""
    window_h = (PAST_DAYS + FUTURE_DAYS) * 24
    start = plan.now - dt.timedelta(days=PAST_DAYS)
    shares = apportion(max(plan.count(PORT_CALLS), 2 * len(vessels)), [1.0] * len(vessels))
    drafts: list[_Draft] = []
    for index, (vessel, count) in enumerate(zip(vessels, shares, strict=True)):
        spacing = window_h / count
        pin = PINNED.get(index)
        offset = _offset(rng, spacing, pin[0] if pin else None)
        options = _terminals_of(vessel, terminals)
        home = rng.choice(options)
        voyage = rng.randint(100, 480)
        for j in range(count):
            eta_h = offset + j * spacing
            pinned = pin if pin is not None and abs(eta_h - pin[0]) < 1e-6 else None
            eta = start + hours(round(eta_h * 2) / 2)
            terminal = home if rng.random() < HOME_TERMINAL_SHARE else rng.choice(options)
            delay_h, anchorage_h, ops_h, cancelled = _draft(rng, vessel, spacing, pinned)
            cancelled = cancelled and eta > plan.now + dt.timedelta(days=2)
            drafts.append(
                _Draft(vessel, terminal, voyage + j, eta, delay_h, anchorage_h, ops_h, cancelled)
            )
    _ensure_cancelled(plan, drafts)
    return drafts


def _ensure_cancelled(plan: Plan, drafts: list[_Draft]) -> None:
    """At least one future call is cancelled (a blank sailing), whatever the scale."""
    if any(d.cancelled for d in drafts):
        return
    for i in range(len(drafts) - 1, -1, -1):
        if drafts[i].eta > plan.now + dt.timedelta(days=2):
            d = drafts[i]
            drafts[i] = _Draft(
                d.vessel, d.terminal, d.voyage, d.eta, d.delay_h, d.anchorage_h, d.ops_h, True
            )
            return


def _status(
    now: dt.datetime,
    draft: _Draft,
    arrival: dt.datetime,
    berth_at: dt.datetime,
    departure: dt.datetime,
) -> str:
    if draft.cancelled:
        return "CANCELLED"
    if now < arrival:
        return "PLANNED"
    if now < berth_at:
        return "ARRIVED"
    if now < departure:
        return "AT_BERTH"
    return "DEPARTED"


def _call(plan: Plan, rng: random.Random, draft: _Draft, reference: str, berth: str) -> PortCall:
    arrival = draft.eta + hours(draft.delay_h)
    berth_at = arrival + hours(draft.anchorage_h)
    ops_start = berth_at + hours(rng.uniform(1, 2))
    ops_end = ops_start + hours(draft.ops_h)
    departure = ops_end + hours(rng.uniform(1, 2.5))
    return PortCall(
        id=ids.new_uuid(rng),
        reference=reference,
        vessel=draft.vessel,
        terminal=draft.terminal,
        berth=berth,
        status=_status(plan.now, draft, arrival, berth_at, departure),
        import_voyage=f"{draft.voyage:03d}E",
        export_voyage=f"{draft.voyage:03d}W",
        eta=draft.eta,
        etd=draft.eta + hours(2 + draft.ops_h + 3),
        arrival=arrival,
        berth_at=berth_at,
        ops_start=ops_start,
        ops_end=ops_end,
        departure=departure,
    )


def generate(plan: Plan, vessels: list[Vessel], terminals: tuple[Terminal, ...]) -> list[PortCall]:
    """Calls in arrival order; references number them per port and year.

    Each terminal hands out its berths in turn, so consecutive calls use different berths.
    """
    rng = plan.rng("schedule")
    drafts = sorted(_drafts(plan, rng, vessels, terminals), key=lambda d: (d.eta, d.vessel.imo))
    numbers: dict[tuple[str, int], int] = {}
    berths_used: dict[str, int] = {}
    calls: list[PortCall] = []
    for draft in drafts:
        key = (draft.terminal.unlocode, draft.eta.year)
        numbers[key] = numbers.get(key, 0) + 1
        reference = f"{key[0]}{key[1] % 100:02d}{numbers[key]:05d}"
        berths = berth_names(draft.terminal)
        used = berths_used.get(draft.terminal.org_code, rng.randrange(len(berths)))
        berths_used[draft.terminal.org_code] = used + 1
        calls.append(_call(plan, rng, draft, reference, berths[used % len(berths)]))
    return calls


def table(plan: Plan, calls: list[PortCall], updated: dict[uuid.UUID, dt.datetime]) -> Table:
    now = plan.now
    rows: list[Row] = []
    for c in calls:
        actual_arrival = c.arrival if c.arrival <= now and not c.cancelled else None
        actual_departure = c.departure if c.departure <= now and not c.cancelled else None
        rows.append(
            (
                c.id,
                c.reference,
                c.unlocode,
                c.vessel.imo,
                c.carrier,
                c.import_voyage,
                c.export_voyage,
                c.vessel.service.code,
                c.status,
                c.eta,
                actual_arrival,
                c.etd,
                actual_departure,
                updated[c.id],
            )
        )
    return Table("vessel.port_call", PORT_CALL_COLUMNS, rows)
