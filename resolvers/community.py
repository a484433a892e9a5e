"""The community source: partner organizations and the audit trail."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import partial

import asyncpg
from aiodataloader import DataLoader

from resolvers.principal import OrganizationKind
from resolvers.sources import Connection, Pool

SELECT_ORGANIZATION = """
SELECT code, name, kind, scac, terminal_unlocode, terminal_smdg_code,
       suspended_at IS NOT NULL AS suspended, rate_limit_per_minute
FROM community.organization
WHERE code = $1
"""
SELECT_FIRST_OF_KIND = """
SELECT code, name, kind, scac, terminal_unlocode, terminal_smdg_code,
       suspended_at IS NOT NULL AS suspended, rate_limit_per_minute
FROM community.organization
WHERE kind = $1
ORDER BY code
LIMIT 1
"""


@dataclass(frozen=True, slots=True)
class OrgRecord:
    code: str
    name: str
    kind: OrganizationKind
    scac: str | None
    terminal_unlocode: str | None
    terminal_smdg_code: str | None
    suspended: bool = False  # refused whatever its tokens say
    rate_limit_per_minute: int | None = None  # None: HARBORGRAPH_RATE_LIMIT_PER_MINUTE


def _record(row: object) -> OrgRecord:
    r = dict(row)  # type: ignore[call-overload]
    return OrgRecord(
        code=r["code"],
        name=r["name"],
        kind=OrganizationKind(r["kind"]),
        scac=r["scac"],
        terminal_unlocode=r["terminal_unlocode"],
        terminal_smdg_code=r["terminal_smdg_code"],
        suspended=r["suspended"],
        rate_limit_per_minute=r["rate_limit_per_minute"],
    )


async def organization_by_code(pool: Pool, code: str) -> OrgRecord | None:
    row = await pool.fetchrow(SELECT_ORGANIZATION, code)
    return None if row is None else _record(row)


async def first_organization_of_kind(pool: Pool, kind: OrganizationKind) -> OrgRecord | None:
    row = await pool.fetchrow(SELECT_FIRST_OF_KIND, kind.value)
    return None if row is None else _record(row)


SELECT_ORGANIZATIONS = """
SELECT code, name, kind, scac, terminal_unlocode, terminal_smdg_code,
       suspended_at IS NOT NULL AS suspended, rate_limit_per_minute
FROM community.organization
WHERE code = ANY($1::text[])
"""
INSERT_AUDIT_EVENT = """
INSERT INTO community.audit_event
    (occurred_at, organization_code, subject, operation_name, fields, rows_counted, denials,
     writes)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb)
"""
SELECT_AUDIT_PAGE = """
SELECT id, occurred_at, organization_code, subject, operation_name, fields, rows_counted,
       denials::text AS denials
FROM community.audit_event
WHERE ($1::timestamptz IS NULL OR (occurred_at, id) < ($1::timestamptz, $2::bigint))
ORDER BY occurred_at DESC, id DESC
LIMIT $3
"""


async def organizations_by_code(pool: Pool, codes: list[str]) -> list[OrgRecord | None]:
    rows = await pool.fetch(SELECT_ORGANIZATIONS, codes)
    found = {r["code"]: _record(r) for r in rows}
    return [found.get(code) for code in codes]


class CommunityLoaders:
    def __init__(self, pool: Pool) -> None:
        self.organization_by_code: DataLoader[str, OrgRecord | None] = DataLoader(
            partial(organizations_by_code, pool)
        )


@dataclass(frozen=True, slots=True)
class AuditRecord:
    occurred_at: datetime.datetime
    organization_code: str | None
    subject: str | None
    operation_name: str | None
    fields: list[str]
    rows_counted: int
    denials: str  # JSON array
    writes: str | None = None  # JSON object: what a write did (None for a read)


async def insert_audit_events(pool: Pool | Connection, records: list[AuditRecord]) -> None:
    rows = [
        (
            r.occurred_at,
            r.organization_code,
            r.subject,
            r.operation_name,
            r.fields,
            r.rows_counted,
            r.denials,
            r.writes,
        )
        for r in records
    ]
    await pool.executemany(INSERT_AUDIT_EVENT, rows)


async def audit_page(
    pool: Pool, size: int, after: tuple[datetime.datetime, int] | None
) -> list[asyncpg.Record]:
    at, last_id = after if after is not None else (None, None)
    return await pool.fetch(SELECT_AUDIT_PAGE, at, last_id, size + 1)
