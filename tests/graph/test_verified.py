"""Verified tokens: one signature check per token and minute, never past its expiry."""

from __future__ import annotations

import time

import httpx
import pytest

from graph.auth import Claims, InvalidToken, verify
from graph.settings import Settings
from graph.state import AppState
from graph.verified import VerifiedTokens
from tests.conftest import Tokens
from tests.helpers import app_state


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def counted(state: AppState, seen: list[str]):  # type: ignore[no-untyped-def]
    async def check(token: str) -> Claims:
        seen.append(token)
        return await verify(token, settings=state.settings.jwt, keys=state.keys)

    return check


async def test_a_token_is_verified_once_until_its_expiry(
    app_client: httpx.AsyncClient, tokens: Tokens, test_settings: Settings
) -> None:
    state = app_state(app_client)
    seen: list[str] = []
    clock = Clock()
    leeway = test_settings.jwt.leeway_seconds
    cache = VerifiedTokens(counted(state, seen), leeway, ttl=60.0, clock=clock)
    token = tokens.mint("CBP", "cargo:read", ttl=30)
    first = await cache(token)
    assert first.organization_code == "CBP"
    assert await cache(token) == first
    assert seen == [token]
    # Past exp + leeway the cached claims are not used: the token is verified again.
    clock.now = first.expires_at + leeway + 1
    assert await cache(token) == first  # the real clock: still valid for verify itself
    assert seen == [token, token]


async def test_a_minute_at_most(
    app_client: httpx.AsyncClient, tokens: Tokens, test_settings: Settings
) -> None:
    state = app_state(app_client)
    seen: list[str] = []
    clock = Clock()
    cache = VerifiedTokens(counted(state, seen), 0, ttl=60.0, clock=clock)
    token = tokens.mint("CBP", "cargo:read", ttl=3600)
    await cache(token)
    clock.now += 59
    await cache(token)
    clock.now += 2
    await cache(token)
    assert seen == [token, token]


async def test_a_refused_token_is_refused_every_time(
    app_client: httpx.AsyncClient, tokens: Tokens, test_settings: Settings
) -> None:
    state = app_state(app_client)
    seen: list[str] = []
    cache = VerifiedTokens(counted(state, seen), 0, clock=Clock())
    token = tokens.mint("CBP", "cargo:read")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for _ in range(2):
        with pytest.raises(InvalidToken):
            await cache(forged)
    assert seen == [forged, forged]
