"""Tokens verified a moment ago: the same bytes are not verified again for a minute.

The signature covers every byte of the token, so a token seen before needs no second
check of it; what changes with time is checked again on each use: the token's `exp` (with
the settings' leeway, as PyJWT checks it). A key withdrawn from the JWKS stops a token it
signed within TTL_SECONDS.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from graph.auth import Claims, Verify
from graph.expiring import Expiring

TTL_SECONDS = 60.0


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
        # An invalid token raises InvalidToken from verify: nothing is kept.
        return await self._verified.fetch(token, now, self._verify, lambda c: self._until(c, now))

    def _until(self, claims: Claims, now: float) -> float:
        return min(now + self._ttl, claims.expires_at + self._leeway)
