"""Who asks: built by graph's authentication, read by every row rule."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class OrganizationKind(StrEnum):
    CARRIER = "CARRIER"
    TERMINAL = "TERMINAL"
    TRUCKER = "TRUCKER"
    BCO = "BCO"
    CUSTOMS = "CUSTOMS"
    PORT_AUTHORITY = "PORT_AUTHORITY"
    CSOC = "CSOC"
    OTHER_PORT = "OTHER_PORT"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated partner, or anonymous when organization_code is None."""

    subject: str | None
    organization_code: str | None
    kind: OrganizationKind | None
    scopes: frozenset[str]
    scac: str | None = None
    terminal_unlocode: str | None = None
    terminal_smdg_code: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.organization_code is None

    def has(self, *scopes: str) -> bool:
        return all(s in self.scopes for s in scopes)


ANONYMOUS = Principal(subject=None, organization_code=None, kind=None, scopes=frozenset())
