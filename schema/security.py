"""The security part of the schema: community advisories (TLP-marked) and CSOC incidents."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from resolvers import security as sql
from schema.context import Info
from schema.gate import load_terminal
from schema.inputs import (
    cursor_key,
    instant,
    parse_instant,
    parse_text,
    required_nodes,
)
from schema.pagination import After, Connection, First, page_request, rows_connection
from schema.permissions import scopes
from schema.scopes import Scope

if TYPE_CHECKING:
    from schema.vessel import Terminal


# Reads of TLP:AMBER and TLP:RED advisories are reads of restricted data: audited like a
# restricted field (DESIGN.md, Permissions), under this coordinate, one count per advisory.
RESTRICTED_TLPS = frozenset({"AMBER", "RED"})
RESTRICTED_ADVISORY = "Advisory[tlp=AMBER|RED]"


def audit_restricted(info: Info, rows: Iterable[Any]) -> None:
    """Count the restricted advisories an answer carries into the request's audit record."""
    count = sum(1 for row in rows if row["tlp"] in RESTRICTED_TLPS)
    info.context.access.note_rows(RESTRICTED_ADVISORY, count)


def parse_short_uuid(value: Any) -> uuid.UUID:
    return uuid.UUID(parse_text(value))


TIME_AND_ID_KEY = (parse_instant, parse_short_uuid)

# --- Enums ---------------------------------------------------------------------------------


@strawberry.enum(description="How serious a threat or an incident is, lowest first.")
class SecuritySeverity(Enum):
    LOW = strawberry.enum_value("LOW", description="Low.")
    MEDIUM = strawberry.enum_value("MEDIUM", description="Medium.")
    HIGH = strawberry.enum_value("HIGH", description="High.")
    CRITICAL = strawberry.enum_value("CRITICAL", description="Critical.")


@strawberry.enum(description="Traffic Light Protocol 2.0 marking: who may receive the advisory.")
class TlpMarking(Enum):
    CLEAR = strawberry.enum_value("CLEAR", description="No limit on disclosure.")
    GREEN = strawberry.enum_value("GREEN", description="The port community, not public.")
    AMBER = strawberry.enum_value(
        "AMBER", description="Need-to-know within recipients' organizations (restricted)."
    )
    RED = strawberry.enum_value("RED", description="Named recipients only (restricted).")


@strawberry.enum(description="Kind of an indicator of compromise.")
class IndicatorType(Enum):
    IPV4 = strawberry.enum_value("IPV4", description="IPv4 address.")
    IPV6 = strawberry.enum_value("IPV6", description="IPv6 address.")
    DOMAIN = strawberry.enum_value("DOMAIN", description="DNS domain name.")
    URL = strawberry.enum_value("URL", description="URL.")
    SHA256 = strawberry.enum_value("SHA256", description="SHA-256 file hash.")
    MD5 = strawberry.enum_value("MD5", description="MD5 file hash.")
    EMAIL = strawberry.enum_value("EMAIL", description="E-mail address.")


@strawberry.enum(description="What kind of security incident it is.")
class IncidentCategory(Enum):
    PHISHING = strawberry.enum_value("PHISHING", description="Phishing.")
    MALWARE = strawberry.enum_value("MALWARE", description="Malware.")
    RANSOMWARE = strawberry.enum_value("RANSOMWARE", description="Ransomware.")
    INTRUSION = strawberry.enum_value("INTRUSION", description="Network intrusion.")
    DDOS = strawberry.enum_value("DDOS", description="Distributed denial of service.")
    INSIDER = strawberry.enum_value("INSIDER", description="Insider threat.")
    GNSS_SPOOFING = strawberry.enum_value("GNSS_SPOOFING", description="GNSS/GPS spoofing.")
    AIS_SPOOFING = strawberry.enum_value("AIS_SPOOFING", description="AIS spoofing.")
    PHYSICAL = strawberry.enum_value("PHYSICAL", description="Physical security breach.")


@strawberry.enum(description="Where an incident's handling stands.")
class IncidentStatus(Enum):
    OPEN = strawberry.enum_value("OPEN", description="Being handled.")
    CONTAINED = strawberry.enum_value("CONTAINED", description="Contained, not yet resolved.")
    RESOLVED = strawberry.enum_value("RESOLVED", description="Resolved.")
    CLOSED = strawberry.enum_value("CLOSED", description="Resolved and closed.")


# --- Types ---------------------------------------------------------------------------------


@strawberry.type(description="An indicator of compromise shared with an advisory.")
class Indicator:
    type: IndicatorType = strawberry.field(description="Kind of indicator.")
    value: str = strawberry.field(description="The indicator itself (address, hash, ...).")

    @classmethod
    def from_row(cls, row: Any) -> Indicator:
        return cls(type=IndicatorType(row["indicator_type"]), value=row["value"])


@strawberry.type(
    description=(
        "A community early-warning advisory (Cyber Resilience Centre). TLP:AMBER and "
        "TLP:RED advisories exist only for holders of security:restricted."
    )
)
class Advisory(relay.Node):
    advisory_id: strawberry.Private[uuid.UUID]
    reference: str = strawberry.field(description="The advisory's reference.")
    title: str = strawberry.field(description="Title.")
    summary: str = strawberry.field(description="What is going on and what to do.")
    severity: SecuritySeverity = strawberry.field(description="Severity.")
    tlp: TlpMarking = strawberry.field(description="Traffic Light Protocol marking.")
    affected_systems: list[str] = strawberry.field(
        description="Systems concerned (products, services, protocols)."
    )
    published_by: str = strawberry.field(description="Organization code of the publisher.")
    published_at: datetime.datetime = strawberry.field(description="When it was published.")
    expires_at: datetime.datetime | None = strawberry.field(
        description="When it stops applying; null for no expiry."
    )

    @classmethod
    def from_row(cls, row: Any) -> Advisory:
        return cls(
            advisory_id=row["id"],
            reference=row["reference"],
            title=row["title"],
            summary=row["summary"],
            severity=SecuritySeverity(row["severity"]),
            tlp=TlpMarking(row["tlp"]),
            affected_systems=list(row["affected_systems"]),
            published_by=row["published_by_code"],
            published_at=row["published_at"],
            expires_at=row["expires_at"],
        )

    @classmethod
    def many(cls, info: Info, rows: list[Any]) -> list[Advisory]:
        """Advisories from rows, with their restricted reads audited: use on every path."""
        audit_restricted(info, rows)
        return [cls.from_row(row) for row in rows]

    @classmethod
    def resolve_id(cls, root: Advisory, *, info: Info) -> str:
        return str(root.advisory_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Advisory | None]:
        """Through the same loader as every other path, so the TLP rule applies."""
        ids = [_uuid_or_none(node_id) for node_id in node_ids]
        loader = info.context.loaders.security.advisory_by_id
        rows = await loader.load_many([i for i in ids if i is not None])
        found = {row["id"]: row for row in rows if row is not None}
        audit_restricted(info, found.values())
        nodes = [None if i not in found else cls.from_row(found[i]) for i in ids]
        # Unseen and unknown alike: TLP-hidden advisories do not exist for the caller.
        return required_nodes(nodes, required, "Advisory")

    @strawberry.field(description="True when the advisory had expired at the time of the request.")
    def expired(self, info: Info) -> bool:
        now = info.context.loaders.security.now
        return self.expires_at is not None and self.expires_at <= now

    @strawberry.field(description="Indicators of compromise to block or hunt for.")
    async def indicators(self, info: Info) -> list[Indicator]:
        rows = await info.context.loaders.security.indicators_by_advisory_id.load(self.advisory_id)
        return [Indicator.from_row(row) for row in rows]

    @strawberry.field(description="Terminals of the port the advisory concerns.")
    async def affected_terminals(
        self, info: Info
    ) -> list[Annotated[Terminal, strawberry.lazy("schema.vessel")]]:
        from schema.vessel import Terminal  # late: schema.vessel imports this module lazily

        facilities = await info.context.loaders.security.facilities_by_advisory_id.load(
            self.advisory_id
        )
        keys = [(f["unlocode"], f["smdg_code"]) for f in facilities]
        rows = await info.context.loaders.vessel.terminal_by_key.load_many(keys)
        # A facility the vessel source does not know (another port's) has no Terminal here.
        return [Terminal.from_row(row) for row in rows if row is not None]


def _uuid_or_none(value: str) -> uuid.UUID | None:
    """A node id that is no UUID names no advisory: not found, like any unseen one."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@strawberry.type(description="A security incident handled by the port's CSOC (restricted).")
class Incident:
    reference: str = strawberry.field(description="The incident's reference.")
    category: IncidentCategory = strawberry.field(description="What kind of incident.")
    severity: SecuritySeverity = strawberry.field(description="Severity.")
    status: IncidentStatus = strawberry.field(description="Where its handling stands.")
    summary: str = strawberry.field(description="What happened.")
    unlocode: str | None = strawberry.field(
        description="UN/LOCODE of the affected facility's port, if a facility is affected."
    )
    smdg_code: str | None = strawberry.field(
        description="SMDG code of the affected terminal, if a terminal is affected."
    )
    reported_by: str = strawberry.field(description="Organization code of the reporter.")
    detected_at: datetime.datetime = strawberry.field(description="When it was detected.")
    resolved_at: datetime.datetime | None = strawberry.field(
        description="When it was resolved; null while open or contained."
    )

    @strawberry.field(description="The affected terminal, if a terminal is affected.")
    async def terminal(
        self, info: Info
    ) -> Annotated[Terminal, strawberry.lazy("schema.vessel")] | None:
        return await load_terminal(info, self.unlocode, self.smdg_code)

    @classmethod
    def from_row(cls, row: Any) -> Incident:
        return cls(
            reference=row["reference"],
            category=IncidentCategory(row["category"]),
            severity=SecuritySeverity(row["severity"]),
            status=IncidentStatus(row["status"]),
            summary=row["summary"],
            unlocode=row["unlocode"],
            smdg_code=row["smdg_code"],
            reported_by=row["reported_by_code"],
            detected_at=row["detected_at"],
            resolved_at=row["resolved_at"],
        )


# --- Filters -------------------------------------------------------------------------------


@strawberry.input(description="Which advisories to list; every condition given must hold.")
class AdvisoryFilter:
    min_severity: SecuritySeverity | None = strawberry.field(
        default=None, description="This severity or higher."
    )
    since: datetime.datetime | None = strawberry.field(
        default=None, description="Published at or after this instant."
    )
    include_expired: bool = strawberry.field(
        default=False, description="Also list advisories that have expired."
    )


@strawberry.input(description="Which incidents to list; every condition given must hold.")
class IncidentFilter:
    status: IncidentStatus | None = strawberry.field(default=None, description="Status.")
    category: IncidentCategory | None = strawberry.field(default=None, description="Category.")
    min_severity: SecuritySeverity | None = strawberry.field(
        default=None, description="This severity or higher."
    )
    since: datetime.datetime | None = strawberry.field(
        default=None, description="Detected at or after this instant."
    )


def advisory_filter(f: AdvisoryFilter | None, now: datetime.datetime) -> sql.AdvisoryFilter:
    f = f or AdvisoryFilter()
    return sql.AdvisoryFilter(
        severities=sql.severities_from(None if f.min_severity is None else f.min_severity.name),
        since=instant(f.since, "filter.since"),
        unexpired_at=None if f.include_expired else now,
    )


def incident_filter(f: IncidentFilter | None) -> sql.IncidentFilter:
    f = f or IncidentFilter()
    return sql.IncidentFilter(
        status=None if f.status is None else f.status.name,
        category=None if f.category is None else f.category.name,
        severities=sql.severities_from(None if f.min_severity is None else f.min_severity.name),
        since=instant(f.since, "filter.since"),
    )


# --- Root fields ---------------------------------------------------------------------------


@strawberry.type
class SecurityQuery:
    @strawberry.federation.field(
        description=(
            "Community advisories, newest first; unexpired ones unless asked. TLP:AMBER and "
            "TLP:RED ones are listed only for holders of security:restricted."
        ),
        requires_scopes=scopes(Scope.SECURITY_READ),
    )
    async def advisories(
        self,
        info: Info,
        filter: Annotated[
            AdvisoryFilter | None, strawberry.argument(description="Conditions.")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Advisory] | None:
        request = page_request(first, after, len(TIME_AND_ID_KEY), info.context.max_page_size)
        loaders = info.context.loaders.security
        conditions = advisory_filter(filter, loaders.now)
        key = cursor_key(request.after, TIME_AND_ID_KEY)
        pool = info.context.pools["security"]
        rows = await sql.advisories_page(pool, loaders.rule, conditions, request.size, key)
        audit_restricted(info, rows[: request.size])  # the extra row is not in the answer
        return rows_connection(rows, request, sql.advisory_key, Advisory.from_row)

    @strawberry.federation.field(
        description="CSOC security incidents, most recently detected first (restricted).",
        requires_scopes=scopes(Scope.SECURITY_RESTRICTED),
    )
    async def incidents(
        self,
        info: Info,
        filter: Annotated[
            IncidentFilter | None, strawberry.argument(description="Conditions.")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Incident] | None:
        request = page_request(first, after, len(TIME_AND_ID_KEY), info.context.max_page_size)
        conditions = incident_filter(filter)
        key = cursor_key(request.after, TIME_AND_ID_KEY)
        rule = sql.incident_rule(info.context.principal)
        pool = info.context.pools["security"]
        rows = await sql.incidents_page(pool, rule, conditions, request.size, key)
        return rows_connection(rows, request, sql.incident_key, Incident.from_row)


queries: list[type] = [SecurityQuery]
types: list[type] = [Advisory]
