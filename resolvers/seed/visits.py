"""A container visit's row and holds, from the steps that happened by the anchor."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from resolvers.cargo import EXPORT_STATUS, FREE_DAYS, IMPORT_STATUS
from resolvers.seed import catalog
from resolvers.seed.catalog import IsoType
from resolvers.seed.lifecycle import HoldPlan, Step
from resolvers.seed.schedule import PortCall
from resolvers.seed.shipments import Shipment
from resolvers.seed.tables import Row

VISIT_COLUMNS = (
    "id", "equipment_reference", "port_call_id", "unlocode", "smdg_code", "carrier_scac",
    "transport_document_reference", "direction", "empty_indicator_code", "status",
    "yard_location", "available_for_pickup", "last_free_day", "gross_weight_kg", "seals",
    "reefer_setpoint_c", "dangerous_goods_un_number", "dangerous_goods_class", "updated_at",
)  # fmt: skip
HOLD_COLUMNS = (
    "id", "container_visit_id", "hold_type", "reason_code", "remark", "placed_by_code",
    "placed_at", "released_by_code", "released_at",
)  # fmt: skip
YARD_BLOCKS = "ABCDEFGHJK"


@dataclass(frozen=True, slots=True)
class Box:
    reference: str
    iso: IsoType
    tare_kg: int


@dataclass(frozen=True, slots=True)
class Visit:
    id: int
    call: PortCall
    box: Box
    shipment: Shipment | None  # None: an empty
    carrier: str
    direction: str


def status_after(direction: str, done: list[Step]) -> str:
    last = done[-1].code if done else None
    return (IMPORT_STATUS if direction == "IMPORT" else EXPORT_STATUS)[last]


def _yard_location(rng: random.Random) -> str:
    """Block and bay, row, tier, e.g. C07-12-3."""
    block, bay = rng.choice(YARD_BLOCKS), rng.randint(1, 24)
    return f"{block}{bay:02d}-{rng.randint(1, 40):02d}-{rng.randint(1, 5)}"


def _gross_weight(rng: random.Random, visit: Visit) -> Decimal:
    cargo_kg = 0.0
    if visit.shipment is not None:
        low, high = visit.shipment.commodity.cargo_tonnes
        iso = visit.box.iso
        short = iso.teu == 1 and iso.family != catalog.TANK  # tank loads are per tank already
        cargo_kg = rng.uniform(low, high) * 1000 * (0.6 if short else 1.0)
    return Decimal(round(visit.box.tare_kg + cargo_kg))


def _seals(rng: random.Random, visit: Visit) -> list[str]:
    """A carrier seal on every laden box, sometimes a shipper seal too."""
    if visit.shipment is None:
        return []
    seals = [f"{visit.carrier[:2]}{rng.randrange(1_000_000, 10_000_000)}"]
    if rng.random() < 0.15:
        seals.append(f"SH{rng.randrange(100_000, 1_000_000)}")
    return seals


def visit_row(rng: random.Random, visit: Visit, done: list[Step], updated: dt.datetime) -> Row:
    status = status_after(visit.direction, done)
    discharged = next((s.at for s in done if s.code == "DISC"), None)
    available = any(s.code == "AVPU" for s in done) and status == "IN_YARD"
    commodity = visit.shipment.commodity if visit.shipment else None
    reefer = visit.box.iso.family == catalog.REEFER and commodity is not None
    return (
        visit.id,
        visit.box.reference,
        visit.call.id,
        visit.call.unlocode,
        visit.call.terminal.smdg_code,
        visit.carrier,
        visit.shipment.document if visit.shipment else None,
        visit.direction,
        "LADEN" if visit.shipment else "EMPTY",
        status,
        _yard_location(rng) if status in ("IN_YARD", "GATED_IN") else None,
        visit.direction == "IMPORT" and available,
        discharged.date() + dt.timedelta(days=FREE_DAYS) if discharged else None,
        _gross_weight(rng, visit),
        _seals(rng, visit),
        commodity.setpoint_c if commodity and reefer else None,
        commodity.un_number if commodity else None,
        commodity.dg_class if commodity else None,
        updated,
    )


def hold_rows(
    now: dt.datetime, visit_id: int, holds: list[HoldPlan], first_id: int
) -> tuple[list[Row], dt.datetime | None]:
    """Rows of the holds placed by the anchor, and the latest placement or release."""
    rows: list[Row] = []
    latest: dt.datetime | None = None
    for hold in holds:
        if hold.placed_at > now:
            continue
        released = hold.released_at if hold.released_at and hold.released_at <= now else None
        reason = hold.reason
        rows.append(
            (
                first_id + len(rows),
                visit_id,
                reason.hold_type,
                reason.code,
                reason.remark,
                hold.placed_by,
                hold.placed_at,
                hold.placed_by if released else None,
                released,
            )
        )
        changed = released or hold.placed_at
        latest = changed if latest is None or changed > latest else latest
    return rows, latest
