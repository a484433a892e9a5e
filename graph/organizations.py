"""The token's organization, cached for a few seconds: not one statement per request.

A change to `community.organization` (a partner's kind, SCAC or terminal) reaches requests
within TTL_SECONDS; unknown codes are remembered as unknown for as long.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from resolvers.community import OrgRecord

TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000

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
        self._found: dict[str, tuple[float, OrgRecord | None]] = {}

    async def __call__(self, code: str) -> OrgRecord | None:
        now = self._clock()
        cached = self._found.get(code)
        if cached is not None and cached[0] > now:
            return cached[1]
        organization = await self._lookup(code)
        if len(self._found) >= MAX_ENTRIES:
            self._found.clear()  # a flood of codes costs lookups, never memory
        self._found[code] = (now + self._ttl, organization)
        return organization
