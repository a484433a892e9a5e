"""Metrics and traces for the app's lifetime: the metrics port, the gauges, the tracer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider

from graph.gauges import keep_sampling
from graph.metrics import (
    Metrics,
    MetricsServer,
    forget_dead_workers,
    forget_worker,
    scrape_registry,
    use_multiprocess,
)
from graph.settings import Settings
from graph.state import AppState
from graph.tracing import provider_from_environment


def metrics_directory(settings: Settings) -> Path | None:
    """Where a host's workers add up their metrics; None when no metrics port is set."""
    if settings.metrics_port is None:
        return None
    return settings.metrics_dir or settings.data_dir / "metrics"


def process_metrics(settings: Settings) -> Metrics:
    directory = metrics_directory(settings)
    if directory is not None:
        use_multiprocess(directory)
    return Metrics(directory)


def tracer_provider(settings: Settings) -> TracerProvider | None:
    if settings.traces_exporter is None:
        return None
    return provider_from_environment(settings.traces_exporter)


@contextlib.asynccontextmanager
async def exported(state: AppState, metrics: Metrics) -> AsyncIterator[None]:
    """The gauges sampled, and /metrics served on its own port when one is set."""
    settings = state.settings
    directory = metrics_directory(settings)
    server = None
    if settings.metrics_port is not None:
        assert directory is not None
        forget_dead_workers(directory)
        registry = scrape_registry(metrics, directory)
        server = MetricsServer(settings.host, settings.metrics_port, registry)
        server.start()
    sampler = asyncio.create_task(keep_sampling(state, metrics), name="harborgraph gauges")
    try:
        yield
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        if server is not None:
            server.stop()
        if directory is not None:
            forget_worker(directory)
