"""The token's organization, cached for a few seconds: not one statement per request.

A change to `community.organization` (a partner's kind, SCAC or terminal) reaches requests
within TTL_SECONDS; unknown codes are remembered as unknown for as long.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from graph.expiring import Expiring
from resolvers.community import OrgRecord

TTL_SECONDS = 5.0

Lookup = Callable[[str], Awaitable[OrgRecord | None]]


class OrganizationCache:
    def __init__(
        self,
        lookup: Lookup,
        ttl: float = TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._clock = clock
        self._found: Expiring[str, OrgRecord | None] = Expiring()

    async def __call__(self, code: str) -> OrgRecord | None:
        now = self._clock()
        return await self._found.fetch(code, now, self._lookup, lambda _: now + self._ttl)
