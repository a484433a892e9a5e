"""Development conveniences: the generated key pair and ready-to-paste partner tokens."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from graph.database import close_pools, open_pools
from graph.keys import ensure_dev_keys, load_private_key, mint_token
from graph.settings import Settings
from resolvers.community import organization_by_code
from resolvers.principal import OrganizationKind as Kind
from schema.scopes import Scope as S

# What each kind of partner is typically granted (DESIGN.md, "Who uses it, for what").
GRANTS: Mapping[Kind, tuple[S, ...]] = {
    Kind.CARRIER: (
        S.VESSEL_READ,
        S.CARGO_READ,
        S.CARGO_COMMERCIAL,
        S.EVENTS_WRITE,
        S.HOLDS_WRITE,
        S.PORTCALL_WRITE,
    ),
    Kind.TERMINAL: (
        S.VESSEL_READ,
        S.CARGO_READ,
        S.EVENTS_WRITE,
        S.HOLDS_WRITE,
        S.GATE_READ,
        S.GATE_WRITE,
        S.PORTCALL_WRITE,
    ),
    Kind.TRUCKER: (S.VESSEL_READ, S.CARGO_READ, S.GATE_READ, S.GATE_WRITE),
    Kind.BCO: (S.VESSEL_READ, S.CARGO_READ, S.CARGO_COMMERCIAL),
    Kind.CUSTOMS: (
        S.VESSEL_READ,
        S.CARGO_READ,
        S.CARGO_COMMERCIAL,
        S.CARGO_CUSTOMS,
        S.HOLDS_WRITE,
        S.GATE_READ,
        S.SECURITY_READ,
        S.INSIGHTS_READ,
    ),
    Kind.PORT_AUTHORITY: (
        S.VESSEL_READ,
        S.CARGO_READ,
        S.CARGO_COMMERCIAL,
        S.CARGO_CUSTOMS,
        S.HOLDS_WRITE,
        S.GATE_READ,
        S.SECURITY_READ,
        S.INSIGHTS_READ,
        S.AUDIT_READ,
    ),
    Kind.CSOC: (S.SECURITY_READ, S.SECURITY_RESTRICTED, S.SECURITY_WRITE, S.INSIGHTS_READ),
    Kind.OTHER_PORT: (S.VESSEL_READ, S.SECURITY_READ),
}
DEMO_KINDS = (Kind.CARRIER, Kind.TRUCKER, Kind.TERMINAL, Kind.CUSTOMS, Kind.CSOC)


def mint_dev_token(settings: Settings, *, org: str, scopes: Iterable[str], ttl: int) -> str:
    keys = ensure_dev_keys(settings.data_dir)
    private_key = load_private_key(keys.private_key_path)
    return mint_token(
        private_key,
        kid=keys.kid,
        issuer=settings.jwt.issuer,
        audience=settings.jwt.audience,
        org=org,
        scopes=scopes,
        ttl_seconds=ttl,
    )


async def known_organization(settings: Settings, dsns: Mapping[str, str], code: str) -> bool:
    pools = await open_pools(dsns, settings)
    try:
        return await organization_by_code(pools["community"], code) is not None
    finally:
        await close_pools(pools)
