"""The OAuth scopes partners' tokens carry (space-delimited `scope` claim)."""

from __future__ import annotations

from enum import StrEnum

from resolvers.principal import OrganizationKind as Kind


class Scope(StrEnum):
    VESSEL_READ = "vessel:read"
    PORTCALL_WRITE = "portcall:write"
    CARGO_READ = "cargo:read"
    CARGO_COMMERCIAL = "cargo:commercial"
    CARGO_CUSTOMS = "cargo:customs"
    EVENTS_WRITE = "events:write"
    HOLDS_WRITE = "holds:write"
    GATE_READ = "gate:read"
    GATE_WRITE = "gate:write"
    SECURITY_READ = "security:read"
    SECURITY_RESTRICTED = "security:restricted"
    SECURITY_WRITE = "security:write"
    INSIGHTS_READ = "insights:read"
    AUDIT_READ = "audit:read"
    FEDERATION_SDL = "federation:sdl"


# Whatever a token grants, some partners never see some data (DESIGN.md, "Who uses it"):
# truckers never commodity, parties or hold remarks; only the port authority the audit trail.
_COMMERCIAL = frozenset({Scope.CARGO_COMMERCIAL.value, Scope.CARGO_CUSTOMS.value})
_AUDIT = frozenset({Scope.AUDIT_READ.value})
_HOLDS = frozenset({Scope.HOLDS_WRITE.value})
WITHHELD: dict[Kind, frozenset[str]] = {
    Kind.TRUCKER: _COMMERCIAL | _AUDIT | _HOLDS,
    Kind.CARRIER: frozenset({Scope.CARGO_CUSTOMS.value}) | _AUDIT,
    Kind.BCO: frozenset({Scope.CARGO_CUSTOMS.value}) | _AUDIT | _HOLDS,
    Kind.TERMINAL: frozenset({Scope.CARGO_CUSTOMS.value}) | _AUDIT,
    Kind.OTHER_PORT: _COMMERCIAL | _AUDIT | _HOLDS | {Scope.GATE_READ.value},
    Kind.CSOC: _AUDIT | _HOLDS,
    Kind.CUSTOMS: _AUDIT,
    Kind.PORT_AUTHORITY: frozenset(),
}


def effective_scopes(kind: Kind, granted: frozenset[str]) -> frozenset[str]:
    """The token's scopes less what this kind of partner is never given."""
    return granted - WITHHELD.get(kind, frozenset())
