"""The gauges read off the process's own objects, every few seconds."""

from __future__ import annotations

import asyncio

from graph.metrics import Metrics
from graph.state import AppState

SAMPLE_SECONDS = 2.0


def sample(state: AppState, metrics: Metrics) -> None:
    for found in state.role_pools():
        size = found.pool.get_size()
        metrics.pool_size.labels(found.source, found.role).set(size)
        metrics.pool_in_use.labels(found.source, found.role).set(size - found.pool.get_idle_size())
    metrics.audit_queue.set(state.audit.depth)
    metrics.subscriptions.set(state.operations.total)


async def keep_sampling(state: AppState, metrics: Metrics) -> None:
    while True:
        sample(state, metrics)
        await asyncio.sleep(SAMPLE_SECONDS)
