"""Every loader of one request, per source, created on first use."""

from __future__ import annotations

import asyncio
from functools import cached_property

from aiodataloader import DataLoader

from resolvers.cargo import CargoLoaders, cargo_rule
from resolvers.community import CommunityLoaders
from resolvers.gate import GateLoaders, appointment_visits
from resolvers.principal import OrganizationKind, Principal
from resolvers.rules import AppointmentVisits, Rule
from resolvers.security import SecurityLoaders
from resolvers.sources import SourcePools
from resolvers.vessel import VesselLoaders

# The per-source loader objects, each a cached property of Loaders.
SOURCE_LOADERS = ("vessel", "cargo", "gate", "security", "community")


class Loaders:
    """Per-request loaders: their caches never outlive the request, so never cross partners."""

    # Pools and principal, not the context: a back-reference would make every request's rows
    # cyclic garbage for the collector.
    def __init__(self, pools: SourcePools, principal: Principal) -> None:
        self._pools = pools
        self._principal = principal
        self._cargo_rule: asyncio.Task[Rule] | None = None

    @cached_property
    def vessel(self) -> VesselLoaders:
        return VesselLoaders(self._pools["vessel"], self._principal)

    @cached_property
    def cargo(self) -> CargoLoaders:
        return CargoLoaders(self._pools["cargo"], self.cargo_rule)

    @cached_property
    def gate(self) -> GateLoaders:
        return GateLoaders(self._pools["gate"], self._principal)

    @cached_property
    def security(self) -> SecurityLoaders:
        return SecurityLoaders(self._pools["security"], self._principal)

    @cached_property
    def community(self) -> CommunityLoaders:
        return CommunityLoaders(self._pools["community"])

    def close(self) -> None:
        """Let the request's loaders go by reference counting, not the collector: each source's
        loaders and their batch functions (its bound methods) form reference cycles, broken
        here with their caches emptied."""
        for name in SOURCE_LOADERS:
            source = vars(self).pop(name, None)  # created on first use, or never
            if source is not None:
                for loader in vars(source).values():
                    if isinstance(loader, DataLoader):
                        loader.clear_all()
                vars(source).clear()

    async def cargo_rule(self) -> Rule:
        """The cargo row rule, built once per request (a trucker's needs its appointments)."""
        if self._cargo_rule is None:
            self._cargo_rule = asyncio.ensure_future(self._build_cargo_rule())
        return await self._cargo_rule

    async def _build_cargo_rule(self) -> Rule:
        principal = self._principal
        if self._pools.alongside("gate", "cargo"):
            return cargo_rule(principal, None, gate_alongside=True)
        visits: AppointmentVisits | None = None
        if principal.kind is OrganizationKind.TRUCKER and principal.scac is not None:
            visits = await appointment_visits(self._pools["gate"], principal.scac)
        return cargo_rule(principal, visits)
