"""Values kept until their deadline; a full cache starts over."""

from __future__ import annotations

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
