"""The organization cache: one look-up per code and period, whatever the requests."""

from __future__ import annotations

from graph.organizations import OrganizationCache
from resolvers.community import OrgRecord, organization_by_code
from resolvers.principal import OrganizationKind
from resolvers.sources import SourcePools


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_an_organization_is_looked_up_once_per_period(seeded_pools: SourcePools) -> None:
    asked: list[str] = []

    async def lookup(code: str) -> OrgRecord | None:
        asked.append(code)
        return await organization_by_code(seeded_pools["community"], code)

    clock = Clock()
    cache = OrganizationCache(lookup, ttl=5.0, clock=clock)
    first = await cache("CBP")
    assert first is not None
    assert first.kind is OrganizationKind.CUSTOMS
    clock.now += 4.9
    assert await cache("CBP") == first
    assert asked == ["CBP"]
    clock.now += 0.2  # the period is over: asked again, so a change shows within it
    assert await cache("CBP") == first
    assert asked == ["CBP", "CBP"]


async def test_an_unknown_code_stays_unknown_for_the_period(seeded_pools: SourcePools) -> None:
    asked: list[str] = []

    async def lookup(code: str) -> OrgRecord | None:
        asked.append(code)
        return await organization_by_code(seeded_pools["community"], code)

    cache = OrganizationCache(lookup, ttl=5.0, clock=Clock())
    assert await cache("NOSUCHORG") is None
    assert await cache("NOSUCHORG") is None
    assert asked == ["NOSUCHORG"]
