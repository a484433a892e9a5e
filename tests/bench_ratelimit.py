"""Rate limits under load for the benchmark (issue 14): one partner's 64 clients sending at
twice its limit, and a second partner's latency alone and during that flood. Not a test:
tests/benchmark.py calls it against a `harborgraph serve` process.

Every request of either partner is the same small query; each client paces itself to its
share of its partner's rate, so the flood is a rate, not a saturation of the server. The
flooding partner sends from a process of its own, as it would from its own machine: in the
steady partner's event loop, its 64 clients' responses would delay the steady partner's own
and be measured as the server's. The steady partner has its own, larger limit (an
organization's `rate_limit_per_minute`) so that its p99 rests on a thousand samples a minute,
not on the third-worst of three hundred.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.queues import SimpleQueue

import httpx

# The flooding partner's limit, 10 requests a second: a limit is what one replica carries for
# a partner beside the others, even at twice its rate (a minute's quota allows that burst for
# half a minute).
LIMIT_PER_MINUTE = 600
FLOOD_CLIENTS = 64
FLOOD_PER_SECOND = 2 * LIMIT_PER_MINUTE / 60
STEADY_LIMIT_PER_MINUTE = 6000
STEADY_CLIENTS = 8
STEADY_PER_SECOND = 20.0  # 1,200 a minute: well inside its own limit
# A minute: at twice its rate, a partner spends its minute's quota in half of one; 429s come
# from then on.
SECONDS = 60.0
QUERY = {"query": "query Calls { portCalls(first: 5) { edges { node { id } } } }"}

Outcome = tuple[list[float], Counter[int]]


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
    outcome: Outcome,
) -> None:
    latencies, statuses = outcome
    headers = {"Authorization": f"Bearer {token}"}
    next_at = time.monotonic() + offset  # clients spread over the interval, not in step
    while next_at < until:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        started = time.perf_counter()
        response = await client.post("/graphql", json=QUERY, headers=headers)
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[response.status_code] += 1
        next_at += interval


async def run(base: str, token: str, clients: int, rate: float, seconds: float) -> Outcome:
    """`clients` clients of one partner sending `rate` requests a second in all."""
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    outcome: Outcome = ([], Counter())
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(
                paced(client, token, clients / rate, k / rate, until, outcome)
                for k in range(clients)
            )
        )
    return outcome


def _flood(base: str, token: str, seconds: float, answers: SimpleQueue[dict[int, int]]) -> None:
    _, statuses = asyncio.run(run(base, token, FLOOD_CLIENTS, FLOOD_PER_SECOND, seconds))
    answers.put(dict(statuses))


def p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98]


def steady(base: str, token: str, seconds: float) -> Outcome:
    return asyncio.run(run(base, token, STEADY_CLIENTS, STEADY_PER_SECOND, seconds))


def measure_flood(base: str, steady_token: str, flooding_token: str) -> FloodResult:
    steady(base, steady_token, 2.0)  # warm up
    alone, _ = steady(base, steady_token, SECONDS)
    spawn = multiprocessing.get_context("spawn")
    answers: SimpleQueue[dict[int, int]] = spawn.SimpleQueue()
    # The flood starts a second early (a spawned interpreter's import time) and ends after.
    flood = spawn.Process(target=_flood, args=(base, flooding_token, SECONDS + 2.0, answers))
    flood.start()
    try:
        time.sleep(1.0)
        flooded, steady_statuses = steady(base, steady_token, SECONDS)
        flood.join(timeout=30)
        if answers.empty():  # its statuses are small: put whole before it ended
            raise RuntimeError(f"the flooding partner's process failed (exit {flood.exitcode})")
        flood_statuses: dict[int, int] = answers.get()
    finally:
        if flood.is_alive():
            flood.kill()
    return FloodResult(
        statistics.median(alone),
        p99(alone),
        statistics.median(flooded),
        p99(flooded),
        dict(steady_statuses),
        flood_statuses,
    )
