"""Holds: `placeHold` and `releaseHold` (resolvers.holds has the rules and the SQL)."""

from __future__ import annotations

from typing import Annotated

import asyncpg
import strawberry

from resolvers.holds import HoldRequest, write_hold
from resolvers.writes import Invalid, Written, invalid
from schema.cargo import Hold, HoldType
from schema.context import Info
from schema.permissions import scopes
from schema.publishing import busy
from schema.scopes import Scope
from schema.writes import WriteStatus, status

HOLDS_WRITE = scopes(Scope.HOLDS_WRITE)


@strawberry.input(description="A hold to place on a container's current visit.")
class PlaceHoldInput:
    container_number: str = strawberry.field(description="ISO 6346 container number.")
    type: HoldType = strawberry.field(
        description="CUSTOMS (customs, the port authority), FREIGHT (the carrier, on its own "
        "containers) or TERMINAL (a terminal, at its terminal)."
    )
    reason_code: str = strawberry.field(
        description="Coded reason: capitals, digits and _ (e.g. EXAM_NII, FREIGHT_UNPAID)."
    )
    remark: str | None = strawberry.field(
        default=None, description="Free-text reason (at most 500 characters)."
    )


@strawberry.input(description="The standing holds to release on a container's current visit.")
class ReleaseHoldInput:
    container_number: str = strawberry.field(description="ISO 6346 container number.")
    type: HoldType = strawberry.field(description="The type of hold to release.")
    reason_code: str | None = strawberry.field(
        default=None, description="Only the hold with this reason (default: every one of the type)."
    )


@strawberry.type(description="What a hold write did.")
class HoldPayload(WriteStatus):
    holds: list[Hold] = strawberry.field(
        description="The hold placed (or standing, for a duplicate), or the holds released."
    )

    @classmethod
    def of(cls, done: Written) -> HoldPayload:
        return cls(**status(done), holds=[Hold.from_row(row) for row in done.rows])


async def write(info: Info, mutation: str, request: HoldRequest) -> HoldPayload:
    context = info.context
    try:
        done = await write_hold(
            context.pools,
            context.principal,
            request,
            mutation=mutation,
            operation=context.operation_name or mutation,
            audit=context.audit,
        )
    except asyncpg.QueryCanceledError:
        raise busy() from None
    return HoldPayload.of(done)


@strawberry.type
class HoldMutation:
    @strawberry.federation.mutation(
        description="Place a hold on a container's current visit: customs and the port "
        "authority customs holds, a carrier freight holds on its own containers, a terminal "
        "terminal holds at its terminal. The same hold again is a DUPLICATE. The container "
        "is no longer available for pickup while a hold stands. Needs `holds:write`.",
        requires_scopes=HOLDS_WRITE,
    )
    async def place_hold(
        self,
        info: Info,
        input: Annotated[PlaceHoldInput, strawberry.argument(description="The hold.")],
    ) -> HoldPayload | None:
        try:
            request = HoldRequest.of(
                input.container_number, input.type.value, input.reason_code, input.remark
            )
        except Invalid as error:
            return HoldPayload.of(invalid(error))
        return await write(info, "placeHold", request)

    @strawberry.federation.mutation(
        description="Release standing holds of a type (the same parties as placeHold). "
        "Needs `holds:write`.",
        requires_scopes=HOLDS_WRITE,
    )
    async def release_hold(
        self,
        info: Info,
        input: Annotated[ReleaseHoldInput, strawberry.argument(description="What to release.")],
    ) -> HoldPayload | None:
        try:
            request = HoldRequest.of(input.container_number, input.type.value, input.reason_code)
        except Invalid as error:
            return HoldPayload.of(invalid(error))
        return await write(info, "releaseHold", request)


mutations: list[type] = [HoldMutation]
types: list[type] = []
