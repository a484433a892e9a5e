"""Equipment, container visits, holds and events for every call, imports and exports."""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass

from resolvers.seed import catalog, ids
from resolvers.seed.catalog import IsoType
from resolvers.seed.community import Community
from resolvers.seed.events import EVENT_COLUMNS, EventWriter, Subject
from resolvers.seed.lifecycle import (
    Leg,
    Step,
    Timeline,
    empty_export_timeline,
    empty_gate_in,
    export_timeline,
    import_timeline,
    vessel_movements,
)
from resolvers.seed.lines import ALLIANCES, CARRIER_TERMINALS
from resolvers.seed.plan import CONTAINER_VISITS, Plan, apportion, hours
from resolvers.seed.reference import Carrier, Terminal
from resolvers.seed.schedule import PortCall
from resolvers.seed.shipments import PARTY_COLUMNS, SHIPMENT_COLUMNS, Shipment, ShipmentBook
from resolvers.seed.tables import Row, Table
from resolvers.seed.visits import HOLD_COLUMNS, VISIT_COLUMNS, Box, Visit, hold_rows, visit_row

EQUIPMENT_COLUMNS = ("equipment_reference", "iso_equipment_code", "tare_weight_kg")
GATE_MOVES = {
    ("GTOT", True): "IMPORT_PICKUP",
    ("GTIN", False): "EMPTY_RETURN",
    ("GTOT", False): "EMPTY_PICKUP",
    ("GTIN", True): "EXPORT_DROPOFF",
}
SHIPMENT_SIZES = ((1, 2, 3, 4, 5), (45, 25, 15, 9, 6))
PARTNER_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class GateMove:
    move_type: str
    equipment_reference: str
    carrier: str
    unlocode: str
    smdg_code: str
    at: dt.datetime  # gate-out time of a pickup, gate-in time of a drop-off


@dataclass(frozen=True, slots=True)
class Cargo:
    tables: list[Table]
    gate_moves: list[GateMove]


class _Yard:
    """Empties returned by the anchor, per carrier, family and terminal, ready to reuse."""

    def __init__(self) -> None:
        self._heaps: dict[tuple[str, str, str], list[tuple[dt.datetime, int, Box]]] = {}
        self._count = 0

    def put(self, carrier: str, smdg_code: str, at: dt.datetime, box: Box) -> None:
        self._count += 1
        key = (carrier, box.iso.family, smdg_code)
        heapq.heappush(self._heaps.setdefault(key, []), (at, self._count, box))

    def take(self, carrier: str, family: str, smdg_code: str, before: dt.datetime) -> Box | None:
        heap = self._heaps.get((carrier, family, smdg_code))
        if heap and heap[0][0] < before:
            return heapq.heappop(heap)[2]
        return None


class _Builder:
    def __init__(
        self,
        plan: Plan,
        carriers: tuple[Carrier, ...],
        terminals: tuple[Terminal, ...],
        community: Community,
    ) -> None:
        self.rng = plan.rng("cargo")
        self.now = plan.now
        self.events = EventWriter(self.rng, plan.now)
        self.book = ShipmentBook(plan, self.rng, self.events, community.cargo_owners)
        self.prefixes = {c.scac: c.owner_prefixes for c in carriers}
        self.terminals = terminals
        self.yard = _Yard()
        self.taken: set[str] = set()
        self.equipment: list[Row] = []
        self.visits: list[Row] = []
        self.holds: list[Row] = []
        self.gate_moves: list[GateMove] = []

    # --- who and where -----------------------------------------------------------------

    def _carrier(self, call: PortCall) -> str:
        """The operator's own box, or an alliance partner's sharing the vessel."""
        if self.rng.random() < PARTNER_SHARE:
            for alliance in ALLIANCES:
                partners = [s for s in alliance if s != call.carrier and s in self.prefixes]
                if call.carrier in alliance and partners:
                    return self.rng.choice(partners)
        return call.carrier

    def _return_terminal(self, call: PortCall, carrier: str) -> Terminal:
        if self.rng.random() < 0.8:
            return call.terminal
        codes = CARRIER_TERMINALS.get(carrier, ())
        options = [t for t in self.terminals if t.smdg_code in codes]
        return self.rng.choice(options) if options else call.terminal

    def _new_box(self, carrier: str, iso: IsoType) -> Box:
        prefix = self.rng.choice(self.prefixes[carrier])
        reference = ids.container_number(self.rng, prefix, self.taken)
        box = Box(reference, iso, iso.tare_kg + self.rng.randint(-60, 60))
        self.equipment.append((box.reference, iso.code, box.tare_kg))
        return box

    # --- one call ----------------------------------------------------------------------

    def call(self, call: PortCall, count: int) -> None:
        rng = self.rng
        imports = round(count * rng.uniform(0.5, 0.6))
        exports = count - imports
        empties = 0
        if call.eta - hours(144) <= self.now:
            empties = round(exports * rng.uniform(0.35, 0.5))
        arrival, departure = vessel_movements(call)
        self.events.vessel(call.id, call.vessel.imo, call.carrier, arrival)
        self._shipments(call, "IMPORT", imports)
        self._shipments(call, "EXPORT", exports - empties)
        for _ in range(empties):
            self._empty_export(call)
        self.events.vessel(call.id, call.vessel.imo, call.carrier, departure)

    def _shipments(self, call: PortCall, direction: str, boxes: int) -> None:
        while boxes > 0:
            size = min(boxes, self.rng.choices(*SHIPMENT_SIZES)[0])
            boxes -= size
            shipment = self.book.new(call, self._carrier(call), direction)
            for _ in range(size):
                if direction == "IMPORT":
                    self._import(call, shipment)
                else:
                    self._export(call, shipment)

    def _leg(self, call: PortCall, shipment: Shipment | None, carrier: str) -> Leg:
        place = shipment.place if shipment else call.unlocode
        by_rail = shipment.by_rail if shipment else False
        return Leg(call, carrier, place, by_rail, self._return_terminal(call, carrier))

    def _import(self, call: PortCall, shipment: Shipment) -> None:
        box = self._new_box(shipment.carrier, shipment.iso)
        timeline = import_timeline(self.rng, self._leg(call, shipment, shipment.carrier))
        done = self._write(call, box, shipment, shipment.carrier, "IMPORT", timeline)
        last = done[-1] if done else None
        if last is not None and last.code == "GTIN" and last.smdg_code is not None:
            self.yard.put(shipment.carrier, last.smdg_code, last.at, box)

    def _export(self, call: PortCall, shipment: Shipment) -> None:
        timeline = export_timeline(self.rng, self._leg(call, shipment, shipment.carrier))
        pickup = timeline.steps[0].at
        box = None
        if pickup <= self.now:
            family, smdg = shipment.iso.family, call.terminal.smdg_code
            box = self.yard.take(shipment.carrier, family, smdg, pickup - hours(2))
        box = box or self._new_box(shipment.carrier, shipment.iso)
        self._write(call, box, shipment, shipment.carrier, "EXPORT", timeline)

    def _empty_export(self, call: PortCall) -> None:
        carrier = self._carrier(call)
        family = catalog.REEFER if self.rng.random() < 0.1 else catalog.DRY
        box = self.yard.take(carrier, family, call.terminal.smdg_code, call.ops_start - hours(6))
        gate_in = None if box else empty_gate_in(self.rng, call, self.now)
        if box is None:
            options = [t for t in catalog.ISO_TYPES if t.family == family]
            iso = self.rng.choices(options, weights=[t.weight for t in options])[0]
            box = self._new_box(carrier, iso)
        timeline = empty_export_timeline(self.rng, self._leg(call, None, carrier), gate_in)
        self._write(call, box, None, carrier, "EXPORT", timeline)

    # --- rows --------------------------------------------------------------------------

    def _write(
        self,
        call: PortCall,
        box: Box,
        shipment: Shipment | None,
        carrier: str,
        direction: str,
        timeline: Timeline,
    ) -> list[Step]:
        """Events, holds and the visit row of one container at one call; the steps done."""
        visit = Visit(len(self.visits) + 1, call, box, shipment, carrier, direction)
        subject = Subject(
            box.reference,
            box.iso.code,
            shipment.document if shipment else None,
            shipment.booking if shipment else None,
            carrier,
            call.id,
            call.vessel.imo,
        )
        done = self.events.visit(subject, timeline.steps)
        holds, held = hold_rows(self.now, visit.id, timeline.holds, len(self.holds) + 1)
        self.holds += holds
        updated = max((t for t in (self.events.latest, held) if t), default=self.now)
        self.visits.append(visit_row(self.rng, visit, done, updated))
        for step in timeline.steps:
            move = GATE_MOVES.get((step.code, step.laden))
            if move and step.mode == "TRUCK" and step.unlocode and step.smdg_code:
                self.gate_moves.append(
                    GateMove(move, box.reference, carrier, step.unlocode, step.smdg_code, step.at)
                )
        return done


def generate(
    plan: Plan,
    carriers: tuple[Carrier, ...],
    terminals: tuple[Terminal, ...],
    community: Community,
    calls: list[PortCall],
) -> Cargo:
    builder = _Builder(plan, carriers, terminals, community)
    live = [c for c in calls if not c.cancelled]
    weights = [c.vessel.teu * builder.rng.uniform(0.7, 1.3) for c in live]
    for call, count in zip(live, apportion(plan.count(CONTAINER_VISITS), weights), strict=True):
        builder.call(call, count)
    return Cargo(
        tables=[
            Table("cargo.equipment", EQUIPMENT_COLUMNS, builder.equipment),
            Table("cargo.shipment", SHIPMENT_COLUMNS, builder.book.rows),
            Table("cargo.shipment_party", PARTY_COLUMNS, builder.book.party_rows),
            Table("cargo.container_visit", VISIT_COLUMNS, builder.visits, identity="id"),
            Table("cargo.hold", HOLD_COLUMNS, builder.holds, identity="id"),
            Table("cargo.event", EVENT_COLUMNS, builder.events.rows),
        ],
        gate_moves=builder.gate_moves,
    )
