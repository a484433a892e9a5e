"""Container ships: per carrier, realistic names, valid IMO numbers, MMSI with the flag's MID."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from decimal import Decimal

from resolvers.seed import ids
from resolvers.seed.lines import (
    CALL_SIGN_PREFIXES,
    DEFAULT_FLEET,
    DEFAULT_SERVICES,
    FLEETS,
    MIDS,
    SERVICES,
    SIZE_CURVE,
    Fleet,
    Service,
)
from resolvers.seed.plan import VESSELS, Plan, apportion
from resolvers.seed.reference import Carrier
from resolvers.seed.tables import Row, Table

VESSEL_COLUMNS = (
    "imo", "mmsi", "name", "flag", "call_sign", "operator_scac", "length_overall_m", "width_m",
    "teu_capacity", "gross_tonnage",
)  # fmt: skip
ROMAN = ("", " II", " III", " IV", " V", " VI", " VII", " VIII", " IX", " X")
CALL_SIGN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@dataclass(frozen=True, slots=True)
class Vessel:
    imo: str
    mmsi: str
    name: str
    flag: str
    call_sign: str
    operator: str
    teu: int
    length_m: Decimal
    width_m: Decimal
    gross_tonnage: int
    service: Service


def _size(teu: int) -> tuple[float, float, int]:
    """Length, beam and gross tonnage interpolated from typical ships of that capacity."""
    curve = SIZE_CURVE
    teu = max(curve[0][0], min(curve[-1][0], teu))
    for (t0, l0, b0, g0), (t1, l1, b1, g1) in itertools.pairwise(curve):
        if t0 <= teu <= t1:
            f = (teu - t0) / (t1 - t0)
            return l0 + f * (l1 - l0), b0 + f * (b1 - b0), round(g0 + f * (g1 - g0))
    raise AssertionError("unreachable: teu clamped to the curve")


def _names(fleet: Fleet, count: int, rng: random.Random) -> list[str]:
    words = list(fleet.names)
    rng.shuffle(words)
    return [
        fleet.name_format.format(words[i % len(words)]) + ROMAN[(i // len(words)) % len(ROMAN)]
        for i in range(count)
    ]


def _vessel(
    rng: random.Random, carrier: Carrier, fleet: Fleet, name: str, taken: tuple[set[str], set[str]]
) -> Vessel:
    flag = rng.choice(fleet.flags)
    teu = int(round(rng.uniform(*fleet.teu_range), -2))
    length, width, gross = _size(teu)
    suffix = "".join(rng.choice(CALL_SIGN_CHARS) for _ in range(rng.choice((2, 3, 4))))
    return Vessel(
        imo=ids.imo_number(rng, taken[0]),
        mmsi=ids.mmsi_number(rng, rng.choice(MIDS[flag]), taken[1]),
        name=name,
        flag=flag,
        call_sign=rng.choice(CALL_SIGN_PREFIXES[flag]) + suffix,
        operator=carrier.scac,
        teu=teu,
        length_m=Decimal(f"{length * rng.uniform(0.98, 1.02):.2f}"),
        width_m=Decimal(f"{width:.2f}"),
        gross_tonnage=round(gross * rng.uniform(0.97, 1.03)),
        service=rng.choice(SERVICES.get(carrier.scac, DEFAULT_SERVICES)),
    )


def generate(plan: Plan, carriers: tuple[Carrier, ...]) -> list[Vessel]:
    """Vessels, carriers in reference order, each carrier's share of the fleet by weight."""
    rng = plan.rng("fleet")
    fleets = [FLEETS.get(c.scac, DEFAULT_FLEET) for c in carriers]
    total = max(plan.count(VESSELS), len(carriers))
    shares = apportion(total, [f.weight for f in fleets], minimum=1)
    taken: tuple[set[str], set[str]] = (set(), set())
    vessels: list[Vessel] = []
    for carrier, fleet, share in zip(carriers, fleets, shares, strict=True):
        for name in _names(fleet, share, rng):
            vessels.append(_vessel(rng, carrier, fleet, name, taken))
    return vessels


def table(vessels: list[Vessel]) -> Table:
    rows: list[Row] = [
        (
            v.imo,
            v.mmsi,
            v.name,
            v.flag,
            v.call_sign,
            v.operator,
            v.length_m,
            v.width_m,
            v.teu,
            v.gross_tonnage,
        )
        for v in vessels
    ]
    return Table("vessel.vessel", VESSEL_COLUMNS, rows)
