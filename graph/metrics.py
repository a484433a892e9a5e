"""Prometheus metrics: one set per process, added up across a host's workers.

prometheus-client's multiprocess mode: each worker writes its values to files in a shared
directory, and whichever worker a scrape reaches reads them all. Every worker listens on the
metrics port with SO_REUSEPORT, so the port answers while any worker lives."""

from __future__ import annotations

import glob
import os
import re
import threading
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess, values
from prometheus_client.exposition import ThreadingWSGIServer, make_wsgi_app

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STATEMENT_BUCKETS = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89)
SQL_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
# Operation names are the caller's words: past this many per process, they count as other.
MAX_OPERATIONS = 200
OTHER = "(other)"
ANONYMOUS = "(anonymous)"
NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")


class Metrics:
    """What the process counts. A fresh set per app: tests build many apps in one process."""

    def __init__(self, multiprocess_dir: Path | None) -> None:
        # In multiprocess mode the values live in files, read at scrape time: no registry.
        registry = None if multiprocess_dir is not None else CollectorRegistry()
        self.registry = registry
        self._operations: set[str] = set()
        self.requests = Counter(
            "harborgraph_requests",
            "API requests by operation, partner kind and outcome",
            ("operation", "kind", "outcome"),
            registry=registry,
        )
        self.latency = Histogram(
            "harborgraph_request_duration_seconds",
            "API request latency, from the request's first byte to its last",
            ("operation", "kind"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.statements = Histogram(
            "harborgraph_request_sql_statements",
            "SQL statements an API request sent",
            ("operation",),
            buckets=STATEMENT_BUCKETS,
            registry=registry,
        )
        self.sql_time = Histogram(
            "harborgraph_request_sql_duration_seconds",
            "Time an API request spent in SQL statements (added up, concurrent ones too)",
            ("operation",),
            buckets=SQL_BUCKETS,
            registry=registry,
        )
        self.rate_limited = Counter(
            "harborgraph_rate_limited_requests",
            "Requests refused with 429 by the per-partner rate limit",
            ("kind",),
            registry=registry,
        )
        self.fallbacks = Counter(
            "harborgraph_compiled_fallbacks",
            "Queries the compiled path left to the resolvers",
            registry=registry,
        )
        self.pool_in_use = Gauge(
            "harborgraph_pool_connections_in_use",
            "Pool connections lent out, by source and role (sources sharing a database share "
            "one pool, so each shows it)",
            ("source", "role"),
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.pool_size = Gauge(
            "harborgraph_pool_connections",
            "Pool connections open, by source and role",
            ("source", "role"),
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.subscriptions = Gauge(
            "harborgraph_subscriptions_open",
            "GraphQL subscriptions open on WebSockets",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.audit_queue = Gauge(
            "harborgraph_audit_queue_depth",
            "Audit records waiting to be written",
            multiprocess_mode="livesum",
            registry=registry,
        )

    def operation(self, name: str | None) -> str:
        """A bounded label for an operation name."""
        if name is None:
            return ANONYMOUS
        if name in self._operations:
            return name
        if not NAME.match(name) or len(self._operations) >= MAX_OPERATIONS:
            return OTHER
        self._operations.add(name)
        return name


def use_multiprocess(directory: Path) -> None:
    """Switch prometheus-client to files in `directory` (before any metric is made)."""
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]


def clear(directory: Path) -> None:
    """Before the first worker starts: a fresh host has no counts."""
    for path in directory.glob("*.db"):
        path.unlink()


def forget_dead_workers(directory: Path) -> None:
    """A worker that crashed left its live gauges behind: they must not add up any more."""
    for path in glob.glob(str(directory / "gauge_live*_*.db")):
        pid = int(Path(path).stem.rsplit("_", 1)[1])
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]


def forget_worker(directory: Path) -> None:
    multiprocess.mark_process_dead(os.getpid(), str(directory))  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """A scrape every few seconds is not worth a line."""


class _SharedPortServer(ThreadingWSGIServer):
    allow_reuse_port = True  # every worker binds the port; the kernel spreads the scrapes


def scrape_registry(metrics: Metrics, directory: Path | None) -> CollectorRegistry:
    if directory is None:
        assert metrics.registry is not None
        return metrics.registry
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, str(directory))  # type: ignore[no-untyped-call]
    return registry


class MetricsServer:
    """`/metrics` on its own port, in a thread (a scrape never waits for the event loop)."""

    def __init__(self, host: str, port: int, registry: CollectorRegistry) -> None:
        app = make_wsgi_app(registry)
        self._server = make_server(
            host, port, app, server_class=_SharedPortServer, handler_class=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
