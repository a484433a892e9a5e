"""The security source: TLP-marked advisories, CSOC incidents, blocked intrusion counts.

SQL, the TLP row rule and the security loaders. Advisory queries name the advisory table
`a` and carry the `/*rule*/` slot; incident queries name theirs `i`.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiodataloader import DataLoader

from resolvers.paging import FILTERS_SLOT, LIMIT_SLOT, Cursor, compose, fetch_page, present
from resolvers.principal import Principal
from resolvers.rules import SEES_ALL, SEES_NOTHING, Rule
from resolvers.sources import Pool

Record = asyncpg.Record

SECURITY_READ = "security:read"
SECURITY_RESTRICTED = "security:restricted"
SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")

# --- Row rules -----------------------------------------------------------------------------

# TLP:CLEAR and TLP:GREEN are community-wide; AMBER and RED only for restricted holders.
SHARED_TLP_PREDICATE = "a.tlp IN ('CLEAR', 'GREEN')"


def advisory_rule(principal: Principal) -> Rule:
    """Which advisories a partner sees, by their TLP marking and the partner's scopes."""
    if principal.has(SECURITY_RESTRICTED):
        return SEES_ALL
    if principal.has(SECURITY_READ):
        return Rule(SHARED_TLP_PREDICATE)
    return SEES_NOTHING


def incident_rule(principal: Principal) -> Rule:
    """Incidents are all or nothing: the field rule already demands security:restricted;
    the row rule repeats it so no other path can ever list them."""
    return SEES_ALL if principal.has(SECURITY_RESTRICTED) else SEES_NOTHING


def severities_from(minimum: str | None) -> list[str] | None:
    """The severities at or above `minimum` (None: no severity filter)."""
    if minimum is None:
        return None
    return list(SEVERITIES[SEVERITIES.index(minimum) :])


# --- Advisories ----------------------------------------------------------------------------

ADVISORY_COLUMNS = """
    a.id, a.reference, a.title, a.summary, a.severity, a.tlp, a.affected_systems,
    a.published_by_code, a.published_at, a.expires_at"""

# Newest first; the index advisory_published_idx is (published_at DESC, id).
SELECT_ADVISORIES = f"""
SELECT {ADVISORY_COLUMNS}
FROM security.advisory AS a
WHERE {FILTERS_SLOT} AND /*rule*/
ORDER BY a.published_at DESC, a.id
LIMIT {LIMIT_SLOT}
"""
ADVISORY_CONDITIONS: Mapping[str, str] = {
    "severities": "a.severity = ANY({}::text[])",
    "since": "a.published_at >= {}",
    "unexpired_at": "a.expires_at IS NULL OR a.expires_at > {}",
    "after": "a.published_at < {0}::timestamptz OR (a.published_at = {0} AND a.id > {1}::uuid)",
}
SELECT_ADVISORIES_BY_ID = f"""
SELECT {ADVISORY_COLUMNS}
FROM security.advisory AS a
WHERE a.id = ANY($1::uuid[]) AND /*rule*/
"""
# A terminal's open advisories: linked to it and not expired at $3.
SELECT_OPEN_ADVISORIES_BY_TERMINAL = f"""
SELECT f.unlocode AS facility_unlocode, f.smdg_code AS facility_smdg_code, {ADVISORY_COLUMNS}
FROM unnest($1::text[], $2::text[]) AS k (unlocode, smdg_code)
JOIN security.advisory_facility AS f ON f.unlocode = k.unlocode AND f.smdg_code = k.smdg_code
JOIN security.advisory AS a ON a.id = f.advisory_id
WHERE (a.expires_at IS NULL OR a.expires_at > $3) AND /*rule*/
ORDER BY a.published_at DESC, a.id
"""
# Children of advisories the caller already holds (so already passed the TLP rule).
SELECT_INDICATORS = """
SELECT advisory_id, indicator_type, value
FROM security.indicator
WHERE advisory_id = ANY($1::uuid[])
ORDER BY advisory_id, indicator_type, value
"""
SELECT_FACILITIES = """
SELECT advisory_id, unlocode, smdg_code
FROM security.advisory_facility
WHERE advisory_id = ANY($1::uuid[])
ORDER BY advisory_id, unlocode, smdg_code
"""


@dataclass(frozen=True, slots=True)
class AdvisoryFilter:
    """Validated advisory filters. `unexpired_at` None means expired advisories too."""

    severities: list[str] | None = None
    since: datetime.datetime | None = None
    unexpired_at: datetime.datetime | None = None


def advisory_key(row: Record) -> tuple[Any, ...]:
    return (row["published_at"].isoformat(), str(row["id"]))


async def advisories_page(
    pool: Pool, rule: Rule, f: AdvisoryFilter, size: int, after: Cursor | None
) -> list[Record]:
    chosen = present(
        [
            ("severities", f.severities),
            ("since", f.since),
            ("unexpired_at", f.unexpired_at),
            ("after", after),
        ]
    )
    statement = compose(SELECT_ADVISORIES, ADVISORY_CONDITIONS, chosen, size + 1)
    return await fetch_page(pool, statement, rule)


# --- Incidents -----------------------------------------------------------------------------

SELECT_INCIDENTS = f"""
SELECT i.id, i.reference, i.category, i.severity, i.status, i.summary, i.unlocode,
       i.smdg_code, i.reported_by_code, i.detected_at, i.resolved_at
FROM security.incident AS i
WHERE {FILTERS_SLOT} AND /*rule*/
ORDER BY i.detected_at DESC, i.id
LIMIT {LIMIT_SLOT}
"""
INCIDENT_CONDITIONS: Mapping[str, str] = {
    "status": "i.status = {}",
    "category": "i.category = {}",
    "severities": "i.severity = ANY({}::text[])",
    "since": "i.detected_at >= {}",
    "after": "i.detected_at < {0}::timestamptz OR (i.detected_at = {0} AND i.id > {1}::uuid)",
}


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    status: str | None = None
    category: str | None = None
    severities: list[str] | None = None
    since: datetime.datetime | None = None


def incident_key(row: Record) -> tuple[Any, ...]:
    return (row["detected_at"].isoformat(), str(row["id"]))


async def incidents_page(
    pool: Pool, rule: Rule, f: IncidentFilter, size: int, after: Cursor | None
) -> list[Record]:
    chosen = present(
        [
            ("status", f.status),
            ("category", f.category),
            ("severities", f.severities),
            ("since", f.since),
            ("after", after),
        ]
    )
    statement = compose(SELECT_INCIDENTS, INCIDENT_CONDITIONS, chosen, size + 1)
    return await fetch_page(pool, statement, rule)


# --- Loaders -------------------------------------------------------------------------------

TerminalKey = tuple[str, str]


class SecurityLoaders:
    """One request's security loaders, with the partner's TLP rule fixed at construction.

    `now` is the request's instant: "open" (unexpired) means open at that instant, the same
    for every advisory of the answer.
    """

    def __init__(
        self, pool: Pool, principal: Principal, now: datetime.datetime | None = None
    ) -> None:
        self._pool = pool
        self._principal = principal
        self.now = now or datetime.datetime.now(datetime.UTC)
        self.rule = advisory_rule(principal)
        self.advisory_by_id: DataLoader[uuid.UUID, Record | None] = DataLoader(
            self._advisories_by_id
        )
        self.open_advisories_by_terminal: DataLoader[TerminalKey, list[Record]] = DataLoader(
            self._open_advisories_by_terminal
        )
        self.indicators_by_advisory_id: DataLoader[uuid.UUID, list[Record]] = DataLoader(
            self._indicators_by_advisory_id
        )
        self.facilities_by_advisory_id: DataLoader[uuid.UUID, list[Record]] = DataLoader(
            self._facilities_by_advisory_id
        )

    async def _advisories_by_id(self, ids: list[uuid.UUID]) -> list[Record | None]:
        sql, args = self.rule.bind(SELECT_ADVISORIES_BY_ID, ids)
        found = {row["id"]: row for row in await self._pool.fetch(sql, *args)}
        return [found.get(i) for i in ids]

    async def _open_advisories_by_terminal(self, keys: list[TerminalKey]) -> list[list[Record]]:
        unlocodes = [k[0] for k in keys]
        smdg_codes = [k[1] for k in keys]
        sql, args = self.rule.bind(
            SELECT_OPEN_ADVISORIES_BY_TERMINAL, unlocodes, smdg_codes, self.now
        )
        found: dict[TerminalKey, list[Record]] = {key: [] for key in keys}
        for row in await self._pool.fetch(sql, *args):
            found[(row["facility_unlocode"], row["facility_smdg_code"])].append(row)
        return [found[key] for key in keys]

    async def _indicators_by_advisory_id(self, ids: list[uuid.UUID]) -> list[list[Record]]:
        return await _children(self._pool, SELECT_INDICATORS, ids)

    async def _facilities_by_advisory_id(self, ids: list[uuid.UUID]) -> list[list[Record]]:
        return await _children(self._pool, SELECT_FACILITIES, ids)


async def _children(pool: Pool, sql: str, ids: list[uuid.UUID]) -> list[list[Record]]:
    found: dict[uuid.UUID, list[Record]] = {i: [] for i in ids}
    for row in await pool.fetch(sql, ids):
        found[row["advisory_id"]].append(row)
    return [found[i] for i in ids]
