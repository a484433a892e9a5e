"""Values kept until their deadline; a full cache starts over."""

from __future__ import annotations

import pytest

from graph.expiring import MISSING, Expiring


def test_a_value_is_kept_until_its_deadline() -> None:
    cache: Expiring[str, int | None] = Expiring()
    assert cache.get("a", 0.0) is MISSING
    cache.put("a", None, 10.0)  # None is a value (an unknown organization), not a miss
    assert cache.get("a", 9.9) is None
    assert cache.get("a", 10.0) is MISSING


def test_a_full_cache_starts_over() -> None:
    cache: Expiring[int, int] = Expiring(max_entries=3)
    for key in range(3):
        cache.put(key, key, 100.0)
    cache.put(3, 3, 100.0)
    assert [cache.get(k, 0.0) for k in range(4)] == [MISSING, MISSING, MISSING, 3]


async def test_fetch_loads_once_until_the_deadline_the_value_gives() -> None:
    cache: Expiring[str, int] = Expiring()
    loads: list[str] = []

    async def load(key: str) -> int:
        loads.append(key)
        return len(loads) * 10

    assert await cache.fetch("a", 0.0, load, lambda value: value + 0.5) == 10
    assert await cache.fetch("a", 10.0, load, lambda value: value + 0.5) == 10
    assert await cache.fetch("a", 10.5, load, lambda value: value + 0.5) == 20
    assert loads == ["a", "a"]


async def test_a_failed_load_keeps_nothing() -> None:
    cache: Expiring[str, int] = Expiring()

    async def refuse(key: str) -> int:
        raise LookupError(key)

    for _ in range(2):
        with pytest.raises(LookupError):
            await cache.fetch("a", 0.0, refuse, lambda value: 100.0)
    assert cache.get("a", 0.0) is MISSING
