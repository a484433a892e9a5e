"""Gate writes: truckers book and cancel their own appointments, a place of an hourly slot
each; terminals record the moves through their gates and set their empty-return rules.

A slot is a terminal's gate capacity for one hour (gate.appointment_slot). Its row is made
on the first booking, counting the live appointments already in that hour against the
default capacity; a booking then takes a place with one conditional UPDATE, whose row lock
makes concurrent bookings queue, so a slot never holds more than its capacity. Booking is
idempotent by the trucker's own `appointmentReference`, a gate move by the terminal's
`transactionReference`. Each write is one transaction on the gate source, with its audit row
(resolvers.writes.in_transaction).
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from resolvers import identifiers, writes
from resolvers.changes import append_changes
from resolvers.community import AuditRecord
from resolvers.gate import APPOINTMENT_COLUMNS, TRANSACTION_COLUMNS
from resolvers.instants import OUT_OF_RANGE, in_range
from resolvers.principal import OrganizationKind, Principal
from resolvers.sources import Connection, SourcePools
from resolvers.writes import Act, Invalid, Outcome, Refusal, Written, in_transaction

DEFAULT_SLOT_CAPACITY = 40  # appointments per terminal and hour until a terminal says otherwise
SLOT = datetime.timedelta(hours=1)
BOOKING_HORIZON = datetime.timedelta(days=30)
MOVE_TYPES = ("IMPORT_PICKUP", "EXPORT_DROPOFF", "EMPTY_RETURN", "EMPTY_PICKUP")
# The visit a move serves (resolvers.gate.MOVE_DIRECTION); an empty pickup names no box yet.
MOVE_DIRECTIONS = {"IMPORT_PICKUP": "IMPORT", "EMPTY_RETURN": "IMPORT", "EXPORT_DROPOFF": "EXPORT"}
REFERENCE = re.compile(r"[A-Z0-9-]{4,35}")
PLATE = re.compile(r"[A-Z0-9 -]{2,15}")
NOT_YOURS = "names nothing you may book or cancel"

SELECT_TERMINAL = "SELECT 1 FROM vessel.terminal WHERE unlocode = $1 AND smdg_code = $2"
SELECT_VISIT = """
SELECT 1 FROM cargo.container_visit cv
WHERE cv.equipment_reference = $1 AND cv.unlocode = $2 AND cv.smdg_code = $3
  AND cv.direction = $4
LIMIT 1
"""
SELECT_BY_REFERENCE = f"""
SELECT {APPOINTMENT_COLUMNS}, g.slot_start FROM gate.appointment AS g
WHERE g.appointment_reference = $1
"""
LOCK_REFERENCE = "SELECT pg_advisory_xact_lock(hashtext('gate.appointment'), hashtext($1))"
ENSURE_SLOT = """
INSERT INTO gate.appointment_slot (unlocode, smdg_code, slot_start, capacity, booked)
SELECT $1, $2, $3, $4, count(*) FROM gate.appointment a
WHERE a.unlocode = $1 AND a.smdg_code = $2 AND a.status IN ('SCHEDULED', 'ARRIVED')
  AND a.window_start >= $3::timestamptz AND a.window_start < $3::timestamptz + interval '1 hour'
ON CONFLICT (unlocode, smdg_code, slot_start) DO NOTHING
"""
TAKE_PLACE = """
UPDATE gate.appointment_slot s SET booked = s.booked + 1
WHERE s.unlocode = $1 AND s.smdg_code = $2 AND s.slot_start = $3 AND s.booked < s.capacity
RETURNING s.capacity - s.booked AS places_left
"""
GIVE_PLACE_BACK = """
UPDATE gate.appointment_slot s SET booked = s.booked - 1
WHERE s.unlocode = $1 AND s.smdg_code = $2 AND s.slot_start = $3 AND s.booked > 0
"""
INSERT_APPOINTMENT = f"""
INSERT INTO gate.appointment AS g
    (appointment_reference, trucker_scac, unlocode, smdg_code, equipment_reference, move_type,
     window_start, window_end, status, truck_license_plate, created_at, slot_start)
VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $7::timestamptz + interval '1 hour',
        'SCHEDULED', $8, now(), $7::timestamptz)
RETURNING {APPOINTMENT_COLUMNS}, g.slot_start
"""
CANCEL = f"""
UPDATE gate.appointment AS g SET status = 'CANCELLED'
WHERE g.appointment_reference = $1 AND g.trucker_scac = $2 AND g.status = 'SCHEDULED'
RETURNING {APPOINTMENT_COLUMNS}, g.slot_start
"""


@dataclass(frozen=True, slots=True)
class Booking:
    """An appointment to book, validated at the edge."""

    unlocode: str
    smdg_code: str
    slot_start: datetime.datetime
    move_type: str
    container_number: str | None
    truck_license_plate: str | None
    reference: str

    def same_as(self, row: asyncpg.Record, trucker: str) -> bool:
        """Whether a stored appointment is this booking (a retry)."""
        return (
            row["trucker_scac"],
            row["unlocode"],
            row["smdg_code"],
            row["window_start"],
            row["move_type"],
            row["equipment_reference"],
        ) == (
            trucker,
            self.unlocode,
            self.smdg_code,
            self.slot_start,
            self.move_type,
            self.container_number,
        )


def slot_start(value: datetime.datetime, now: datetime.datetime) -> datetime.datetime:
    if value.tzinfo is None:
        raise Invalid("slotStart", "needs a UTC offset")
    if not now <= value <= now + BOOKING_HORIZON:
        raise Invalid("slotStart", "must be within the next 30 days")
    start = value.astimezone(datetime.UTC)  # on the hour in UTC (not 10:00+05:30)
    if (start.minute, start.second, start.microsecond) != (0, 0, 0):
        raise Invalid("slotStart", "slots start on the hour (UTC)")
    return start


def checked(pattern: re.Pattern[str], value: str | None, field: str, what: str) -> str | None:
    if value is None:
        return None
    if pattern.fullmatch(value) is None:
        raise Invalid(field, f"{value[:40]!r} is not {what}")
    return value


def container(move_type: str, number: str | None) -> str | None:
    if number is None:
        if move_type in MOVE_DIRECTIONS:
            raise Invalid("containerNumber", f"is required for {move_type}")
        return None
    try:
        return identifiers.container_number(number, "containerNumber")
    except identifiers.IdentifierError as error:
        raise Invalid(error.field, error.message) from None


def booking(
    terminal: tuple[str, str],
    start: datetime.datetime,
    move_type: str,
    number: str | None,
    plate: str | None,
    reference: str | None,
    now: datetime.datetime,
) -> Booking:
    """A booking from its fields; Invalid names the one at fault."""
    if move_type not in MOVE_TYPES:
        raise Invalid("moveType", f"one of {', '.join(MOVE_TYPES)}")
    return Booking(
        unlocode=terminal[0],
        smdg_code=terminal[1],
        slot_start=slot_start(start, now),
        move_type=move_type,
        container_number=container(move_type, number),
        truck_license_plate=checked(PLATE, plate, "truckLicensePlate", "a licence plate"),
        reference=checked(REFERENCE, reference, "appointmentReference", "a reference")
        or f"HG-{uuid.uuid4().hex[:12].upper()}",
    )


async def gate_write(
    pools: SourcePools,
    principal: Principal,
    act: Act,
    mutation: str,
    reference: str,
    operation: str,
    audit: Callable[[AuditRecord], None],
) -> Written:
    """`act` in one transaction of the gate source, audited under its reference."""
    details = {"reference": reference}
    return await in_transaction(
        pools, "gate", principal, act, mutation=mutation, details=details,
        operation=operation, audit=audit,
    )  # fmt: skip


def refused(code: Refusal, field: str, reason: str = NOT_YOURS) -> Written:
    return writes.refused(code, field, reason)


def trucker(principal: Principal) -> str | None:
    """A trucker books and cancels its own appointments: its SCAC; nobody else's."""
    if principal.kind is OrganizationKind.TRUCKER and principal.scac:
        return principal.scac
    return None


async def served_visit(pools: SourcePools, request: Booking) -> bool:
    """Whether the box has a visit at that terminal the move serves (cargo source)."""
    direction = MOVE_DIRECTIONS.get(request.move_type)
    if direction is None or request.container_number is None:
        return True
    found = await pools["cargo"].fetchval(
        SELECT_VISIT, request.container_number, request.unlocode, request.smdg_code, direction
    )
    return found is not None


async def prerequisites(pools: SourcePools, request: Booking) -> Written | None:
    """What the gate source cannot check itself: the terminal and the box exist."""
    known = await pools["vessel"].fetchval(SELECT_TERMINAL, request.unlocode, request.smdg_code)
    if known is None:
        return refused(Refusal.NOT_FOUND, "terminal")
    if not await served_visit(pools, request):
        return refused(Refusal.NOT_FOUND, "containerNumber")
    return None


async def book_in(connection: Connection, request: Booking, scac: str) -> Written:
    # Two sends of one booking at once: the second waits here, then finds the first's row.
    await connection.execute(LOCK_REFERENCE, request.reference)
    stored = await connection.fetchrow(SELECT_BY_REFERENCE, request.reference)
    if stored is not None:
        if request.same_as(stored, scac):
            return Written.of(Outcome.DUPLICATE, stored)
        return refused(Refusal.CONFLICT, "appointmentReference", "this reference is taken")
    slot = (request.unlocode, request.smdg_code, request.slot_start)
    await connection.execute(ENSURE_SLOT, *slot, DEFAULT_SLOT_CAPACITY)
    if await connection.fetchrow(TAKE_PLACE, *slot) is None:
        return refused(Refusal.CONFLICT, "slotStart", "the slot is full")
    row = await connection.fetchrow(
        INSERT_APPOINTMENT,
        request.reference,
        scac,
        request.unlocode,
        request.smdg_code,
        request.container_number,
        request.move_type,
        request.slot_start,
        request.truck_license_plate,
    )
    return Written.of(Outcome.ACCEPTED, row)


async def cancel_in(connection: Connection, reference: str, scac: str) -> Written:
    row = await connection.fetchrow(CANCEL, reference, scac)
    if row is not None:
        # The demo's own appointments (no slot) count in the slot of their hour, if one exists.
        slot = row["slot_start"] or row["window_start"].astimezone(datetime.UTC).replace(
            minute=0, second=0, microsecond=0
        )
        await connection.execute(GIVE_PLACE_BACK, row["unlocode"], row["smdg_code"], slot)
        return Written.of(Outcome.ACCEPTED, row)
    stored = await connection.fetchrow(SELECT_BY_REFERENCE, reference)
    mine = stored is not None and stored["trucker_scac"] == scac
    if mine and stored is not None and stored["status"] == "CANCELLED":
        return Written.of(Outcome.DUPLICATE, stored)
    if mine:
        return refused(
            Refusal.CONFLICT, "appointmentReference", "only a SCHEDULED one is cancelled"
        )
    return refused(Refusal.NOT_FOUND, "appointmentReference")


async def book_appointment(
    pools: SourcePools,
    principal: Principal,
    request: Booking,
    *,
    operation: str,
    audit: Callable[[AuditRecord], None],
) -> Written:
    """Book a place of the slot for the calling trucker."""
    scac = trucker(principal)
    failed = refused(Refusal.NOT_FOUND, "terminal") if scac is None else None
    failed = failed or await prerequisites(pools, request)

    async def act(connection: Connection) -> Written:
        return failed or await book_in(connection, request, scac or "")

    return await gate_write(
        pools, principal, act, "bookAppointment", request.reference, operation, audit
    )


async def cancel_appointment(
    pools: SourcePools,
    principal: Principal,
    reference: str,
    *,
    operation: str,
    audit: Callable[[AuditRecord], None],
) -> Written:
    """Cancel the calling trucker's scheduled appointment; its place goes back to the slot."""
    scac = trucker(principal)

    async def act(connection: Connection) -> Written:
        if scac is None:
            return refused(Refusal.NOT_FOUND, "appointmentReference")
        return await cancel_in(connection, reference, scac)

    return await gate_write(pools, principal, act, "cancelAppointment", reference, operation, audit)


# --- Gate moves: terminals record them at their gates ---------------------------------------

LANE = re.compile(r"[A-Z0-9 -]{1,10}")
CLOCK_SKEW = datetime.timedelta(minutes=5)
SELECT_MOVE = f"""
SELECT {TRANSACTION_COLUMNS}, g.transaction_reference FROM gate.gate_transaction AS g
WHERE g.transaction_reference = $1
FOR UPDATE
"""
SELECT_APPOINTMENT_AT = """
SELECT a.id, a.trucker_scac FROM gate.appointment a
WHERE a.appointment_reference = $1 AND a.unlocode = $2 AND a.smdg_code = $3
FOR UPDATE
"""
INSERT_MOVE = f"""
INSERT INTO gate.gate_transaction AS g
    (transaction_reference, appointment_id, trucker_scac, unlocode, smdg_code, lane,
     equipment_reference, move_type, gate_in_at, gate_out_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
RETURNING {TRANSACTION_COLUMNS}, g.transaction_reference
"""
GATE_OUT = f"""
UPDATE gate.gate_transaction AS g SET gate_out_at = $2
WHERE g.id = $1 AND g.gate_out_at IS NULL
RETURNING {TRANSACTION_COLUMNS}, g.transaction_reference
"""
# The appointment follows the truck: in at the gate, done when it leaves.
APPOINTMENT_FOLLOWS = """
UPDATE gate.appointment SET status = $2 WHERE id = $1 AND status IN ('SCHEDULED', 'ARRIVED')
"""


@dataclass(frozen=True, slots=True)
class GateMove:
    """A truck's move through a terminal's gate, validated at the edge."""

    reference: str
    lane: str
    trucker_scac: str
    move_type: str
    container_number: str | None
    appointment_reference: str | None
    gate_in_at: datetime.datetime
    gate_out_at: datetime.datetime | None

    def same_as(self, row: asyncpg.Record) -> bool:
        """Whether a stored move is this one (its gate-out aside)."""
        names = ("lane", "trucker_scac", "move_type", "equipment_reference", "gate_in_at")
        given = (self.lane, self.trucker_scac, self.move_type)
        return tuple(row[n] for n in names) == (*given, self.container_number, self.gate_in_at)


def instant(value: datetime.datetime, field: str, now: datetime.datetime) -> datetime.datetime:
    if value.tzinfo is None:
        raise Invalid(field, "needs a UTC offset")
    if value > now + CLOCK_SKEW:
        raise Invalid(field, "is in the future")
    if not in_range(value):
        raise Invalid(field, OUT_OF_RANGE)
    return value


def gate_move(
    reference: str,
    lane: str,
    trucker_scac: str,
    move_type: str,
    number: str | None,
    appointment_reference: str | None,
    times: tuple[datetime.datetime, datetime.datetime | None],
    now: datetime.datetime,
) -> GateMove:
    """A gate move from its fields; Invalid names the one at fault."""
    if move_type not in MOVE_TYPES:
        raise Invalid("moveType", f"one of {', '.join(MOVE_TYPES)}")
    try:
        scac = identifiers.scac(trucker_scac, "truckerScac")
    except identifiers.IdentifierError as error:
        raise Invalid(error.field, error.message) from None
    gate_in = instant(times[0], "gateInAt", now)
    gate_out = None if times[1] is None else instant(times[1], "gateOutAt", now)
    if gate_out is not None and gate_out <= gate_in:
        raise Invalid("gateOutAt", "must be after gateInAt")
    return GateMove(
        reference=checked(REFERENCE, reference, "transactionReference", "a reference") or "",
        lane=checked(LANE, lane, "lane", "a gate lane") or "",
        trucker_scac=scac,
        move_type=move_type,
        container_number=container(move_type, number),
        appointment_reference=checked(
            REFERENCE, appointment_reference, "appointmentReference", "a reference"
        ),
        gate_in_at=gate_in,
        gate_out_at=gate_out,
    )


def terminal_of(principal: Principal) -> tuple[str, str] | None:
    """A terminal records moves at its own gates only."""
    terminal = (principal.terminal_unlocode, principal.terminal_smdg_code)
    if principal.kind is OrganizationKind.TERMINAL and terminal[0] and terminal[1]:
        return terminal[0], terminal[1]
    return None


async def record_in(connection: Connection, move: GateMove, terminal: tuple[str, str]) -> Written:
    stored = await connection.fetchrow(SELECT_MOVE, move.reference)
    if stored is not None:
        return await again(connection, move, terminal, stored)
    appointment_id = None
    if move.appointment_reference is not None:
        booked = await connection.fetchrow(
            SELECT_APPOINTMENT_AT, move.appointment_reference, *terminal
        )
        if booked is None or booked["trucker_scac"] != move.trucker_scac:
            return refused(Refusal.NOT_FOUND, "appointmentReference")
        appointment_id = booked["id"]
    row = await stored_row(
        connection,
        INSERT_MOVE,
        move.reference,
        appointment_id,
        move.trucker_scac,
        *terminal,
        move.lane,
        move.container_number,
        move.move_type,
        move.gate_in_at,
        move.gate_out_at,
    )
    await follow(connection, row)
    return Written.of(Outcome.ACCEPTED, row)


async def again(
    connection: Connection, move: GateMove, terminal: tuple[str, str], stored: asyncpg.Record
) -> Written:
    """A reference recorded before: the truck leaving, a duplicate, or a conflict."""
    if (stored["unlocode"], stored["smdg_code"]) != terminal or not move.same_as(stored):
        return refused(Refusal.CONFLICT, "transactionReference", "this reference is taken")
    if move.gate_out_at is None or move.gate_out_at == stored["gate_out_at"]:
        return Written.of(Outcome.DUPLICATE, stored)
    if stored["gate_out_at"] is not None:
        return refused(Refusal.CONFLICT, "gateOutAt", "the truck left at another time")
    # Locked by SELECT_MOVE: no one else can have set the gate-out since.
    row = await stored_row(connection, GATE_OUT, stored["id"], move.gate_out_at)
    await follow(connection, row)
    return Written.of(Outcome.ACCEPTED, row)


async def stored_row(connection: Connection, sql: str, *args: object) -> asyncpg.Record:
    """The row a RETURNING statement that always writes one gave back."""
    row = await connection.fetchrow(sql, *args)
    assert row is not None
    return row


async def follow(connection: Connection, row: asyncpg.Record) -> None:
    """What a recorded move changes besides itself: its appointment, the change log."""
    if row["appointment_id"] is not None:
        status = "ARRIVED" if row["gate_out_at"] is None else "COMPLETED"
        await connection.execute(APPOINTMENT_FOLLOWS, row["appointment_id"], status)
    await append_changes(connection, "gate", [row["id"]])


async def record_gate_move(
    pools: SourcePools,
    principal: Principal,
    move: GateMove,
    *,
    operation: str,
    audit: Callable[[AuditRecord], None],
) -> Written:
    """Record a gate-in (and gate-out, at once or later) at the calling terminal's gate."""
    terminal = terminal_of(principal)

    async def act(connection: Connection) -> Written:
        if terminal is None:
            return refused(Refusal.NOT_FOUND, "transactionReference")
        return await record_in(connection, move, terminal)

    return await gate_write(
        pools, principal, act, "recordGateTransaction", move.reference, operation, audit
    )


# --- Empty-return rules: a terminal says where it takes a line's empties ---------------------

RULE_COLUMNS = """
    r.id, r.unlocode, r.smdg_code, r.carrier_scac, r.iso_equipment_code, r.accepting,
    r.valid_from, r.valid_to, r.alternate_smdg_code, r.remark"""
# Set again with the same start, a rule is replaced; with nothing changed, it stays as it was.
UPSERT_RULE = f"""
INSERT INTO gate.empty_return_rule AS r
    (unlocode, smdg_code, carrier_scac, iso_equipment_code, accepting, valid_from, valid_to,
     alternate_smdg_code, remark)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (unlocode, smdg_code, carrier_scac, iso_equipment_code, valid_from) DO UPDATE
SET accepting = excluded.accepting, valid_to = excluded.valid_to,
    alternate_smdg_code = excluded.alternate_smdg_code, remark = excluded.remark
WHERE (r.accepting, r.valid_to, r.alternate_smdg_code, r.remark)
      IS DISTINCT FROM (excluded.accepting, excluded.valid_to, excluded.alternate_smdg_code,
                        excluded.remark)
RETURNING {RULE_COLUMNS}
"""
SELECT_RULE = f"""
SELECT {RULE_COLUMNS} FROM gate.empty_return_rule AS r
WHERE r.unlocode = $1 AND r.smdg_code = $2 AND r.carrier_scac = $3
  AND r.iso_equipment_code = $4 AND r.valid_from = $5
"""


@dataclass(frozen=True, slots=True)
class ReturnRule:
    carrier_scac: str
    iso_equipment_code: str
    accepting: bool
    valid_from: datetime.datetime
    valid_to: datetime.datetime
    alternate_smdg_code: str | None
    remark: str | None


def return_rule(
    carrier_scac: str,
    iso_code: str,
    accepting: bool,
    valid: tuple[datetime.datetime, datetime.datetime],
    alternate: str | None,
    remark: str | None,
) -> ReturnRule:
    """An empty-return rule from its fields; Invalid names the one at fault."""
    try:
        scac = identifiers.scac(carrier_scac, "carrierScac")
        iso = identifiers.iso_size_type(iso_code, "isoEquipmentCode")
    except identifiers.IdentifierError as error:
        raise Invalid(error.field, error.message) from None
    start, end = valid
    for value, name in ((start, "validFrom"), (end, "validTo")):
        if value.tzinfo is None or not in_range(value):
            raise Invalid(name, f"needs a UTC offset and {OUT_OF_RANGE}")
    if end <= start:
        raise Invalid("validTo", "must be after validFrom")
    if remark is not None and not 0 < len(remark) <= 500:
        raise Invalid("remark", "1 to 500 characters")
    return ReturnRule(
        scac,
        iso,
        accepting,
        start,
        end,
        checked(re.compile(r"[A-Z0-9]{1,8}"), alternate, "alternateSmdgCode", "an SMDG code"),
        remark,
    )


async def set_rule_in(
    connection: Connection, rule: ReturnRule, terminal: tuple[str, str]
) -> Written:
    key = (*terminal, rule.carrier_scac, rule.iso_equipment_code, rule.valid_from)
    row = await connection.fetchrow(
        UPSERT_RULE, *key[:4], rule.accepting, rule.valid_from, rule.valid_to,
        rule.alternate_smdg_code, rule.remark,
    )  # fmt: skip
    if row is not None:
        return Written.of(Outcome.ACCEPTED, row)
    return Written.of(Outcome.DUPLICATE, await connection.fetchrow(SELECT_RULE, *key))


async def set_empty_return_rule(
    pools: SourcePools,
    principal: Principal,
    rule: ReturnRule,
    *,
    operation: str,
    audit: Callable[[AuditRecord], None],
) -> Written:
    """Set where the calling terminal takes a line's empties of a type, for a time."""
    terminal = terminal_of(principal)
    label = f"{rule.carrier_scac}/{rule.iso_equipment_code}/{rule.valid_from.isoformat()}"

    async def act(connection: Connection) -> Written:
        if terminal is None:
            return refused(Refusal.NOT_FOUND, "carrierScac")
        return await set_rule_in(connection, rule, terminal)

    return await gate_write(pools, principal, act, "setEmptyReturnRule", label, operation, audit)
