"""The OAuth scopes partners' tokens carry (space-delimited `scope` claim)."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    VESSEL_READ = "vessel:read"
    PORTCALL_WRITE = "portcall:write"
    CARGO_READ = "cargo:read"
    CARGO_COMMERCIAL = "cargo:commercial"
    CARGO_CUSTOMS = "cargo:customs"
    EVENTS_WRITE = "events:write"
    GATE_READ = "gate:read"
    GATE_WRITE = "gate:write"
    SECURITY_READ = "security:read"
    SECURITY_RESTRICTED = "security:restricted"
    SECURITY_WRITE = "security:write"
    INSIGHTS_READ = "insights:read"
    AUDIT_READ = "audit:read"
    FEDERATION_SDL = "federation:sdl"
