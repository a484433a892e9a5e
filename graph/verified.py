"""Tokens verified a moment ago: the same bytes are not verified again for a minute.

The signature covers every byte of the token, so a token seen before needs no second
check of it; what changes with time is checked again on each use: the token's `exp` (with
the settings' leeway, as PyJWT checks it). A key withdrawn from the JWKS stops a token it
signed within TTL_SECONDS.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from graph.auth import Claims
from graph.expiring import MISSING, Expiring

TTL_SECONDS = 60.0

Verify = Callable[[str], Awaitable[Claims]]


class VerifiedTokens:
    def __init__(
        self,
        verify: Verify,
        leeway_seconds: int,
        ttl: float = TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._verify = verify
        self._leeway = leeway_seconds
        self._ttl = ttl
        self._clock = clock
        self._verified: Expiring[str, Claims] = Expiring()

    async def __call__(self, token: str) -> Claims:
        now = self._clock()
        cached = self._verified.get(token, now)
        if cached is not MISSING:
            return cached
        claims = await self._verify(token)  # raises InvalidToken: nothing is kept
        deadline = min(now + self._ttl, claims.expires_at + self._leeway)
        self._verified.put(token, claims, deadline)
        return claims
