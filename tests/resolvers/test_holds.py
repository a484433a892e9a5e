"""Holds: who may place and release which, idempotent placing, availability follows."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import asyncpg
import pytest

from resolvers.community import AuditRecord
from resolvers.holds import HoldRequest, write_hold
from resolvers.principal import OrganizationKind, Principal
from resolvers.sources import SOURCES, Pool, SourcePools
from resolvers.writes import Invalid, Outcome, Refusal, Written
from tests.helpers import carrier, principal, terminal

MSCU = carrier("MSCU")
COSU = carrier("COSU")
CUSTOMS = principal(OrganizationKind.CUSTOMS, "CBP")
AVAILABLE_VISIT = """
SELECT id, equipment_reference, unlocode, smdg_code FROM cargo.container_visit cv
WHERE carrier_scac = 'MSCU' AND available_for_pickup
  AND NOT EXISTS (SELECT 1 FROM cargo.container_visit later
                  WHERE later.equipment_reference = cv.equipment_reference
                    AND (later.updated_at, later.id) > (cv.updated_at, cv.id))
ORDER BY equipment_reference LIMIT 1
"""
FINGERPRINT = """
SELECT (SELECT md5(string_agg(h::text, '' ORDER BY h.id)) FROM cargo.hold h),
       (SELECT md5(string_agg(cv::text, '' ORDER BY cv.id)) FROM cargo.container_visit cv)
"""


@pytest.fixture
async def pool(writable_url: str) -> AsyncIterator[Pool]:
    pool: Pool = await asyncpg.create_pool(writable_url, min_size=1, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture
def pools(pool: Pool) -> SourcePools:
    return SourcePools(dict.fromkeys(SOURCES, pool))


@pytest.fixture
async def visit(pool: Pool) -> asyncpg.Record:
    row = await pool.fetchrow(AVAILABLE_VISIT)
    assert row is not None
    return row


async def hold(
    pools: SourcePools,
    who: Principal,
    request: HoldRequest,
    mutation: str = "placeHold",
    audit: list[AuditRecord] | None = None,
) -> Written:
    handed_over = [] if audit is None else audit
    return await write_hold(
        pools, who, request, mutation=mutation, operation="test", audit=handed_over.append
    )


async def available(pool: Pool, visit_id: int) -> bool:
    return bool(
        await pool.fetchval(
            "SELECT available_for_pickup FROM cargo.container_visit WHERE id = $1", visit_id
        )
    )


async def test_a_freight_hold_stops_availability_until_released(
    pool: Pool, pools: SourcePools, visit: asyncpg.Record
) -> None:
    request = HoldRequest.of(visit["equipment_reference"], "FREIGHT", "FREIGHT_UNPAID", "Pay up")
    placed = await hold(pools, MSCU, request)
    assert (placed.outcome, len(placed.rows)) == (Outcome.ACCEPTED, 1)
    row = placed.rows[0]
    assert (row["container_visit_id"], row["hold_type"], row["reason_code"], row["remark"]) == (
        visit["id"],
        "FREIGHT",
        "FREIGHT_UNPAID",
        "Pay up",
    )
    assert (row["placed_by_code"], row["released_at"]) == ("MSCU", None)
    assert not await available(pool, visit["id"])
    again = await hold(pools, MSCU, request)
    assert (again.outcome, [h["id"] for h in again.rows]) == (Outcome.DUPLICATE, [row["id"]])
    released = await hold(pools, MSCU, request, "releaseHold")
    assert released.outcome is Outcome.ACCEPTED
    assert [(h["id"], h["released_by_code"]) for h in released.rows] == [(row["id"], "MSCU")]
    assert await available(pool, visit["id"])
    twice = await hold(pools, MSCU, request, "releaseHold")
    assert (twice.outcome, twice.code, twice.field, twice.reason) == (
        Outcome.REJECTED,
        Refusal.NOT_FOUND,
        "reasonCode",
        "no such hold stands",
    )


async def test_another_carriers_box_is_not_found_changes_nothing_and_is_audited(
    pool: Pool, pools: SourcePools, visit: asyncpg.Record
) -> None:
    before = await pool.fetchrow(FINGERPRINT)
    audit: list[AuditRecord] = []
    request = HoldRequest.of(visit["equipment_reference"], "FREIGHT", "CHARGES_DUE")
    refused = await hold(pools, COSU, request, audit=audit)
    assert (refused.outcome, refused.code, refused.field, refused.rows) == (
        Outcome.REJECTED,
        Refusal.NOT_FOUND,
        "containerNumber",
        [],
    )
    assert await pool.fetchrow(FINGERPRINT) == before
    [row] = await pool.fetch(
        "SELECT organization_code, fields, denials::text, writes::text FROM community.audit_event"
        " WHERE writes IS NOT NULL"
    )
    assert (row["organization_code"], row["fields"], row["denials"]) == (
        "COSU",
        ["Mutation.placeHold"],
        '{"Mutation.placeHold": 1}',
    )
    assert json.loads(row["writes"]) == {
        "mutation": "placeHold",
        "outcome": "REJECTED",
        "container": visit["equipment_reference"],
        "type": "FREIGHT",
        "reasonCode": "CHARGES_DUE",
        "code": "NOT_FOUND",
    }
    assert audit == []  # written in the transaction: community shares cargo's database


@pytest.mark.parametrize(
    ("hold_type", "allowed", "refused"),
    [
        ("CUSTOMS", ("customs", "port authority"), ("carrier", "terminal", "trucker")),
        ("FREIGHT", ("carrier",), ("customs", "terminal", "other carrier")),
        ("TERMINAL", ("terminal",), ("other terminal", "carrier", "customs")),
    ],
)
async def test_who_may_hold_what(
    pools: SourcePools,
    visit: asyncpg.Record,
    hold_type: str,
    allowed: tuple[str, ...],
    refused: tuple[str, ...],
) -> None:
    own_terminal = terminal(visit["unlocode"], visit["smdg_code"])
    other_terminal = terminal("USLAX", "APMT" if visit["smdg_code"] != "APMT" else "TRAP")
    parties = {
        "customs": CUSTOMS,
        "port authority": principal(OrganizationKind.PORT_AUTHORITY, "POLA"),
        "carrier": MSCU,
        "other carrier": COSU,
        "terminal": own_terminal,
        "other terminal": other_terminal,
        "trucker": principal(OrganizationKind.TRUCKER, "BYLC", scac="BYLC"),
    }
    for name in refused:
        request = HoldRequest.of(visit["equipment_reference"], hold_type, "CHECK")
        done = await hold(pools, parties[name], request)
        assert (name, done.code) == (name, Refusal.NOT_FOUND)
    for name in allowed:
        request = HoldRequest.of(visit["equipment_reference"], hold_type, f"BY_{name[:4].upper()}")
        done = await hold(pools, parties[name], request)
        assert (name, done.outcome) == (name, Outcome.ACCEPTED)


@pytest.mark.parametrize(
    ("number", "reason_code", "remark", "field", "reason"),
    [
        (
            "MSCU1234567",
            "X1",
            None,
            "containerNumber",
            "MSCU1234567 fails the ISO 6346 check digit (expected 6)",
        ),
        (
            "MSCU1234566",
            "no spaces",
            None,
            "reasonCode",
            "'no spaces' is not a reason code (A-Z, 0-9, _)",
        ),
        ("MSCU1234566", "OK", "x" * 501, "remark", "1 to 500 characters"),
    ],
)
def test_a_hold_is_checked_at_the_edge(
    number: str, reason_code: str, remark: str | None, field: str, reason: str
) -> None:
    with pytest.raises(Invalid) as caught:
        HoldRequest.of(number, "FREIGHT", reason_code, remark)
    assert (caught.value.field, caught.value.reason) == (field, reason)
