"""The WebSocket operations partners hold open, counted against HARBORGRAPH_MAX_SUBSCRIPTIONS
on every replica together (resolvers.open_operations keeps each replica's counts)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter

from resolvers import open_operations
from resolvers.sources import Pool

log = logging.getLogger("harborgraph.operations")
REFRESH_SECONDS = 10.0  # well inside open_operations.REPLICA_TTL_SECONDS


class OperationCounts:
    """Operations open per partner (the anonymous per client address), here and elsewhere."""

    def __init__(self, limit: int, pool: Pool | None = None) -> None:
        self.limit = limit
        self.replica = uuid.uuid4()
        self._pool = pool
        self._open: Counter[str] = Counter()
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._refresher: asyncio.Task[None] | None = None

    @property
    def total(self) -> int:
        """Operations open on this replica."""
        return sum(self._open.values())

    async def take(self, holder: str) -> bool:
        """One more for `holder`, if it holds fewer than the limit on all replicas."""
        async with self._lock:
            wanted = self._open[holder] + 1
            if wanted > self.limit:
                return False
            if self._pool is not None and not await open_operations.claim(
                self._pool, self.replica, holder, wanted, self.limit
            ):
                return False
            self._open[holder] = wanted
            return True

    def give_back(self, holder: str) -> None:
        self._open[holder] -= 1
        left = self._open[holder]
        if left <= 0:
            del self._open[holder]
        if self._pool is not None:
            task = asyncio.create_task(self._set(holder, max(left, 0)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _set(self, holder: str, left: int) -> None:
        assert self._pool is not None
        async with self._lock:
            await open_operations.set_open(self._pool, self.replica, holder, left)

    def start(self) -> None:
        if self._pool is not None:
            self._refresher = asyncio.create_task(self._refresh(), name="harborgraph operations")

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        if self._pool is not None:
            with contextlib.suppress(Exception):  # stale rows expire by themselves anyway
                await open_operations.forget(self._pool, self.replica)

    async def _refresh(self) -> None:
        assert self._pool is not None
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                await open_operations.refresh(self._pool, self.replica)
            except Exception:  # the database is away: the next refresh tries again
                log.warning("operations: could not refresh this replica's counts")
