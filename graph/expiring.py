"""Values kept until a deadline: the small caches of the request path (graph.organizations,
graph.verified). A full cache starts over, so a flood of keys costs look-ups, never memory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Generic, Literal, TypeVar

K = TypeVar("K")
V = TypeVar("V")
MAX_ENTRIES = 10_000


class Missing(Enum):
    MISSING = "missing"


MISSING = Missing.MISSING


class Expiring(Generic[K, V]):
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K, now: float) -> V | Literal[Missing.MISSING]:
        """The value kept for `key`, or MISSING when there is none or its deadline passed."""
        entry = self._entries.get(key)
        if entry is None or entry[0] <= now:
            return MISSING
        return entry[1]

    def put(self, key: K, value: V, deadline: float) -> None:
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[key] = (deadline, value)

    async def fetch(
        self, key: K, now: float, load: Callable[[K], Awaitable[V]], until: Callable[[V], float]
    ) -> V:
        """The value kept for `key`, else `load`ed and kept until `until(value)`. A load that
        raises keeps nothing."""
        kept = self.get(key, now)
        if kept is not MISSING:
            return kept
        value = await load(key)
        self.put(key, value, until(value))
        return value
