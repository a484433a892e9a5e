"""Rate limits under load for the benchmark (issue 14): one partner's 64 clients sending at
twice its limit, and a second partner's latency alone and during that flood. Not a test:
tests/benchmark.py calls it against a `harborgraph serve` process.

Every request of either partner is the same small query; each client paces itself to its
share of its partner's rate, so the flood is a rate, not a saturation of the server. Both
partners are under the same limit (HARBORGRAPH_RATE_LIMIT_PER_MINUTE); the steady one stays
well inside it.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass

import httpx

# The flooding partner's limit, 10 requests a second: a limit is what one replica carries for
# a partner beside the others, even at twice its rate (a minute's quota allows that burst for
# half a minute).
LIMIT_PER_MINUTE = 600
FLOOD_CLIENTS = 64
FLOOD_PER_SECOND = 2 * LIMIT_PER_MINUTE / 60
STEADY_CLIENTS = 4
STEADY_PER_SECOND = 5.0  # 300 a minute: well inside the same limit
# A minute: at twice its rate, a partner spends its minute's quota in half of one; 429s come
# from then on.
SECONDS = 60.0
QUERY = {"query": "query Calls { portCalls(first: 5) { edges { node { id } } } }"}


@dataclass(slots=True)
class FloodResult:
    alone_p50_ms: float
    alone_p99_ms: float
    flooded_p50_ms: float
    flooded_p99_ms: float
    steady_statuses: dict[int, int]
    flood_statuses: dict[int, int]

    @property
    def ratio(self) -> float:
        return self.flooded_p99_ms / self.alone_p99_ms


async def paced(
    client: httpx.AsyncClient,
    token: str,
    interval: float,
    offset: float,
    until: float,
    latencies: list[float],
    statuses: Counter[int],
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    next_at = time.monotonic() + offset  # clients spread over the interval, not in step
    while next_at < until:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        started = time.perf_counter()
        response = await client.post("/graphql", json=QUERY, headers=headers)
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[response.status_code] += 1
        next_at += interval


async def run(
    base: str, tokens: list[tuple[str, int, float]], seconds: float
) -> list[tuple[list[float], Counter[int]]]:
    """Each (token, clients, rate) for `seconds`; the latencies and statuses of each."""
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        until = time.monotonic() + seconds
        results: list[tuple[list[float], Counter[int]]] = [([], Counter()) for _ in tokens]
        await asyncio.gather(
            *(
                paced(client, token, clients / rate, k / rate, until, *results[n])
                for n, (token, clients, rate) in enumerate(tokens)
                for k in range(clients)
            )
        )
    return results


def p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98]


async def measure_flood(base: str, steady: str, flooding: str) -> FloodResult:
    await run(base, [(steady, STEADY_CLIENTS, STEADY_PER_SECOND)], 2.0)  # warm up
    ((alone, _),) = await run(base, [(steady, STEADY_CLIENTS, STEADY_PER_SECOND)], SECONDS)
    (flooded, steady_statuses), (_, flood_statuses) = await run(
        base,
        [
            (steady, STEADY_CLIENTS, STEADY_PER_SECOND),
            (flooding, FLOOD_CLIENTS, FLOOD_PER_SECOND),
        ],
        SECONDS,
    )
    return FloodResult(
        statistics.median(alone),
        p99(alone),
        statistics.median(flooded),
        p99(flooded),
        dict(steady_statuses),
        dict(flood_statuses),
    )
