"""Vessel writes: JIT 2.0 port call timestamps, by the carrier of the call, the terminal
called at, or the port authority.

The write rule is the read rule of timestamps (resolvers.vessel.timestamp_rule) less customs,
which is no party to a port call's negotiation: a call outside it is "not found". A
timestamp is idempotent by its `timestampID`; the one it answers (`replyToTimestampID`) must
belong to the same port call. An actual berth arrival or departure moves the call's actual
times and status in the same transaction, which also writes the audit row.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from resolvers import writes
from resolvers.changes import append_changes
from resolvers.community import AuditRecord
from resolvers.instants import OUT_OF_RANGE, in_range
from resolvers.principal import OrganizationKind, Principal
from resolvers.rules import SEES_NOTHING, Rule
from resolvers.sources import Connection, SourcePools
from resolvers.vessel import TIMESTAMP_COLUMNS, TIMESTAMP_FROM, timestamp_rule
from resolvers.writes import Invalid, Outcome, Refusal, Written, in_transaction

MAX_REMARK = 500
ROLES = {
    OrganizationKind.CARRIER: "CA",
    OrganizationKind.TERMINAL: "TR",
    OrganizationKind.PORT_AUTHORITY: "ATH",
}
NOT_YOURS = "names no port call you may time"

# The terminal calls of the port call the caller may time (at one terminal, when named).
SELECT_TERMINAL_CALLS = """
SELECT tc.id FROM vessel.terminal_call tc
JOIN vessel.port_call pc ON pc.id = tc.port_call_id
WHERE tc.port_call_id = $1
  AND ($2::text IS NULL OR (tc.unlocode = $2::text AND tc.smdg_code = $3::text))
  AND /*rule*/
ORDER BY tc.sequence
"""
ENSURE_SERVICE = """
INSERT INTO vessel.port_call_service (id, terminal_call_id, service_type) VALUES ($1, $2, $3)
ON CONFLICT (terminal_call_id, service_type) DO NOTHING
"""
SELECT_SERVICE = """
SELECT s.id FROM vessel.port_call_service s WHERE s.terminal_call_id = $1 AND s.service_type = $2
"""
# The timestamp answered: of the same port call, and one the caller may see.
SELECT_IN_CALL = """
SELECT 1 FROM vessel.timestamp t
JOIN vessel.port_call_service s ON s.id = t.port_call_service_id
JOIN vessel.terminal_call tc ON tc.id = s.terminal_call_id
JOIN vessel.port_call pc ON pc.id = tc.port_call_id
WHERE t.id = $1 AND tc.port_call_id = $2 AND /*rule*/
"""
INSERT_TIMESTAMP = """
INSERT INTO vessel.timestamp
    (id, port_call_service_id, classifier, event_type, event_datetime, reply_to_timestamp_id,
     publisher_code, publisher_role, remark, delay_reason_code, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
ON CONFLICT (id) DO NOTHING
RETURNING id
"""
SELECT_SAME = """
SELECT (t.port_call_service_id, t.classifier, t.event_type, t.event_datetime,
        t.reply_to_timestamp_id, t.remark, t.delay_reason_code)
       IS NOT DISTINCT FROM ($2::uuid, $3::text, $4::text, $5::timestamptz, $6::uuid,
                             $7::text, $8::text)
FROM vessel.timestamp t WHERE t.id = $1
"""
SELECT_TIMESTAMP = f"SELECT {TIMESTAMP_COLUMNS} FROM {TIMESTAMP_FROM} WHERE t.id = $1"
# An actual berth arrival at the call's first terminal call, or departure from its last, is
# the call's actual time (a departure only after the arrival, as the table's CHECK has it);
# the berths between move no port call.
ARRIVED = """
UPDATE vessel.port_call SET actual_arrival = $2,
    status = CASE WHEN status IN ('PLANNED', 'ARRIVED') THEN 'AT_BERTH' ELSE status END,
    updated_at = now()
WHERE id = $1 AND (actual_departure IS NULL OR actual_departure > $2)
  AND $3::uuid = (SELECT tc.id FROM vessel.terminal_call tc WHERE tc.port_call_id = $1
                  ORDER BY tc.sequence LIMIT 1)
"""
DEPARTED = """
UPDATE vessel.port_call SET actual_departure = $2, status = 'DEPARTED', updated_at = now()
WHERE id = $1 AND actual_arrival IS NOT NULL AND actual_arrival < $2
  AND $3::uuid = (SELECT tc.id FROM vessel.terminal_call tc WHERE tc.port_call_id = $1
                  ORDER BY tc.sequence DESC LIMIT 1)
"""
CLOCK_SKEW = datetime.timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class TimestampRequest:
    """A JIT 2.0 timestamp, validated at the edge (the enums by GraphQL)."""

    timestamp_id: uuid.UUID
    port_call_id: uuid.UUID
    terminal: tuple[str, str] | None
    service_type: str
    event_type: str
    classifier: str
    event_datetime: datetime.datetime
    reply_to: uuid.UUID | None
    delay_reason_code: str | None
    remark: str | None


def a_uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Invalid(field, f"{value[:40]!r} is not a UUID") from None


def maybe_uuid(value: str | None, field: str) -> uuid.UUID | None:
    return None if value is None else a_uuid(value, field)


def checked_text(value: str | None, field: str, limit: int) -> str | None:
    if value is not None and not 0 < len(value) <= limit:
        raise Invalid(field, f"1 to {limit} characters")
    return value


def when(value: datetime.datetime) -> datetime.datetime:
    if value.tzinfo is None:
        raise Invalid("dateTime", "needs a UTC offset")
    if not in_range(value):
        raise Invalid("dateTime", OUT_OF_RANGE)
    return value


def refused(code: Refusal, field: str, reason: str = NOT_YOURS) -> Written:
    return writes.refused(code, field, reason)


def write_rule(principal: Principal) -> Rule:
    return SEES_NOTHING if principal.kind not in ROLES else timestamp_rule(principal)


@dataclass(slots=True)
class Timing:
    """One timestamp's transaction."""

    connection: Connection
    principal: Principal
    request: TimestampRequest
    terminal_call_id: uuid.UUID | None = None

    async def service(self) -> uuid.UUID | Written:
        """The port call service the timestamp times (made at the terminal call if new)."""
        terminal = self.request.terminal or (None, None)
        sql, args = write_rule(self.principal).bind(
            SELECT_TERMINAL_CALLS, self.request.port_call_id, *terminal
        )
        calls = [r["id"] for r in await self.connection.fetch(sql, *args)]
        if not calls:
            return refused(Refusal.NOT_FOUND, "portCallID")
        if len(calls) > 1:
            reason = "the call has several terminal calls: name the terminal"
            return refused(Refusal.INVALID, "terminal", reason)
        self.terminal_call_id = calls[0]
        await self.connection.execute(
            ENSURE_SERVICE, uuid.uuid4(), calls[0], self.request.service_type
        )
        found: uuid.UUID = await self.connection.fetchval(
            SELECT_SERVICE, calls[0], self.request.service_type
        )
        return found

    async def reply_is_in_call(self) -> bool:
        reply_to = self.request.reply_to
        if reply_to is None:
            return True
        sql, args = timestamp_rule(self.principal).bind(
            SELECT_IN_CALL, reply_to, self.request.port_call_id
        )
        return await self.connection.fetchval(sql, *args) is not None

    async def insert(self, service_id: uuid.UUID) -> Written:
        r = self.request
        content = (service_id, r.classifier, r.event_type, r.event_datetime, r.reply_to)
        publisher = self.principal.organization_code or ""
        # The write rule let no one else this far.
        role = ROLES[self.principal.kind] if self.principal.kind is not None else ""
        inserted = await self.connection.fetchval(
            INSERT_TIMESTAMP,
            r.timestamp_id,
            *content,
            publisher,
            role,
            r.remark,
            r.delay_reason_code,
        )
        stored = await self.connection.fetchrow(SELECT_TIMESTAMP, r.timestamp_id)
        if inserted is not None:
            await self.follow_call()
            await append_changes(self.connection, "vessel", [r.port_call_id])
            return Written.of(Outcome.ACCEPTED, stored)
        same = await self.connection.fetchval(
            SELECT_SAME, r.timestamp_id, *content, r.remark, r.delay_reason_code
        )
        if same:
            return Written.of(Outcome.DUPLICATE, stored)
        reason = "a timestamp with this timestampID is stored with other content"
        return refused(Refusal.CONFLICT, "timestampID", reason)

    async def follow_call(self) -> None:
        r = self.request
        if r.classifier != "ACT" or r.service_type != "BERTH":
            return
        moved = {"ARRI": ARRIVED, "DEPA": DEPARTED}.get(r.event_type)
        if moved is not None:
            await self.connection.execute(
                moved, r.port_call_id, r.event_datetime, self.terminal_call_id
            )

    async def run(self) -> Written:
        r = self.request
        now = datetime.datetime.now(datetime.UTC)
        if r.classifier == "ACT" and r.event_datetime > now + CLOCK_SKEW:
            return refused(Refusal.INVALID, "dateTime", "an actual time cannot lie in the future")
        service = await self.service()
        if isinstance(service, Written):
            return service
        if not await self.reply_is_in_call():
            return refused(
                Refusal.NOT_FOUND, "replyToTimestampID", "names no timestamp of this port call"
            )
        return await self.insert(service)


async def publish_timestamp(
    pools: SourcePools,
    principal: Principal,
    request: TimestampRequest,
    *,
    operation: str,
    audit: Callable[[AuditRecord], None],
) -> Written:
    """One timestamp in one transaction of the vessel source, with its audit row."""

    async def act(connection: Connection) -> Written:
        return await Timing(connection, principal, request).run()

    details = {"timestampID": str(request.timestamp_id), "portCallID": str(request.port_call_id)}
    return await in_transaction(
        pools,
        "vessel",
        principal,
        act,
        mutation="publishPortCallTimestamp",
        details=details,
        operation=operation,
        audit=audit,
    )
