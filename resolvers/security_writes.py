"""Security writes: the CSOC publishes advisories (a TLP marking is required) and opens and
updates incidents.

Only the CSOC writes here; to anyone else a write names nothing they may write to. Both are
idempotent by the CSOC's own reference: an advisory published again with the same content
is a duplicate, with other content a conflict; an incident is created on its first update
and changed by the next ones. Each write is one transaction of the security source with
its audit row.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import asyncpg

from resolvers import writes
from resolvers.changes import append_changes
from resolvers.community import AuditRecord
from resolvers.instants import OUT_OF_RANGE, in_range
from resolvers.principal import OrganizationKind, Principal
from resolvers.security import ADVISORY_COLUMNS
from resolvers.sources import Connection, SourcePools
from resolvers.writes import Invalid, Outcome, Refusal, Written, in_transaction

REFERENCE = re.compile(r"[A-Z0-9-]{4,35}")
SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
TLP = ("CLEAR", "GREEN", "AMBER", "RED")
CATEGORIES = (
    *("PHISHING", "MALWARE", "RANSOMWARE", "INTRUSION", "DDOS", "INSIDER"),
    *("GNSS_SPOOFING", "AIS_SPOOFING", "PHYSICAL"),
)
STATUSES = ("OPEN", "CONTAINED", "RESOLVED", "CLOSED")
CLOSED = ("RESOLVED", "CLOSED")
INDICATOR_TYPES = ("IPV4", "IPV6", "DOMAIN", "URL", "SHA256", "MD5", "EMAIL")
HEX = {"SHA256": re.compile(r"[0-9a-f]{64}"), "MD5": re.compile(r"[0-9a-f]{32}")}
DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}")
EMAIL = re.compile(r"[^@\s]{1,64}@" + DOMAIN.pattern)
NOT_YOURS = "names nothing you may publish or update"

INCIDENT_COLUMNS = """
    i.id, i.reference, i.category, i.severity, i.status, i.summary, i.unlocode, i.smdg_code,
    i.reported_by_code, i.detected_at, i.resolved_at"""
INSERT_ADVISORY = f"""
INSERT INTO security.advisory AS a
    (id, reference, title, summary, severity, tlp, affected_systems, published_by_code,
     published_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now(), $9)
ON CONFLICT (reference) DO NOTHING
RETURNING {ADVISORY_COLUMNS}
"""
SELECT_ADVISORY = f"SELECT {ADVISORY_COLUMNS} FROM security.advisory AS a WHERE a.reference = $1"
INSERT_FACILITIES = """
INSERT INTO security.advisory_facility (advisory_id, unlocode, smdg_code)
SELECT $1, k.unlocode, k.smdg_code FROM unnest($2::text[], $3::text[]) AS k(unlocode, smdg_code)
ON CONFLICT DO NOTHING
"""
INSERT_INDICATORS = """
INSERT INTO security.indicator (advisory_id, indicator_type, value)
SELECT $1, k.kind, k.value FROM unnest($2::text[], $3::text[]) AS k(kind, value)
ON CONFLICT DO NOTHING
"""
SELECT_INCIDENT = f"""
SELECT {INCIDENT_COLUMNS} FROM security.incident AS i WHERE i.reference = $1 FOR UPDATE
"""
INSERT_INCIDENT = f"""
INSERT INTO security.incident AS i
    (id, reference, category, severity, status, summary, unlocode, smdg_code, reported_by_code,
     detected_at, resolved_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
        CASE WHEN $5 IN ('RESOLVED', 'CLOSED') THEN greatest(now(), $10) END)
RETURNING {INCIDENT_COLUMNS}
"""
# A closed incident keeps when it was resolved; one reopened loses it.
UPDATE_INCIDENT = f"""
UPDATE security.incident AS i
SET category = $2, severity = $3, status = $4, summary = $5, unlocode = $6, smdg_code = $7,
    detected_at = $8,
    resolved_at = CASE WHEN $4 NOT IN ('RESOLVED', 'CLOSED') THEN NULL
                       ELSE coalesce(i.resolved_at, greatest(now(), $8)) END
WHERE i.id = $1
RETURNING {INCIDENT_COLUMNS}
"""


def choice(value: str, choices: Sequence[str], field_name: str) -> str:
    if value not in choices:
        raise Invalid(field_name, f"one of {', '.join(choices)}")
    return value


def text(value: str | None, field_name: str, limit: int) -> str | None:
    if value is not None and not 0 < len(value.strip()) <= limit:
        raise Invalid(field_name, f"1 to {limit} characters")
    return value


def reference(value: str) -> str:
    if REFERENCE.fullmatch(value) is None:
        raise Invalid("reference", f"{value[:40]!r} is not a reference")
    return value


def indicator(kind: str, value: str, path: str) -> tuple[str, str]:
    choice(kind, INDICATOR_TYPES, path + ".type")
    if not 0 < len(value) <= 500:
        raise Invalid(path + ".value", "1 to 500 characters")
    if indicator_ok(kind, value):
        return kind, value
    raise Invalid(path + ".value", f"{value[:40]!r} is not a {kind} indicator")


def indicator_ok(kind: str, value: str) -> bool:
    if kind in ("IPV4", "IPV6"):
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return False
        return address.version == (4 if kind == "IPV4" else 6)
    if kind in HEX:
        return HEX[kind].fullmatch(value) is not None
    if kind == "DOMAIN":
        return DOMAIN.fullmatch(value) is not None
    if kind == "EMAIL":
        return EMAIL.fullmatch(value) is not None
    return value.startswith(("http://", "https://", "hxxp://", "hxxps://"))  # URL


@dataclass(frozen=True, slots=True)
class AdvisoryDraft:
    reference: str
    title: str
    summary: str
    severity: str
    tlp: str
    affected_systems: list[str]
    facilities: list[tuple[str, str]]
    indicators: list[tuple[str, str]]
    expires_at: datetime.datetime | None

    def same_as(self, row: asyncpg.Record) -> bool:
        names = ("title", "summary", "severity", "tlp", "affected_systems", "expires_at")
        given = (self.title, self.summary, self.severity, self.tlp)
        return tuple(row[n] for n in names) == (*given, self.affected_systems, self.expires_at)


def advisory(
    ref: str,
    title: str,
    summary: str,
    severity: str,
    tlp: str,
    parts: tuple[list[str], list[tuple[str, str]], list[tuple[str, str]]],
    expires_at: datetime.datetime | None,
    now: datetime.datetime,
) -> AdvisoryDraft:
    """An advisory from its fields: (affected systems, facilities, indicators) in `parts`."""
    systems, facilities, indicators = parts
    if len(systems) > 50 or any(not 0 < len(s) <= 100 for s in systems):
        raise Invalid("affectedSystems", "at most 50, each 1 to 100 characters")
    if len(facilities) > 50 or len(indicators) > 200:
        field_name = "facilities" if len(facilities) > 50 else "indicators"
        raise Invalid(field_name, "at most 50 facilities and 200 indicators")
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
        raise Invalid("expiresAt", "a future time with offset")
    if expires_at is not None and not in_range(expires_at):
        raise Invalid("expiresAt", OUT_OF_RANGE)
    return AdvisoryDraft(
        reference=reference(ref),
        title=text(title, "title", 200) or "",
        summary=text(summary, "summary", 4000) or "",
        severity=choice(severity, SEVERITIES, "severity"),
        tlp=choice(tlp, TLP, "tlp"),
        affected_systems=systems,
        facilities=facilities,
        indicators=[indicator(k, v, f"indicators[{i}]") for i, (k, v) in enumerate(indicators)],
        expires_at=expires_at,
    )


@dataclass(frozen=True, slots=True)
class IncidentUpdate:
    """What an update gives; None is "as it was" (and, for a new incident, required)."""

    reference: str
    category: str | None = None
    severity: str | None = None
    status: str | None = None
    summary: str | None = None
    terminal: tuple[str, str] | None = None
    detected_at: datetime.datetime | None = None
    required: tuple[str, ...] = field(default=("category", "severity", "summary", "detectedAt"))


def incident_update(
    ref: str,
    category: str | None,
    severity: str | None,
    status: str | None,
    summary: str | None,
    terminal: tuple[str, str] | None,
    detected_at: datetime.datetime | None,
    now: datetime.datetime,
) -> IncidentUpdate:
    if detected_at is not None and (detected_at.tzinfo is None or detected_at > now):
        raise Invalid("detectedAt", "a past time with offset")
    if detected_at is not None and not in_range(detected_at):
        raise Invalid("detectedAt", OUT_OF_RANGE)
    return IncidentUpdate(
        reference=reference(ref),
        category=None if category is None else choice(category, CATEGORIES, "category"),
        severity=None if severity is None else choice(severity, SEVERITIES, "severity"),
        status=None if status is None else choice(status, STATUSES, "status"),
        summary=text(summary, "summary", 4000),
        terminal=terminal,
        detected_at=detected_at,
    )


def refused(code: Refusal, field_name: str, reason: str = NOT_YOURS) -> Written:
    return writes.refused(code, field_name, reason)


async def publish_in(connection: Connection, draft: AdvisoryDraft, by: str) -> Written:
    row = await connection.fetchrow(
        INSERT_ADVISORY,
        uuid.uuid4(),
        draft.reference,
        draft.title,
        draft.summary,
        draft.severity,
        draft.tlp,
        draft.affected_systems,
        by,
        draft.expires_at,
    )
    if row is None:
        stored = await connection.fetchrow(SELECT_ADVISORY, draft.reference)
        if stored is not None and draft.same_as(stored):
            return Written.of(Outcome.DUPLICATE, stored)
        return refused(Refusal.CONFLICT, "reference", "published before with other content")
    places = draft.facilities
    await connection.execute(
        INSERT_FACILITIES, row["id"], [p[0] for p in places], [p[1] for p in places]
    )
    kinds = draft.indicators
    await connection.execute(
        INSERT_INDICATORS, row["id"], [k[0] for k in kinds], [k[1] for k in kinds]
    )
    await append_changes(connection, "security", [row["id"]])
    return Written.of(Outcome.ACCEPTED, row)


async def update_in(connection: Connection, update: IncidentUpdate, by: str) -> Written:
    stored = await connection.fetchrow(SELECT_INCIDENT, update.reference)
    terminal = update.terminal
    if stored is None:
        given = (update.category, update.severity, update.summary, update.detected_at)
        missing = [
            name for name, value in zip(update.required, given, strict=True) if value is None
        ]
        if missing:
            return refused(Refusal.INVALID, missing[0], "is required for a new incident")
        row = await connection.fetchrow(
            INSERT_INCIDENT,
            uuid.uuid4(),
            update.reference,
            *given[:2],
            update.status or "OPEN",
            update.summary,
            *(terminal or (None, None)),
            by,
            update.detected_at,
        )
        return Written.of(Outcome.ACCEPTED, row)
    merged = (
        update.category or stored["category"],
        update.severity or stored["severity"],
        update.status or stored["status"],
        update.summary or stored["summary"],
        *(terminal or (stored["unlocode"], stored["smdg_code"])),
        update.detected_at or stored["detected_at"],
    )
    names = ("category", "severity", "status", "summary", "unlocode", "smdg_code", "detected_at")
    if merged == tuple(stored[n] for n in names):
        return Written.of(Outcome.DUPLICATE, stored)
    row = await connection.fetchrow(UPDATE_INCIDENT, stored["id"], *merged)
    return Written.of(Outcome.ACCEPTED, row)


async def write_security(
    pools: SourcePools,
    principal: Principal,
    mutation: str,
    ref: str,
    act: Callable[[Connection, str], Awaitable[Written]],
    *,
    operation: str,
    audit: Callable[[AuditRecord], None],
) -> Written:
    """`act` by the CSOC in one transaction of the security source, with its audit row."""
    csoc = principal.kind is OrganizationKind.CSOC and principal.organization_code

    async def as_csoc(connection: Connection) -> Written:
        if not csoc:
            return refused(Refusal.NOT_FOUND, "reference")
        return await act(connection, principal.organization_code or "")

    return await in_transaction(
        pools,
        "security",
        principal,
        as_csoc,
        mutation=mutation,
        details={"reference": ref},
        operation=operation,
        audit=audit,
    )
