"""Rate limits and suspensions at the door, against `harborgraph serve` in production mode (an
outside issuer's public key): one partner cannot take the server, its limit holds across two
replicas that share only PostgreSQL, and a suspended partner is refused from its next
request on."""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from graph.keys import ensure_dev_keys, load_private_key, mint_token
from tests.servers import Server, server_env

LIMIT = 5
CALLS = {"query": "query Calls { portCalls(first: 1) { edges { node { id } } } }"}
EVENTS = "SELECT count(*) FROM cargo.event"


class Issuer:
    """An identity provider of its own: the servers know only its public key."""

    def __init__(self, folder: Path) -> None:
        self.keys = ensure_dev_keys(folder)

    def token(self, org: str, *scopes: str) -> str:
        return mint_token(
            load_private_key(self.keys.private_key_path),
            kid=self.keys.kid,
            issuer="https://idp.port.example",
            audience="harborgraph",
            org=org,
            scopes=scopes,
            ttl_seconds=600,
        )


def production(url: str, folder: Path, issuer: Issuer) -> Server:
    folder.mkdir()
    env = server_env(
        url,
        folder / "data",
        HARBORGRAPH_ENV="production",
        HARBORGRAPH_JWT_PUBLIC_KEY_FILE=str(issuer.keys.public_key_path),
        HARBORGRAPH_JWT_ISSUER="https://idp.port.example",
        HARBORGRAPH_RATE_LIMIT_PER_MINUTE=str(LIMIT),
    )
    return Server(url, env, folder)


@pytest.fixture
def issuer(tmp_path: Path) -> Issuer:
    return Issuer(tmp_path / "issuer")


@pytest.fixture
async def replicas(
    writable_url: str, tmp_path: Path, issuer: Issuer
) -> AsyncIterator[list[Server]]:
    servers = [production(writable_url, tmp_path / f"replica{n}", issuer) for n in (1, 2)]
    try:
        await asyncio.gather(*(s.start() for s in servers))
        yield servers
    finally:
        await asyncio.gather(*(s.stop() for s in servers))


async def early_in_a_minute() -> None:
    """The sliding window's arithmetic is exact within a minute: start well inside one."""
    second = datetime.datetime.now(datetime.UTC).second
    if second > 40:
        await asyncio.sleep(61 - second)


async def post(server: Server, token: str | None, body: Any = CALLS) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        return await client.post("/graphql", json=body, headers=headers)


async def test_a_partner_over_its_limit_is_answered_429_and_others_are_not(
    replicas: list[Server], issuer: Issuer, writable_url: str
) -> None:
    await early_in_a_minute()
    server = replicas[0]
    mscu, cosu = issuer.token("MSCU", "cargo:read"), issuer.token("COSU", "cargo:read")
    answers = [await post(server, mscu) for _ in range(LIMIT + 1)]
    assert [a.status_code for a in answers] == [200] * LIMIT + [429]
    standing = [a.headers["ratelimit"].split(";") for a in answers[:LIMIT]]
    assert [(name, r) for name, r, _t in standing] == [
        ('"partner"', f"r={LIMIT - n}") for n in range(1, LIMIT + 1)
    ]
    assert all(0 < int(t.removeprefix("t=")) <= 60 for _name, _r, t in standing)
    assert {a.headers["ratelimit-policy"] for a in answers} == {f'"partner";q={LIMIT};w=60'}
    refused = answers[-1]
    retry = int(refused.headers["retry-after"])
    # This minute is full: into the next, until this one weighs LIMIT - 1 (12 s into it).
    assert 60 - 41 + 12 <= retry <= 60 + 12
    assert refused.json() == {
        "errors": [
            {
                "message": f"rate limit exceeded: {LIMIT} requests per minute; "
                f"retry after {retry} s",
                "extensions": {"code": "RATE_LIMITED"},
            }
        ]
    }
    assert (await post(server, cosu)).status_code == 200  # another partner's quota

    # A refused publication writes nothing; the DCSA endpoint refuses in DCSA's shape.
    connection = await asyncpg.connect(writable_url)
    try:
        before = await connection.fetchval(EVENTS)
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
            dcsa = await client.post(
                "/dcsa/tnt/v2/events", json=[{}], headers={"Authorization": f"Bearer {mscu}"}
            )
        assert await connection.fetchval(EVENTS) == before
    finally:
        await connection.close()
    assert dcsa.status_code == 429
    assert dcsa.headers["retry-after"].isdigit()
    assert (dcsa.json()["statusCode"], dcsa.json()["errors"][0]["errorCodeText"]) == (
        429,
        "Too Many Requests",
    )


async def test_the_limit_holds_across_replicas_that_share_only_postgresql(
    replicas: list[Server], issuer: Issuer
) -> None:
    await early_in_a_minute()
    token = issuer.token("MSCU", "cargo:read")
    first = [(await post(replicas[0], token)).status_code for _ in range(3)]
    await asyncio.sleep(2.5)  # each replica trades its counts once a second
    second = [(await post(replicas[1], token)).status_code for _ in range(3)]
    assert first == [200, 200, 200]
    assert second == [200, 200, 429]


async def test_every_answer_says_where_the_caller_stands(
    replicas: list[Server], issuer: Issuer
) -> None:
    server = replicas[0]
    malformed = await post(server, issuer.token("MAEU", "cargo:read"), body="{")
    forged = await post(server, issuer.token("MSCU", "cargo:read")[:-4] + "AAAA")
    anonymous = await post(server, None)
    for answer in (malformed, forged, anonymous):
        assert answer.status_code in (200, 400, 401)
        assert answer.headers["ratelimit-policy"] == f'"partner";q={LIMIT};w=60'
        assert answer.headers["ratelimit"].startswith('"partner";r=')


async def test_the_anonymous_are_limited_by_address(replicas: list[Server]) -> None:
    await early_in_a_minute()
    statuses = [(await post(replicas[0], None)).status_code for _ in range(LIMIT + 1)]
    assert statuses == [200] * LIMIT + [429]


async def test_an_organization_may_have_its_own_limit(
    replicas: list[Server], issuer: Issuer, writable_url: str
) -> None:
    await early_in_a_minute()
    connection = await asyncpg.connect(writable_url)
    try:
        await connection.execute(
            "UPDATE community.organization SET rate_limit_per_minute = 2 WHERE code = 'MSCU'"
        )
    finally:
        await connection.close()
    token = issuer.token("MSCU", "cargo:read")
    answers = [await post(replicas[0], token) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["ratelimit-policy"] == '"partner";q=2;w=60'


async def test_a_suspended_partner_is_refused_from_its_next_request_on(
    replicas: list[Server], issuer: Issuer, writable_url: str
) -> None:
    token = issuer.token("COSU", "cargo:read")
    assert [(await post(s, token)).status_code for s in replicas] == [200, 200]  # now cached
    connection = await asyncpg.connect(writable_url)
    try:
        await connection.execute(
            "UPDATE community.organization SET suspended_at = now() WHERE code = 'COSU'"
        )
        suspended = time.monotonic()
        refused = [await post(s, token) for s in replicas]
        took = time.monotonic() - suspended
        await connection.execute(
            "UPDATE community.organization SET suspended_at = NULL WHERE code = 'COSU'"
        )
        await asyncio.sleep(0.2)
        back = [(await post(s, token)).status_code for s in replicas]
    finally:
        await connection.close()
    assert took < 1  # well inside the cache's 5 s: the change was announced
    for answer in refused:
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == (
            'Bearer error="invalid_token", error_description="organization suspended"'
        )
        assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert back == [200, 200]
