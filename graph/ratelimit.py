"""Per-partner rate limits: requests per minute per organization (the anonymous and the
refused per client address), on all replicas together.

Each replica counts locally and trades its counts with the others' through PostgreSQL once a
second (resolvers.rate_counts): never a statement per request. The estimate is a sliding
window (the previous minute's count, weighted by how much of it the window still covers, plus
this minute's), so a partner cannot double its rate across a minute's boundary. Refused
requests are not counted: a client that backs off gets through again.

`limits` and `pyrate-limiter` were considered: their storages (memory, Redis, ...) count each
request where it is stored, and none is PostgreSQL; the batching that the replicas need is
what this module is."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from resolvers import rate_counts
from resolvers.sources import Pool

log = logging.getLogger("harborgraph.ratelimit")
WINDOW_SECONDS = 60
RECONCILE_SECONDS = 1.0
POLICY = "partner"  # the policy's name in the RateLimit headers


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the quota is back: the window's end, or when a refusal ends

    def headers(self) -> list[tuple[bytes, bytes]]:
        """draft-ietf-httpapi-ratelimit-headers: the policy, and where the caller stands."""
        policy = f'"{POLICY}";q={self.limit};w={WINDOW_SECONDS}'
        state = f'"{POLICY}";r={self.remaining};t={self.reset_seconds}'
        found = [(b"ratelimit-policy", policy.encode()), (b"ratelimit", state.encode())]
        if not self.allowed:
            found.append((b"retry-after", str(self.reset_seconds).encode()))
        return found

    @property
    def message(self) -> str:
        return (
            f"rate limit exceeded: {self.limit} requests per minute; "
            f"retry after {self.reset_seconds} s"
        )


def estimate(previous: float, current: float, elapsed: float) -> float:
    """Requests in the last minute: the previous window's, as much as it still overlaps."""
    return previous * (1 - elapsed / WINDOW_SECONDS) + current


def wait_seconds(previous: int, current: int, limit: int, elapsed: float) -> int:
    """Seconds until one more request fits, with no more requests meanwhile."""
    if current + 1 <= limit:
        # the previous window's weight must fall until the estimate leaves room for one
        fraction = 1 - (limit - current - 1) / previous
        return _whole_seconds(fraction * WINDOW_SECONDS - elapsed)
    # this window is full: into the next, until this one's weight has fallen enough
    fraction = 1 - (limit - 1) / current
    return _whole_seconds(WINDOW_SECONDS - elapsed + fraction * WINDOW_SECONDS)


def _whole_seconds(seconds: float) -> int:
    """Rounded up, past float noise (40.000000000004 is 40), and at least 1."""
    return max(1, math.ceil(round(seconds, 6)))


class RateLimiter:
    """This replica's counts and the others' (as last traded)."""

    def __init__(self, pool: Pool | None, clock: Callable[[], float] = time.time) -> None:
        self.replica = uuid.uuid4()
        self._pool = pool
        self._clock = clock
        self._ours: dict[int, Counter[str]] = {}
        self._others: rate_counts.Counts = {}
        self._dirty: dict[int, set[str]] = {}
        self._task: asyncio.Task[None] | None = None

    def _count(self, window: int, holder: str) -> int:
        ours = self._ours.get(window)
        return (ours[holder] if ours else 0) + self._others.get((window, holder), 0)

    def check(self, holder: str, limit: int) -> Decision:
        """Count one request of `holder` if it fits under `limit`."""
        now = self._clock()
        window, elapsed = divmod(now, WINDOW_SECONDS)
        start = int(window)
        previous, current = self._count(start - 1, holder), self._count(start, holder)
        used = estimate(previous, current, elapsed)
        if used + 1 > limit:
            wait = wait_seconds(previous, current, limit, elapsed)
            return Decision(False, limit, 0, wait)
        self._ours.setdefault(start, Counter())[holder] += 1
        self._dirty.setdefault(start, set()).add(holder)
        remaining = max(0, math.floor(limit - used - 1))
        return Decision(True, limit, remaining, math.ceil(WINDOW_SECONDS - elapsed))

    async def reconcile(self) -> None:
        """Send this replica's new counts; read the others'."""
        assert self._pool is not None
        current = int(self._clock() // WINDOW_SECONDS)
        windows = [current - 1, current]
        dirty, self._dirty = self._dirty, {}
        others: rate_counts.Counts = {}
        try:
            for window in sorted(dirty) or [current]:
                ours = {h: self._ours[window][h] for h in dirty.get(window, ())}
                others = await rate_counts.exchange(self._pool, self.replica, window, ours, windows)
        except BaseException:
            for window, holders in dirty.items():  # sent again next time
                self._dirty.setdefault(window, set()).update(holders)
            raise
        self._others = others
        for old in [w for w in self._ours if w < current - 1]:
            del self._ours[old]

    async def _run(self) -> None:
        assert self._pool is not None
        forgotten = 0
        while True:
            await asyncio.sleep(RECONCILE_SECONDS)
            try:
                await self.reconcile()
                current = int(self._clock() // WINDOW_SECONDS)
                if current > forgotten:  # once a minute: rows no window reads any more
                    await rate_counts.forget_before(self._pool, current - 1)
                    forgotten = current
            except Exception:  # the database is away: count locally until it is back
                log.warning("rate limits: counts not traded with the other replicas")

    def start(self) -> None:
        if self._pool is not None:
            self._task = asyncio.create_task(self._run(), name="harborgraph rate limits")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
