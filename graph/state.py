"""What the app holds for its lifetime (never a request's state)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.federation import Schema

from graph.audit import AuditSink
from graph.auth import KeySource, authenticate, verifier
from graph.organizations import OrganizationCache
from graph.settings import Settings
from graph.verified import VerifiedTokens
from resolvers.community import OrgRecord, organization_by_code
from resolvers.principal import Principal
from resolvers.sources import SourcePools


@dataclass(slots=True)
class AppState:
    settings: Settings
    pools: SourcePools
    schema: Schema
    keys: KeySource
    audit: AuditSink
    jwks: dict[str, Any] | None  # published in development mode only
    organizations: OrganizationCache = field(init=False)
    tokens: VerifiedTokens = field(init=False)

    def __post_init__(self) -> None:
        self.organizations = OrganizationCache(self._organization)
        verify = verifier(self.settings.jwt, self.keys)
        self.tokens = VerifiedTokens(verify, self.settings.jwt.leeway_seconds)

    async def _organization(self, code: str) -> OrgRecord | None:
        return await organization_by_code(self.pools["community"], code)

    async def authenticate(self, authorization: str | None) -> Principal:
        return await authenticate(
            authorization, verify_token=self.tokens, lookup=self.organizations
        )
