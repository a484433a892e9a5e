"""The per-request context: who asks, their loaders, their row rules, what they read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import strawberry

from resolvers.changes import ChangeFeed
from resolvers.community import AuditRecord
from resolvers.principal import Principal
from resolvers.sources import SourcePools
from schema.permissions import FieldAccess

if TYPE_CHECKING:
    from schema.loaders import Loaders


@dataclass(slots=False)
class Context:
    principal: Principal
    pools: SourcePools
    max_page_size: int
    port_locode: str
    access: FieldAccess
    audit: Callable[[AuditRecord], None]  # what a write did, for the audit trail
    operation_name: str | None = None
    changes: ChangeFeed | None = None  # the replica's change feed (subscriptions)
    memo: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        """The request is answered: release what its loaders cached."""
        loaders = self.__dict__.pop("loaders", None)
        if loaders is not None:
            loaders.close()

    @cached_property
    def loaders(self) -> Loaders:
        from schema.loaders import Loaders

        return Loaders(self.pools, self.principal)


def new_context(
    principal: Principal,
    pools: SourcePools,
    *,
    max_page_size: int,
    port_locode: str,
    audit: Callable[[AuditRecord], None],
    changes: ChangeFeed | None = None,
) -> Context:
    return Context(
        principal=principal,
        pools=pools,
        max_page_size=max_page_size,
        port_locode=port_locode,
        access=FieldAccess(principal),
        audit=audit,
        changes=changes,
    )


Info = strawberry.Info[Context, None]
