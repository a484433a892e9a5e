"""The rate limiter's arithmetic (a sliding window of a minute) and how replicas trade counts
through PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from graph.database import create_pool
from graph.ratelimit import Decision, RateLimiter
from graph.settings import Settings
from resolvers.sources import Pool


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_full_minute_is_refused_until_the_window_has_slid_far_enough() -> None:
    clock = Clock(6000.0)  # a minute's start
    limiter = RateLimiter(None, clock)
    assert [limiter.check("organization MSCU", 3) for _ in range(3)] == [
        Decision(True, 3, 2, 60),
        Decision(True, 3, 1, 60),
        Decision(True, 3, 0, 60),
    ]
    # 3 this minute: the next fits once this minute weighs 2, 20 s into the next one.
    assert limiter.check("organization MSCU", 3) == Decision(False, 3, 0, 80)
    assert limiter.check("organization COSU", 3) == Decision(True, 3, 2, 60)  # its own quota
    clock.now += 79
    assert not limiter.check("organization MSCU", 3).allowed
    clock.now += 1
    assert limiter.check("organization MSCU", 3) == Decision(True, 3, 0, 40)


def test_the_previous_minute_weighs_what_the_window_still_covers() -> None:
    clock = Clock(6000.0)
    limiter = RateLimiter(None, clock)
    for _ in range(3):
        limiter.check("organization MSCU", 3)
    clock.now = 6090.0  # half-way through the next minute: the previous weighs 1.5
    assert limiter.check("organization MSCU", 3) == Decision(True, 3, 0, 30)
    # 1.5 + 1 used: room for one more when the previous weighs 1, 10 s on.
    assert limiter.check("organization MSCU", 3) == Decision(False, 3, 0, 10)
    clock.now = 6100.0
    assert limiter.check("organization MSCU", 3).allowed


def test_headers_follow_the_ietf_draft() -> None:
    assert Decision(True, 1200, 1143, 37).headers() == [
        (b"ratelimit-policy", b'"partner";q=1200;w=60'),
        (b"ratelimit", b'"partner";r=1143;t=37'),
    ]
    assert Decision(False, 1200, 0, 12).headers()[2] == (b"retry-after", b"12")


@pytest.fixture
async def pool(writable_url: str, test_settings: Settings) -> AsyncIterator[Pool]:
    created = await create_pool(writable_url, test_settings)
    yield created
    await created.close()


async def test_replicas_learn_each_others_counts_in_batches(pool: Pool) -> None:
    clock = Clock(6000.0)
    first, second = RateLimiter(pool, clock), RateLimiter(pool, clock)
    for _ in range(6):
        assert first.check("organization MSCU", 10).allowed
    assert second.check("organization MSCU", 10).remaining == 9  # not traded yet
    await first.reconcile()
    await second.reconcile()
    # second knows first's 6 and its own 1: three more fit.
    assert [second.check("organization MSCU", 10).allowed for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    await second.reconcile()
    await first.reconcile()
    assert not first.check("organization MSCU", 10).allowed
    rows = await pool.fetch(
        "SELECT replica, requests FROM community.rate_count WHERE holder = 'organization MSCU'"
    )
    assert sorted((r["replica"], r["requests"]) for r in rows) == sorted(
        [(first.replica, 6), (second.replica, 4)]
    )
