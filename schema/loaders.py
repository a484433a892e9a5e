"""Every loader of one request, per source, created on first use."""

from __future__ import annotations

import asyncio
from functools import cached_property
from typing import TYPE_CHECKING

from resolvers.cargo import CargoLoaders, cargo_rule
from resolvers.community import CommunityLoaders
from resolvers.gate import GateLoaders, appointment_equipment
from resolvers.principal import OrganizationKind
from resolvers.rules import Rule
from resolvers.security import SecurityLoaders
from resolvers.vessel import VesselLoaders

if TYPE_CHECKING:
    from schema.context import Context


class Loaders:
    """Per-request loaders: their caches never outlive the request, so never cross partners."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._cargo_rule: asyncio.Task[Rule] | None = None

    @cached_property
    def vessel(self) -> VesselLoaders:
        return VesselLoaders(self._context.pools["vessel"], self._context.principal)

    @cached_property
    def cargo(self) -> CargoLoaders:
        return CargoLoaders(self._context.pools["cargo"], self.cargo_rule)

    @cached_property
    def gate(self) -> GateLoaders:
        return GateLoaders(self._context.pools["gate"], self._context.principal)

    @cached_property
    def security(self) -> SecurityLoaders:
        return SecurityLoaders(self._context.pools["security"], self._context.principal)

    @cached_property
    def community(self) -> CommunityLoaders:
        return CommunityLoaders(self._context.pools["community"])

    async def cargo_rule(self) -> Rule:
        """The cargo row rule, built once per request (a trucker's needs its appointments)."""
        if self._cargo_rule is None:
            self._cargo_rule = asyncio.ensure_future(self._build_cargo_rule())
        return await self._cargo_rule

    async def _build_cargo_rule(self) -> Rule:
        principal = self._context.principal
        equipment: list[str] | None = None
        if principal.kind is OrganizationKind.TRUCKER and principal.scac is not None:
            equipment = await appointment_equipment(self._context.pools["gate"], principal.scac)
        return cargo_rule(principal, equipment)
