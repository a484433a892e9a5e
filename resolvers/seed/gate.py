"""Truck appointments and gate transactions for the truck moves of the container lifecycles."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

from resolvers.seed.cargo import GateMove
from resolvers.seed.community import Community
from resolvers.seed.plan import Plan, hours
from resolvers.seed.tables import Row, Table

APPOINTMENT_COLUMNS = (
    "id", "appointment_reference", "trucker_scac", "unlocode", "smdg_code", "equipment_reference",
    "move_type", "window_start", "window_end", "status", "truck_license_plate", "created_at",
)  # fmt: skip
TRANSACTION_COLUMNS = (
    "id", "appointment_id", "trucker_scac", "unlocode", "smdg_code", "lane", "equipment_reference",
    "move_type", "gate_in_at", "gate_out_at",
)  # fmt: skip
BOOKING_HORIZON = dt.timedelta(days=3)  # appointments are open this far ahead of the anchor
WITH_APPOINTMENT = 0.88
MISSED_SHARE = 0.03
CANCELLED_SHARE = 0.025
PLATE_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


@dataclass(frozen=True, slots=True)
class _Slot:
    window_start: dt.datetime
    window_end: dt.datetime


def turn_minutes(rng: random.Random) -> int:
    """Truck turn time: log-normal around 65 minutes, 25 to 150 minutes."""
    return round(min(150.0, max(25.0, rng.lognormvariate(math.log(65), 0.38))))


def _slot(at: dt.datetime, rng: random.Random) -> _Slot:
    """The booked window containing `at`: whole hours, one or two hours long."""
    start = at.replace(minute=0, second=0, microsecond=0)
    length = rng.choice((1, 2))
    if rng.random() < 0.3:
        start, length = start - dt.timedelta(hours=1), 2
    return _Slot(start, start + dt.timedelta(hours=length))


class _Gate:
    def __init__(self, plan: Plan, community: Community) -> None:
        self.rng = plan.rng("gate")
        self.now = plan.now
        self.truckers = community.trucker_scacs
        self.weights = community.trucker_weights
        self.appointments: list[Row] = []
        self.transactions: list[Row] = []

    def _plate(self) -> str:
        rng = self.rng
        return f"{rng.randint(1, 9)}{rng.choice(PLATE_LETTERS)}{rng.randrange(10_000, 100_000)}"

    def _appointment(self, move: GateMove, trucker: str, slot: _Slot, status: str) -> int:
        appointment_id = len(self.appointments) + 1
        created = min(slot.window_start - hours(self.rng.uniform(3, 72)), self.now)
        self.appointments.append(
            (
                appointment_id,
                f"{move.smdg_code}{appointment_id:08d}",
                trucker,
                move.unlocode,
                move.smdg_code,
                move.equipment_reference,
                move.move_type,
                slot.window_start,
                slot.window_end,
                status,
                self._plate(),
                created,
            )
        )
        return appointment_id

    def _transaction(self, move: GateMove, trucker: str) -> None:
        rng = self.rng
        turn = dt.timedelta(minutes=turn_minutes(rng), seconds=rng.randint(0, 29))
        outbound = move.move_type in ("IMPORT_PICKUP", "EMPTY_PICKUP")
        gate_in = move.at - turn if outbound else move.at
        gate_out: dt.datetime | None = move.at if outbound else move.at + turn
        if gate_out is not None and gate_out > self.now:
            gate_out = None  # the truck is still in the terminal at the anchor
        appointment_id = None
        if rng.random() < WITH_APPOINTMENT:
            if rng.random() < MISSED_SHARE + CANCELLED_SHARE:
                earlier = _slot(gate_in - dt.timedelta(days=1), rng)
                lost = "MISSED" if rng.random() < 0.55 else "CANCELLED"
                self._appointment(move, trucker, earlier, lost)
            status = "COMPLETED" if gate_out is not None else "ARRIVED"
            appointment_id = self._appointment(move, trucker, _slot(gate_in, rng), status)
        self.transactions.append(
            (
                len(self.transactions) + 1,
                appointment_id,
                trucker,
                move.unlocode,
                move.smdg_code,
                f"L{rng.randint(1, 16):02d}",
                move.equipment_reference,
                move.move_type,
                gate_in,
                gate_out,
            )
        )

    def move(self, move: GateMove) -> None:
        trucker = self.rng.choices(self.truckers, weights=self.weights)[0]
        if move.at <= self.now:
            self._transaction(move, trucker)
        elif move.at <= self.now + BOOKING_HORIZON and self.rng.random() < WITH_APPOINTMENT:
            self._appointment(move, trucker, _slot(move.at, self.rng), "SCHEDULED")


def generate(plan: Plan, community: Community, moves: list[GateMove]) -> list[Table]:
    gate = _Gate(plan, community)
    for move in sorted(moves, key=lambda m: (m.at, m.equipment_reference, m.move_type)):
        gate.move(move)
    return [
        Table("gate.appointment", APPOINTMENT_COLUMNS, gate.appointments, identity="id"),
        Table("gate.gate_transaction", TRANSACTION_COLUMNS, gate.transactions, identity="id"),
    ]
