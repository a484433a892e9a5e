"""What the app holds for its lifetime (never a request's state)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opentelemetry.trace import Tracer
from strawberry.federation import Schema

from graph.audit import AuditSink
from graph.auth import KeySource, authenticate, bearer_token, verifier
from graph.database import RolePool, role_pools
from graph.documents import Documents
from graph.metrics import Metrics
from graph.observation import current
from graph.operations import OperationCounts
from graph.organizations import OrganizationCache
from graph.ratelimit import RateLimiter
from graph.settings import Settings
from graph.verified import VerifiedTokens
from resolvers.changes import ChangeFeed
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
    changes: ChangeFeed | None = None  # follows the change log (subscriptions)
    read_pools: SourcePools | None = None  # queries' (read replicas); None: `pools`
    metrics: Metrics = field(default_factory=lambda: Metrics(None))
    tracer: Tracer | None = None  # the GraphQL operation's spans; None: tracing is off
    documents: Documents = field(default_factory=Documents)  # APQ, trusted documents
    organizations: OrganizationCache = field(init=False)
    tokens: VerifiedTokens = field(init=False)
    operations: OperationCounts = field(init=False)  # open over WebSockets
    rate_limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.organizations = OrganizationCache(self._organization)
        verify = verifier(self.settings.jwt, self.keys)
        self.tokens = VerifiedTokens(verify, self.settings.jwt.leeway_seconds)
        self.operations = OperationCounts(self.settings.max_subscriptions, self.pools["community"])
        self.rate_limiter = RateLimiter(self.pools["community"])

    @property
    def reads(self) -> SourcePools:
        """Where queries read: the replicas, or the primary for a source without one."""
        return self.pools if self.read_pools is None else self.read_pools

    def role_pools(self) -> list[RolePool]:
        """Every pool, labelled with its source and role (primary or replica)."""
        return role_pools(self.pools, self.reads)

    async def _organization(self, code: str) -> OrgRecord | None:
        return await organization_by_code(self.pools["community"], code)

    async def authenticate(self, authorization: str | None) -> Principal:
        """The caller; once per request: the rate limit at the door authenticates first, and
        the route gets the same Principal from the request's record."""
        record = current()
        if record and record.principal and record.authorization == authorization:
            return record.principal
        principal = await authenticate(
            authorization, verify_token=self.tokens, lookup=self.organizations
        )
        if record is not None:  # the request log's organization and kind
            record.note(principal, authorization)
        return principal

    async def authenticate_until(self, authorization: str | None) -> tuple[Principal, int | None]:
        """The Principal, and when its token expires (None: anonymous)."""
        principal = await self.authenticate(authorization)
        if principal.anonymous or authorization is None:
            return principal, None
        claims = await self.tokens(bearer_token(authorization))  # verified above: cached
        return principal, claims.expires_at
