"""Holds: customs and the port authority place and release customs holds, a carrier freight
holds on its own containers, a terminal terminal holds at its terminal.

The write rule is a row rule on the container's visits, chosen by the caller and the hold's
type; a box outside it is "not found", as one that does not exist. Each write is one
transaction: the visit is locked, the hold written, the visit's availability derived again
(resolvers.cargo_writes.UPDATE_VISIT_STATE) and the audit row written. Placing is idempotent:
one open hold per visit, type and reason (cargo migration 0004), so the same hold placed
again is a duplicate that changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from resolvers import identifiers
from resolvers.cargo import CARRIER_RULE, FREE_DAYS, TERMINAL_RULE
from resolvers.cargo_writes import STATUS_AFTER, UPDATE_VISIT_STATE
from resolvers.community import AuditRecord
from resolvers.principal import OrganizationKind, Principal
from resolvers.rules import SEES_ALL, SEES_NOTHING, Rule
from resolvers.sources import Connection, SourcePools
from resolvers.writes import Invalid, Outcome, Refusal, Written, in_transaction, refused

HOLD_TYPES = ("CUSTOMS", "FREIGHT", "TERMINAL")
REASON_CODE = re.compile(r"[A-Z0-9_]{2,32}")
MAX_REMARK = 500
NOT_YOURS = "names no container you may hold or release this way"

HOLD_COLUMNS = """
    h.id, h.container_visit_id, h.hold_type, h.reason_code, h.remark, h.placed_by_code,
    h.placed_at, h.released_by_code, h.released_at"""

# The container's latest visit the rule lets the caller hold, locked for the transaction.
SELECT_VISIT = """
SELECT cv.id FROM cargo.container_visit cv
WHERE cv.equipment_reference = $1 AND /*rule*/
ORDER BY cv.updated_at DESC, cv.id DESC
LIMIT 1
FOR UPDATE
"""
INSERT_HOLD = f"""
INSERT INTO cargo.hold AS h
    (container_visit_id, hold_type, reason_code, remark, placed_by_code, placed_at)
VALUES ($1, $2, $3, $4, $5, now())
ON CONFLICT (container_visit_id, hold_type, reason_code) WHERE released_at IS NULL DO NOTHING
RETURNING {HOLD_COLUMNS}
"""
SELECT_OPEN_HOLD = f"""
SELECT {HOLD_COLUMNS} FROM cargo.hold h
WHERE h.container_visit_id = $1 AND h.hold_type = $2 AND h.reason_code = $3
  AND h.released_at IS NULL
"""
# A release never dates before its placing (a hold placed with a clock ahead of ours).
RELEASE_HOLDS = f"""
UPDATE cargo.hold h
SET released_at = greatest(now(), h.placed_at), released_by_code = $4
WHERE h.container_visit_id = $1 AND h.hold_type = $2 AND h.released_at IS NULL
  AND ($3::text IS NULL OR h.reason_code = $3::text)
RETURNING {HOLD_COLUMNS}
"""


@dataclass(frozen=True, slots=True)
class HoldRequest:
    """A hold to place or release, validated at the edge."""

    container_number: str
    hold_type: str
    reason_code: str | None
    remark: str | None = None

    @classmethod
    def of(
        cls, number: str, hold_type: str, reason_code: str | None, remark: str | None = None
    ) -> HoldRequest:
        try:
            container = identifiers.container_number(number, "containerNumber")
        except identifiers.IdentifierError as error:
            raise Invalid(error.field, error.message) from None
        if hold_type not in HOLD_TYPES:
            raise Invalid("type", f"one of {', '.join(HOLD_TYPES)}")
        if reason_code is not None and not REASON_CODE.fullmatch(reason_code):
            shown = repr(reason_code[:40])
            raise Invalid("reasonCode", f"{shown} is not a reason code (A-Z, 0-9, _)")
        if remark is not None and not 0 < len(remark) <= MAX_REMARK:
            raise Invalid("remark", f"1 to {MAX_REMARK} characters")
        return cls(container, hold_type, reason_code, remark)


def hold_write_rule(principal: Principal, hold_type: str) -> Rule:
    """The visits on which `principal` may place or release holds of `hold_type`."""
    kind = principal.kind
    if hold_type == "CUSTOMS" and kind in (
        OrganizationKind.CUSTOMS,
        OrganizationKind.PORT_AUTHORITY,
    ):
        return SEES_ALL
    if hold_type == "FREIGHT" and kind is OrganizationKind.CARRIER and principal.scac:
        return Rule(CARRIER_RULE, (principal.scac,))
    terminal = (principal.terminal_unlocode, principal.terminal_smdg_code)
    if hold_type == "TERMINAL" and kind is OrganizationKind.TERMINAL and all(terminal):
        return Rule(TERMINAL_RULE, terminal)
    return SEES_NOTHING


async def locked_visit(
    connection: Connection, principal: Principal, request: HoldRequest
) -> int | None:
    sql, args = hold_write_rule(principal, request.hold_type).bind(
        SELECT_VISIT, request.container_number
    )
    visit_id: int | None = await connection.fetchval(sql, *args)
    return visit_id


async def place(connection: Connection, visit_id: int, request: HoldRequest, by: str) -> Written:
    row = await connection.fetchrow(
        INSERT_HOLD, visit_id, request.hold_type, request.reason_code, request.remark, by
    )
    if row is not None:
        return Written.of(Outcome.ACCEPTED, row)
    standing = await connection.fetchrow(
        SELECT_OPEN_HOLD, visit_id, request.hold_type, request.reason_code
    )
    return Written.of(Outcome.DUPLICATE, standing)


async def release(connection: Connection, visit_id: int, request: HoldRequest, by: str) -> Written:
    rows = await connection.fetch(
        RELEASE_HOLDS, visit_id, request.hold_type, request.reason_code, by
    )
    if not rows:
        return not_found("reasonCode" if request.reason_code else "type", "no such hold stands")
    return Written(Outcome.ACCEPTED, list(rows))


def not_found(field: str, reason: str = NOT_YOURS) -> Written:
    return refused(Refusal.NOT_FOUND, field, reason)


async def write_hold(
    pools: SourcePools,
    principal: Principal,
    request: HoldRequest,
    *,
    mutation: str,
    operation: str,
    audit: Callable[[AuditRecord], None],
) -> Written:
    """Place (`mutation` "placeHold") or release ("releaseHold") in one transaction."""
    place_or_release = place if mutation == "placeHold" else release
    by = principal.organization_code or ""

    async def act(connection: Connection) -> Written:
        visit_id = await locked_visit(connection, principal, request)
        if visit_id is None:
            return not_found("containerNumber")
        done = await place_or_release(connection, visit_id, request, by)
        if done.outcome is Outcome.ACCEPTED:
            await connection.execute(UPDATE_VISIT_STATE, [visit_id], STATUS_AFTER, FREE_DAYS)
        return done

    details = {
        "container": request.container_number,
        "type": request.hold_type,
        "reasonCode": request.reason_code,
    }
    return await in_transaction(
        pools,
        "cargo",
        principal,
        act,
        mutation=mutation,
        details=details,
        operation=operation,
        audit=audit,
    )
