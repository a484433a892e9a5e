"""The Return Signal: where each line's empties may go, per terminal and ISO type, day by day."""

from __future__ import annotations

import datetime as dt
import random

from resolvers.seed.lines import CARRIER_TERMINALS
from resolvers.seed.plan import Plan
from resolvers.seed.reference import Carrier, Terminal
from resolvers.seed.tables import Row, Table

RULE_COLUMNS = (
    "id", "unlocode", "smdg_code", "carrier_scac", "iso_equipment_code", "accepting", "valid_from",
    "valid_to", "alternate_smdg_code", "remark",
)  # fmt: skip
RULE_ISO_TYPES = ("22G1", "42G1", "45G1", "45R1")
DAYS_BEFORE, DAYS_AFTER = 3, 3
ACCEPTING_SHARE = 0.8


def _pairs(
    carriers: tuple[Carrier, ...], terminals: tuple[Terminal, ...]
) -> list[tuple[Terminal, Carrier]]:
    """(terminal, carrier) for every line calling at the terminal, in reference order."""
    return [
        (t, c)
        for t in terminals
        for c in carriers
        if t.smdg_code in CARRIER_TERMINALS.get(c.scac, ())
    ]


def _alternate(
    rng: random.Random, terminal: Terminal, carrier: Carrier, terminals: tuple[Terminal, ...]
) -> Terminal | None:
    """Another terminal of the same line, where its empties may go instead."""
    codes = CARRIER_TERMINALS.get(carrier.scac, ())
    others = [t for t in terminals if t.smdg_code in codes and t != terminal]
    return rng.choice(others) if others else None


def table(plan: Plan, carriers: tuple[Carrier, ...], terminals: tuple[Terminal, ...]) -> Table:
    rng = plan.rng("return-rules")
    rows: list[Row] = []
    for day in range(-DAYS_BEFORE, DAYS_AFTER + 1):
        valid_from = plan.now + dt.timedelta(days=day)
        valid_to = valid_from + dt.timedelta(days=1)
        for terminal, carrier in _pairs(carriers, terminals):
            for iso in RULE_ISO_TYPES:
                accepting = rng.random() < ACCEPTING_SHARE
                alternate = None if accepting else _alternate(rng, terminal, carrier, terminals)
                if accepting:
                    remark = "Dual transactions only" if rng.random() < 0.1 else None
                elif alternate is not None:
                    remark = (
                        f"Not accepting {carrier.scac} {iso} empties; use {alternate.smdg_code}"
                    )
                else:
                    remark = f"Not accepting {carrier.scac} {iso} empties; check again next shift"
                rows.append(
                    (
                        len(rows) + 1,
                        terminal.unlocode,
                        terminal.smdg_code,
                        carrier.scac,
                        iso,
                        accepting,
                        valid_from,
                        valid_to,
                        alternate.smdg_code if alternate else None,
                        remark,
                    )
                )
    return Table("gate.empty_return_rule", RULE_COLUMNS, rows, identity="id")
