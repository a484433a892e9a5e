"""Partner organizations of every kind, and the carriers with their container owner prefixes."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from resolvers.seed.plan import Plan
from resolvers.seed.reference import Carrier, Terminal
from resolvers.seed.tables import Table

TRUCKERS = (
    ("HBDR", "Harbor Drayage Co.", 22.0),
    ("PRTL", "Pacific Rim Transport Lines", 16.0),
    ("SCIM", "SoCal Intermodal Express", 14.0),
    ("BYLC", "Bayline Cartage Inc.", 12.0),
    ("WFLX", "Wilmington Freight Lines", 11.0),
    ("GEDY", "Golden Eagle Drayage", 10.0),
    ("TITK", "Terminal Island Trucking", 8.0),
    ("IEEX", "Inland Empire Express", 7.0),
)
CARGO_OWNERS = (
    ("BCO-ACME", "Acme Home Goods Inc."),
    ("BCO-PACOUT", "Pacific Outfitters LLC"),
    ("BCO-SUNLAND", "Sunland Retail Group"),
    ("BCO-REDWOOD", "Redwood Electronics Corp."),
    ("BCO-COASTLINE", "Coastline Furniture Co."),
    ("BCO-GSFE", "Golden State Farm Exports"),
)
AUTHORITIES = (
    ("CBP", "U.S. Customs and Border Protection", "CUSTOMS"),
    ("POLA", "Port of Los Angeles", "PORT_AUTHORITY"),
    ("POLB", "Port of Long Beach", "PORT_AUTHORITY"),
    ("CSOC", "San Pedro Bay Ports Cyber Security Operations Center", "CSOC"),
    ("NLRTM", "Port of Rotterdam Authority", "OTHER_PORT"),
    ("SGSIN", "Maritime and Port Authority of Singapore", "OTHER_PORT"),
    ("CAVAN", "Vancouver Fraser Port Authority", "OTHER_PORT"),
)
CUSTOMS = "CBP"
CSOC = "CSOC"

CARRIER_COLUMNS = ("scac", "name", "owner_prefixes")
ORGANIZATION_COLUMNS = (
    "code", "name", "kind", "scac", "terminal_unlocode", "terminal_smdg_code", "created_at",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Community:
    tables: list[Table]
    trucker_scacs: tuple[str, ...]
    trucker_weights: tuple[float, ...]
    cargo_owners: tuple[tuple[str, str], ...]  # (code, name)


def _joined(rng: random.Random, now: dt.datetime) -> dt.datetime:
    """When an organization joined the community: one to three years before the anchor."""
    return now - dt.timedelta(days=rng.randint(365, 1_100), minutes=rng.randrange(0, 1_440))


def _organizations(
    plan: Plan, carriers: tuple[Carrier, ...], terminals: tuple[Terminal, ...]
) -> list[tuple[object, ...]]:
    rng, now = plan.rng("community"), plan.now
    rows: list[tuple[object, ...]] = []
    for carrier in carriers:
        rows.append((carrier.scac, carrier.name, "CARRIER", carrier.scac, None, None))
    for terminal in terminals:
        code, name = terminal.org_code, terminal.name
        rows.append((code, name, "TERMINAL", None, terminal.unlocode, terminal.smdg_code))
    for scac, name, _ in TRUCKERS:
        rows.append((scac, name, "TRUCKER", scac, None, None))
    for code, name in CARGO_OWNERS:
        rows.append((code, name, "BCO", None, None, None))
    for code, name, kind in AUTHORITIES:
        rows.append((code, name, kind, None, None, None))
    return [(*row, _joined(rng, now)) for row in rows]


def generate(
    plan: Plan, carriers: tuple[Carrier, ...], terminals: tuple[Terminal, ...]
) -> Community:
    carrier_rows: list[tuple[object, ...]] = [
        (c.scac, c.name, list(c.owner_prefixes)) for c in carriers
    ]
    return Community(
        tables=[
            Table("community.carrier", CARRIER_COLUMNS, carrier_rows),
            Table(
                "community.organization",
                ORGANIZATION_COLUMNS,
                _organizations(plan, carriers, terminals),
            ),
        ],
        trucker_scacs=tuple(t[0] for t in TRUCKERS),
        trucker_weights=tuple(t[2] for t in TRUCKERS),
        cargo_owners=CARGO_OWNERS,
    )
