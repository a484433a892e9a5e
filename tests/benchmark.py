"""The partner-query benchmark (issue 9): a script, not a test; `make bench` runs it.

    .venv/bin/python tests/benchmark.py [--scales 1,10] [--concurrency 16] [--duration 10]
                                        [--database-url URL]

For each scale:
1. A scratch database `hg_bench_<pid>` on --database-url / TEST_DATABASE_URL (an admin URL),
   else on an embedded PostgreSQL in a temporary directory; migrated and seeded (seed 42,
   fixed anchor date).
2. The carrier query (25 port calls x 20 containers x their latest 3 events) asked by four
   partners with the same document and variables: the carrier with the most calls, the
   trucker with the most appointments, the terminal of most of those calls, and customs.
   Each sees what its row rules allow.
3. The app served by uvicorn in a subprocess (this file with --serve): gc.freeze() after
   start-up and a higher generation-0 threshold; GET /_bench/statements counts the SQL
   statements of the app's pools and POST /_bench/sql serves the SQL floor (the same data by
   hand-written SQL, tests/bench_floor.py) over the same HTTP stack. Those routes exist
   only in this bootstrap.
4. Per partner, on the compiled path, on the resolver path (HARBORGRAPH_EXECUTION, a server
   each) and for the floor: req/s at N concurrent (tests/bench_load.py in another process),
   p50/p99, one request alone (median of sequential runs), SQL statements and server CPU
   per request. The answers are checked: compiled equals resolvers, the floor's data equals
   the compiled answer's.
Everything stops (server, scratch database, embedded PostgreSQL) on exit, errors and Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from tests.bench_ingest import IngestResult
    from tests.bench_ratelimit import FloodResult
    from tests.bench_subscriptions import AcrossResult, SubscriptionResult

HERE = Path(__file__).resolve().parent
LOAD_GENERATOR = HERE / "bench_load.py"
HOST = "127.0.0.1"
STATEMENTS_ROUTE = "/_bench/statements"
FLOOR_ROUTE = "/_bench/sql"
EXPLAIN_ROUTE = "/_bench/explain"
# A sequential scan is fine on a small table (a port's terminals; 100 vessels at scale 1);
# one that reads more rows than this per loop is not.
LARGE_SCAN_ROWS = 5_000
SEQ_SCAN = re.compile(r"Seq Scan on (\w+).*?actual time=\S+ rows=(\d+) loops=\d+\)")
REMOVED = re.compile(r"^\s*Rows Removed by Filter: (\d+)")
DEFAULT_ANCHOR = "2026-03-02"
SCOPES = ("vessel:read", "cargo:read")
PARTNERS = ("carrier", "trucker", "terminal", "customs")
PATHS = ("compiled", "resolvers", "SQL floor")

CARRIER_QUERY = """
query Carrier($carrier: String!, $before: DateTime!) {
  portCalls(first: 25, filter: {carrier: $carrier, arrivingBefore: $before}) {
    edges { node {
      id
      vessel { imo name }
      estimatedArrival
      terminal { smdgCode }
      containers(first: 20) { edges { node {
        number status availableForPickup
        events(first: 3) { edges { node {
          eventType eventDateTime
          ... on EquipmentEvent { equipmentEventTypeCode }
        } } }
      } } }
    } }
  }
}
"""

CARRIER_WITH_MOST_CALLS = """
SELECT o.code, pc.carrier_scac, count(*) AS calls
FROM vessel.port_call pc
JOIN community.organization o ON o.scac = pc.carrier_scac AND o.kind = 'CARRIER'
WHERE pc.estimated_arrival < $1
GROUP BY o.code, pc.carrier_scac
ORDER BY calls DESC, o.code
LIMIT 1
"""
# The other partners asking the same query ($1: the carrier's SCAC). The bench database
# holds every source, so these look-ups may join them.
PARTNER_ORGANIZATIONS = {
    "trucker": """
        SELECT o.code FROM community.organization o
        JOIN gate.appointment a ON a.trucker_scac = o.scac
        JOIN cargo.container_visit cv ON cv.equipment_reference = a.equipment_reference
        WHERE o.kind = 'TRUCKER' AND cv.carrier_scac = $1 AND a.status <> 'CANCELLED'
        GROUP BY o.code ORDER BY count(*) DESC, o.code LIMIT 1""",
    "terminal": """
        SELECT o.code FROM community.organization o
        JOIN vessel.terminal_call tc
            ON tc.unlocode = o.terminal_unlocode AND tc.smdg_code = o.terminal_smdg_code
        JOIN vessel.port_call pc ON pc.id = tc.port_call_id
        WHERE o.kind = 'TERMINAL' AND pc.carrier_scac = $1
        GROUP BY o.code ORDER BY count(*) DESC, o.code LIMIT 1""",
    "customs": """
        SELECT code FROM community.organization
        WHERE kind = 'CUSTOMS' AND $1::text IS NOT NULL ORDER BY code LIMIT 1""",
}
OWN_RATE_LIMIT = "UPDATE community.organization SET rate_limit_per_minute = $2 WHERE code = $1"


class BenchmarkError(RuntimeError):
    """The benchmark cannot go on; the message says why."""


# --- The server bootstrap (--serve) ----------------------------------------------------------


class StatementCounter:
    """Counts the SQL statements the app's pools run (asyncpg's query logger)."""

    TABLE = re.compile(r"\b((?:community|vessel|cargo|gate|security)\.\w+)")

    def __init__(self) -> None:
        self.total = 0
        self.in_flight = 0  # HTTP requests the app is serving (BenchApp keeps it)
        self.by_label: Counter[str] = Counter()
        self._labels: dict[str, str] = {}
        # The statements of the latest request (with their arguments), for /_bench/explain.
        self.recent: list[tuple[str, tuple[Any, ...]]] = []

    def observe(self, query: str, args: tuple[Any, ...] = ()) -> None:
        self.recent.append((query, args))
        self.total += 1
        label = self._labels.get(query)
        if label is None:
            label = self._labels[query] = self.label(query)
        self.by_label[label] += 1

    @classmethod
    def label(cls, query: str) -> str:
        tables = list(dict.fromkeys(cls.TABLE.findall(query)))
        if tables:
            return " + ".join(tables[:3])
        if "typeinfo_tree" in query:
            return "(asyncpg type introspection)"
        return "(driver: " + " ".join(query.split()[:2]) + ")"

    def snapshot(self) -> dict[str, Any]:
        return {
            "statements": self.total,
            "by_label": dict(self.by_label),
            "in_flight": self.in_flight,
        }


class Floor:
    """POST /_bench/sql: the floor for {"org", "carrier", "before"}, on a pool of its own
    (the app's settings, its statements counted like the app's)."""

    def __init__(self, url: str, counter: StatementCounter) -> None:
        self.url = url
        self.counter = counter
        self.pool: Any = None
        self.principals: dict[str, Any] = {}

    async def start(self) -> None:
        from graph.database import create_pool
        from graph.settings import load_settings

        self.pool = await create_pool(self.url, load_settings(), self.counter.observe)

    async def principal(self, org: str) -> Any:
        from resolvers.community import organization_by_code
        from resolvers.principal import Principal

        if org not in self.principals:
            found = await organization_by_code(self.pool, org)
            if found is None:
                raise BenchmarkError(f"no organization {org}")
            self.principals[org] = Principal(
                subject="bench",
                organization_code=found.code,
                kind=found.kind,
                scopes=frozenset(SCOPES),
                scac=found.scac,
                terminal_unlocode=found.terminal_unlocode,
                terminal_smdg_code=found.terminal_smdg_code,
            )
        return self.principals[org]

    async def explain(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[str]:
        """EXPLAIN (ANALYZE, BUFFERS) of the latest request's statements on the sources."""
        plans = []
        for sql, args in list(statements):
            if "community." in sql or "pg_catalog" in sql or "typeinfo" in sql:
                continue
            rows = await self.pool.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)
            plans.append("\n".join(r[0] for r in rows))
        return plans

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from tests.bench_floor import FloorRequest, serve_floor

        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        asked = json.loads(body)
        request = FloorRequest(
            await self.principal(asked["org"]),
            asked["carrier"],
            dt.datetime.fromisoformat(asked["before"]),
        )
        answer = await serve_floor(self.pool, request)
        await Response(answer, media_type="application/json")(scope, receive, send)


class BenchApp:
    """The app, plus the bench routes; freezes the collector once the lifespan has started."""

    def __init__(self, app: ASGIApp, counter: StatementCounter, floor: Floor, gen0: int) -> None:
        self.app = app
        self.counter = counter
        self.floor = floor
        self.gen0 = gen0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == STATEMENTS_ROUTE:
            await JSONResponse(self.counter.snapshot())(scope, receive, send)
            return
        if scope["type"] != "lifespan":
            # Counted until the app returns, even when the client has gone.
            self.counter.in_flight += 1
            try:
                if scope["type"] == "http" and scope["path"] == FLOOR_ROUTE:
                    await self.floor(scope, receive, send)
                elif scope["type"] == "http" and scope["path"] == EXPLAIN_ROUTE:
                    plans = await self.floor.explain(self.counter.recent)
                    await JSONResponse(plans)(scope, receive, send)
                else:
                    self.counter.recent = []
                    await self.app(scope, receive, send)
            finally:
                self.counter.in_flight -= 1
            return

        async def started(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                await self.floor.start()
                # Start-up objects (schema, pools, keys) live for the process: keep the
                # collector from rescanning them, and let generation 0 grow before it runs.
                gc.collect()
                gc.freeze()
                gc.set_threshold(self.gen0, *gc.get_threshold()[1:])
            await send(message)

        await self.app(scope, receive, started)


def serve(gen0: int) -> int:
    """Run the app under uvicorn with the HARBORGRAPH_* environment the parent set."""
    import uvicorn

    from graph.app import create_app
    from graph.database import source_dsns
    from graph.settings import load_settings

    settings = load_settings()
    if settings.database_url is None:
        raise BenchmarkError("--serve needs HARBORGRAPH_DATABASE_URL")
    counter = StatementCounter()
    app = create_app(settings, source_dsns(settings, settings.database_url), counter.observe)
    uvicorn.run(
        BenchApp(app, counter, Floor(settings.database_url, counter), gen0),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    return 0


# --- Database ---------------------------------------------------------------------------------


async def create_database(admin_url: str, name: str) -> None:
    conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(admin_url: str, name: str) -> None:
    conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@contextlib.contextmanager
def scratch_database(admin_url: str | None, workdir: Path) -> Iterator[str]:
    """The URL of a new database `hg_bench_<pid>`, dropped on exit."""
    from graph.database import EmbeddedServer, start_embedded, with_database

    server: EmbeddedServer | None = None
    if admin_url is None:
        print("database: embedded PostgreSQL in", workdir / "embedded", flush=True)
        server = start_embedded(workdir / "embedded")
        admin_url = server.get_uri()
    name = f"hg_bench_{os.getpid()}"
    try:
        asyncio.run(create_database(admin_url, name))
        try:
            yield with_database(admin_url, name)
        finally:
            asyncio.run(drop_database(admin_url, name))
            print(f"dropped database {name}", flush=True)
    finally:
        if server is not None:
            server.cleanup()
            print("stopped the embedded PostgreSQL", flush=True)


@dataclass(frozen=True, slots=True)
class Seeded:
    seconds: float
    counts: dict[str, int]
    postgres: str
    scac: str  # the carrier whose calls the query asks for
    calls_before_anchor: int
    partners: dict[str, str]  # partner -> organization code


async def prepare(url: str, scale: float, anchor: dt.date) -> Seeded:
    from graph.runtime import migrate_all
    from resolvers.seed import seed
    from resolvers.sources import SOURCES, Pool, SourcePools

    await migrate_all(dict.fromkeys(SOURCES, url))
    pool: Pool = await asyncpg.create_pool(url, min_size=1, max_size=len(SOURCES))
    try:
        report = await seed(
            SourcePools(dict.fromkeys(SOURCES, pool)), scale=scale, seed=42, anchor=anchor
        )
        async with pool.acquire() as conn:
            await conn.execute("ANALYZE")
            version = str(await conn.fetchval("SHOW server_version"))
            row = await conn.fetchrow(CARRIER_WITH_MOST_CALLS, midnight(anchor))
            if row is None:
                raise BenchmarkError("the seed holds no carrier port calls before the anchor")
            partners = {"carrier": row["code"]}
            for partner, sql in PARTNER_ORGANIZATIONS.items():
                partners[partner] = await conn.fetchval(sql, row["carrier_scac"])
    finally:
        await pool.close()
    return Seeded(
        report.seconds, report.counts, version, row["carrier_scac"], row["calls"], partners
    )


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


# --- Server process ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(url: str, data_dir: Path, port: int, execution: str) -> dict[str, str]:
    return {
        "HARBORGRAPH_EXECUTION": execution,
        "HARBORGRAPH_DATABASE_URL": url,
        "HARBORGRAPH_DATA_DIR": str(data_dir),
        "HARBORGRAPH_HOST": HOST,
        "HARBORGRAPH_PORT": str(port),
        "HARBORGRAPH_ENV": "development",  # generated dev keys in the data directory
        "HARBORGRAPH_POOL_MIN_SIZE": "4",
        "HARBORGRAPH_POOL_MAX_SIZE": "20",
        # Load runs are one partner at hundreds of requests a second (serve_and_flood sets its own).
        "HARBORGRAPH_RATE_LIMIT_PER_MINUTE": "1000000",
    }


def stop(process: subprocess.Popen[bytes], name: str) -> None:
    if process.poll() is None:
        process.terminate()  # uvicorn: graceful shutdown, the lifespan closes the pools
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        print(f"stopped the {name} (pid {process.pid})", flush=True)


@contextlib.contextmanager
def server(
    env: Mapping[str, str],
    args: argparse.Namespace,
    log_path: Path,
    arguments: Sequence[str] | None = None,
) -> Iterator[int]:
    """A uvicorn subprocess serving the app (this file's bootstrap, unless other `arguments`
    are given); yields its pid once /readyz says ready."""
    base = f"http://{HOST}:{env['HARBORGRAPH_PORT']}"
    bootstrap = [str(Path(__file__).resolve()), "--serve", "--gc-gen0", str(args.gc_gen0)]
    command = [sys.executable, *(arguments or bootstrap)]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HARBORGRAPH_")}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            env={**clean, **env},
            cwd=HERE.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches this process, which stops it in order
        )
    try:
        wait_ready(base, process, log_path, timeout=90)
        yield process.pid
    finally:
        stop(process, "server")


def wait_ready(base: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base, timeout=5) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BenchmarkError(f"the server exited ({process.returncode}):\n{tail(log_path)}")
            with contextlib.suppress(httpx.HTTPError):
                if client.get("/readyz").status_code == 200:
                    return
            time.sleep(0.2)
    raise BenchmarkError(f"the server was not ready after {timeout:.0f} s:\n{tail(log_path)}")


def tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def process_tree_cpu_seconds(root: int) -> float | None:
    """CPU of a process and its descendants (a supervisor's workers), Linux /proc only."""
    spent = [cpu_seconds(pid) for pid in process_tree(root)]
    return None if spent[0] is None and len(spent) == 1 else sum(s or 0.0 for s in spent)


def process_tree_rss(root: int) -> int | None:
    """Resident memory (bytes) of a process and its descendants, Linux /proc only."""
    total = 0
    for pid in process_tree(root):
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total or None


def process_tree(root: int) -> list[int]:
    """A process and its descendants, the root first."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    tree, frontier = [root], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree += children
        frontier += children
    return tree


def postgres_cpu_seconds() -> float | None:
    """CPU of every PostgreSQL process on this machine (the benchmark's server is one)."""
    total, found = 0.0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            head, tail = stat.read_text().rsplit(")", 1)
            if head.endswith("(postgres"):
                fields = tail.split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
                found = True
    return total if found else None


def sql_snapshot(client: httpx.Client) -> dict[str, Any]:
    snapshot: dict[str, Any] = client.get(STATEMENTS_ROUTE).raise_for_status().json()
    return snapshot


def idle_snapshot(client: httpx.Client, timeout: float = 180) -> dict[str, Any]:
    """The counter once the server has finished every request (none of ours in flight)."""
    deadline = time.monotonic() + timeout
    while (snapshot := sql_snapshot(client))["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.05)
    if snapshot["in_flight"]:
        raise BenchmarkError(f"the server still serves {snapshot['in_flight']} request(s)")
    return snapshot


def sql_delta(before: dict[str, Any], after: dict[str, Any]) -> tuple[int, dict[str, int]]:
    labels: dict[str, int] = {}
    for label, count in after["by_label"].items():
        grown = count - before["by_label"].get(label, 0)
        if grown:
            labels[label] = grown
    return after["statements"] - before["statements"], labels


def load_average() -> str:
    """The machine's 1-minute load average: other work on it skews every figure."""
    try:
        return f"load average {os.getloadavg()[0]:.2f}"
    except OSError:
        return "load average unknown"


def versions() -> str:
    names = ("strawberry-graphql", "graphql-core", "asyncpg", "starlette", "uvicorn")
    found = []
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{name} {metadata.version(name)}")
    return f"Python {platform.python_version()}, " + ", ".join(found)


def print_counts(counts: Mapping[str, int]) -> None:
    cells = [f"{table:<34}{rows:>9,}" for table, rows in counts.items()]
    for start in range(0, len(cells), 2):
        print("  " + "   ".join(cells[start : start + 2]))


# --- Answers -----------------------------------------------------------------------------------


def count_objects(value: Any) -> int:
    """JSON objects in an answer, every level (connections and edges included)."""
    if isinstance(value, dict):
        return 1 + sum(count_objects(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_objects(v) for v in value)
    return 0


def describe(data: dict[str, Any]) -> str:
    from tests.bench_floor import answer_shape

    shape = answer_shape(data)
    boxes = sum(len(call[4]) for call in shape)
    events = sum(len(box[3]) for call in shape for box in call[4])
    return (
        f"{len(shape)} port calls, {boxes} containers, {events} events; "
        f"{count_objects(data)} JSON objects"
    )


# --- Load generators --------------------------------------------------------------------------


def run_load(spec: Path, *options: str, timeout: float) -> dict[str, Any]:
    command = [sys.executable, str(LOAD_GENERATOR), "--spec", str(spec), *options]
    done = subprocess.run(
        command, capture_output=True, timeout=timeout, check=False, start_new_session=True
    )
    if done.returncode != 0:
        raise BenchmarkError(f"the load generator failed:\n{done.stderr.decode(errors='replace')}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@dataclass(frozen=True, slots=True)
class Run:
    """One load generator run, with what the server spent on it."""

    load: dict[str, Any]
    sql_per_request: float
    server_cpu_ms: float | None  # per request


def measured_run(client: httpx.Client, pid: int, spec: Path, *options: str, timeout: float) -> Run:
    """Run the load generator; count the server's SQL statements and CPU."""
    sql_before, cpu_before = idle_snapshot(client), cpu_seconds(pid)
    load = run_load(spec, *options, timeout=timeout)
    sql_after = idle_snapshot(client)
    cpu_after = cpu_seconds(pid)
    count, _ = sql_delta(sql_before, sql_after)
    requests = max(load["total_requests"], 1)  # every request the SQL and CPU went to
    server_cpu = None
    if cpu_before is not None and cpu_after is not None:
        server_cpu = (cpu_after - cpu_before) * 1000 / requests
    return Run(load, count / requests, server_cpu)


@dataclass(frozen=True, slots=True)
class Row:
    """One partner on one path: under load, and alone."""

    partner: str
    path: str
    load: Run
    single: Run

    @property
    def rps(self) -> float:
        return float(self.load.load["rps"])

    @property
    def p50(self) -> float:
        return float(self.load.load["latency_ms"]["p50"])

    @property
    def p99(self) -> float:
        return float(self.load.load["latency_ms"]["p99"])

    @property
    def alone(self) -> float:
        return float(self.single.load["latency_ms"]["p50"])


def measure(
    args: argparse.Namespace, client: httpx.Client, pid: int, spec: Path
) -> tuple[Run, Run]:
    concurrency = str(args.concurrency)
    # Every pool connection the load will use answers a few requests first: asyncpg
    # introspects types and prepares statements once per connection, not per request.
    warm = str(args.concurrency * 3)
    run_load(
        spec,
        *("--concurrency", concurrency, "--requests", warm, "--warmup-requests", "0"),
        timeout=args.concurrency * 3 * 60 + 60,
    )
    load = measured_run(
        client,
        pid,
        spec,
        *("--concurrency", concurrency, "--duration", str(args.duration)),
        *("--warmup", str(args.warmup)),
        timeout=args.warmup + args.duration + 120,
    )
    single = measured_run(
        client,
        pid,
        spec,
        *("--concurrency", "1", "--requests", str(args.runs), "--warmup-requests", "3"),
        timeout=args.runs * 60 + 60,
    )
    return load, single


def explained(
    args: argparse.Namespace,
    client: httpx.Client,
    partner: str,
    body: dict[str, Any],
    headers: dict[str, str],
) -> str:
    """One request alone, then its statements under EXPLAIN (ANALYZE, BUFFERS): their
    execution times and any sequential scan of a table that is not tiny."""
    client.post("/graphql", json=body, headers=headers).raise_for_status()
    plans: list[str] = client.get(EXPLAIN_ROUTE).raise_for_status().json()
    times = [float(m) for p in plans for m in re.findall(r"Execution Time: ([\d.]+) ms", p)]
    scans = [scan for plan in plans for scan in large_scans(plan)]
    if args.explain:
        print("\n\n".join(plans))
    found = "; ".join(scans) if scans else "none"
    executed = " + ".join(f"{t:.1f}" for t in times)
    return (
        f"{partner}: {len(plans)} compiled statements, EXPLAIN ANALYZE {executed} ms; "
        f"sequential scans of large tables: {found}"
    )


def large_scans(plan: str) -> list[str]:
    """Sequential scans that read more than LARGE_SCAN_ROWS rows per loop."""
    found = []
    lines = plan.splitlines()
    for index, line in enumerate(lines):
        scan = SEQ_SCAN.search(line)
        if scan is None:
            continue
        removed = next(
            (int(m.group(1)) for m in map(REMOVED.match, lines[index + 1 : index + 4]) if m), 0
        )
        if int(scan.group(2)) + removed > LARGE_SCAN_ROWS:
            found.append(f"{scan.group(1)} ({int(scan.group(2)) + removed} rows)")
    return found


def write_spec(path: Path, url: str, body: dict[str, Any], headers: dict[str, str]) -> Path:
    path.write_text(json.dumps({"url": url, "body": json.dumps(body), "headers": headers}))
    return path


# --- One scale --------------------------------------------------------------------------------


@dataclass(slots=True)
class ScaleResults:
    scale: float
    seeded: Seeded | None = None
    rows: list[Row] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)  # partner -> what it got
    checks: list[str] = field(default_factory=list)
    ingest: list[IngestResult] = field(default_factory=list)
    subscriptions: SubscriptionResult | None = None
    across: AcrossResult | None = None
    flood: FloodResult | None = None

    def row(self, partner: str, path: str) -> Row:
        return next(r for r in self.rows if r.partner == partner and r.path == path)

    def has(self, partner: str, path: str) -> bool:
        return any(r.partner == partner and r.path == path for r in self.rows)


def graphql_body(seeded: Seeded, before: dt.datetime) -> dict[str, Any]:
    return {
        "query": CARRIER_QUERY,
        "operationName": "Carrier",
        "variables": {"carrier": seeded.scac, "before": before.isoformat()},
    }


def serve_and_measure(
    args: argparse.Namespace,
    url: str,
    workdir: Path,
    execution: str,
    results: ScaleResults,
    before: dt.datetime,
) -> dict[str, Any]:
    """One server on one path: each partner's answer and figures (and the floor's)."""
    from graph.demo import mint_dev_token
    from graph.settings import load_settings
    from tests.bench_floor import answer_shape, floor_shape

    assert results.seeded is not None
    seeded = results.seeded
    env = server_env(url, workdir / "data", free_port(), execution)
    settings = load_settings(env)
    base = f"http://{HOST}:{env['HARBORGRAPH_PORT']}"
    answers: dict[str, Any] = {}
    with (
        server(env, args, workdir / f"server-{execution}.log") as pid,
        httpx.Client(base_url=base, timeout=120) as client,
    ):
        for partner in PARTNERS:
            org = seeded.partners[partner]
            token = mint_dev_token(settings, org=org, scopes=SCOPES, ttl=3600)
            headers = {"Authorization": f"Bearer {token}"}
            body = graphql_body(seeded, before)
            answer = client.post("/graphql", json=body, headers=headers).json()
            if answer.get("errors") or not answer.get("data"):
                # Reported, not measured: the other partners' figures still stand.
                results.checks.append(
                    f"{partner} on {execution}: FAILED {json.dumps(answer)[:300]}"
                )
                continue
            answers[partner] = answer["data"]
            results.answers[partner] = f"{org}: {describe(answer['data'])}"
            spec = write_spec(workdir / "request.json", f"{base}/graphql", body, headers)
            print(f"  {partner} on the {execution} path ...", flush=True)
            results.rows.append(Row(partner, execution, *measure(args, client, pid, spec)))
            if execution != "compiled":
                continue
            results.checks.append(explained(args, client, partner, body, headers))
            floor_body = {"org": org, "carrier": seeded.scac, "before": before.isoformat()}
            floor = client.post(FLOOR_ROUTE, json=floor_body).json()
            same = floor_shape(floor) == answer_shape(answer["data"])
            results.checks.append(f"{partner}: the SQL floor's data equals the answer: {same}")
            spec = write_spec(workdir / "floor.json", f"{base}{FLOOR_ROUTE}", floor_body, {})
            print(f"  {partner}, SQL floor ...", flush=True)
            results.rows.append(Row(partner, "SQL floor", *measure(args, client, pid, spec)))
    return answers


def run_scale(args: argparse.Namespace, scale: float, workdir: Path) -> ScaleResults:
    anchor = dt.date.fromisoformat(args.anchor)
    before = midnight(anchor)
    results = ScaleResults(scale)
    with scratch_database(args.database_url, workdir) as url:
        print(f"seeding scale {scale:g} (seed 42, anchor {anchor}) ...", flush=True)
        seeded = results.seeded = asyncio.run(prepare(url, scale, anchor))
        print(f"seeded {sum(seeded.counts.values()):,} rows in {seeded.seconds:.1f} s:")
        print_counts(seeded.counts)
        print(f"partners: {seeded.partners}; carrier SCAC {seeded.scac}", flush=True)
        if args.ratelimit_only:
            results.flood = serve_and_flood(args, url, workdir, seeded)
            return results
        if not (args.ingest_only or args.subscriptions_only):
            compiled = serve_and_measure(args, url, workdir, "compiled", results, before)
            resolvers = serve_and_measure(args, url, workdir, "resolvers", results, before)
            for partner in PARTNERS:
                if partner not in compiled or partner not in resolvers:
                    continue
                same = compiled[partner] == resolvers[partner]
                results.checks.append(f"{partner}: compiled answer equals resolvers': {same}")
        if not args.subscriptions_only:
            results.ingest = serve_and_ingest(args, url, workdir, seeded)
        if not args.ingest_only:
            results.subscriptions = serve_and_subscribe(args, url, workdir)
            results.across = serve_two_and_subscribe(args, url, workdir, seeded)
    return results


def serve_and_flood(
    args: argparse.Namespace, url: str, workdir: Path, seeded: Seeded
) -> FloodResult:
    """One partner at twice its rate limit, another steady, on one replica (one worker)."""
    from graph.demo import mint_dev_token
    from graph.settings import load_settings
    from tests.bench_ratelimit import LIMIT_PER_MINUTE, STEADY_LIMIT_PER_MINUTE, measure_flood

    env = server_env(url, workdir / "data", free_port(), "compiled")
    env["HARBORGRAPH_RATE_LIMIT_PER_MINUTE"] = str(LIMIT_PER_MINUTE)
    settings = load_settings(env)
    steady_org, flooding_org = seeded.partners["carrier"], seeded.partners["terminal"]
    asyncio.run(own_rate_limit(url, steady_org, STEADY_LIMIT_PER_MINUTE))
    steady, flooding = (
        mint_dev_token(settings, org=org, scopes=["vessel:read"], ttl=3600)
        for org in (steady_org, flooding_org)
    )
    base = f"http://{HOST}:{env['HARBORGRAPH_PORT']}"
    print("  rate limits: a partner at twice its limit beside a steady one ...", flush=True)
    command = ["-m", "graph.cli", "serve", "--workers", "1"]
    try:
        with server(env, args, workdir / "server-ratelimit.log", command):
            return measure_flood(base, steady, flooding)
    finally:
        asyncio.run(own_rate_limit(url, steady_org, None))


async def own_rate_limit(url: str, org: str, per_minute: int | None) -> None:
    """An organization's own limit (None: the default), as an operator would set it."""
    conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(url)
    try:
        await conn.execute(OWN_RATE_LIMIT, org, per_minute)
    finally:
        await conn.close()


def serve_two_and_subscribe(
    args: argparse.Namespace, url: str, workdir: Path, seeded: Seeded
) -> AcrossResult:
    """Two replicas on one database: a subscriber on the first, publishing on the second."""
    from graph.demo import mint_dev_token
    from graph.settings import load_settings
    from tests.bench_subscriptions import ACROSS_EVENTS, measure_across_replicas

    envs = [server_env(url, workdir / "data", free_port(), "compiled") for _ in range(2)]
    for env in envs:  # one issuer: a token of either is good on both
        env["HARBORGRAPH_JWT_ISSUER"] = "https://harborgraph.bench"
    settings = load_settings(envs[0])
    org = seeded.partners["carrier"]
    reader = mint_dev_token(settings, org=org, scopes=["cargo:read"], ttl=3600)
    writer = mint_dev_token(settings, org=org, scopes=["events:write"], ttl=3600)
    bases = [f"http://{HOST}:{env['HARBORGRAPH_PORT']}" for env in envs]
    print(f"  subscriptions across replicas: {ACROSS_EVENTS:,} events ...", flush=True)
    command = ["-m", "graph.cli", "serve", "--workers", "1"]
    with (
        server(envs[0], args, workdir / "server-replica-1.log", command),
        server(envs[1], args, workdir / "server-replica-2.log", command),
    ):
        return asyncio.run(measure_across_replicas(bases[0], bases[1], url, org, reader, writer))


def serve_and_subscribe(args: argparse.Namespace, url: str, workdir: Path) -> SubscriptionResult:
    """2,000 subscribers on one replica (one process, one worker) while events are published."""
    from graph.demo import mint_dev_token
    from graph.settings import load_settings
    from tests.bench_subscriptions import SUBSCRIBERS, carriers_and_visits, measure_subscriptions

    env = {**server_env(url, workdir / "data", free_port(), "compiled")}
    env["HARBORGRAPH_MAX_SUBSCRIPTIONS"] = str(SUBSCRIBERS)
    settings = load_settings(env)
    base = f"http://{HOST}:{env['HARBORGRAPH_PORT']}"
    carriers = list(asyncio.run(carriers_and_visits(url)))
    readers = {
        c: mint_dev_token(settings, org=c, scopes=["cargo:read"], ttl=3600) for c in carriers
    }
    writers = {
        c: mint_dev_token(settings, org=c, scopes=["events:write"], ttl=3600) for c in carriers
    }
    print(
        f"  subscriptions: {SUBSCRIBERS:,} subscribers of {len(carriers)} carriers ...", flush=True
    )
    command = ["-m", "graph.cli", "serve", "--workers", "1"]
    with server(env, args, workdir / "server-subscriptions.log", command) as pid:
        return asyncio.run(
            measure_subscriptions(base, url, readers, writers, lambda: process_tree_rss(pid))
        )


def serve_and_ingest(
    args: argparse.Namespace, url: str, workdir: Path, seeded: Seeded
) -> list[IngestResult]:
    """Publishing after the queries (it adds events), on `harborgraph serve` as a port runs
    it: one worker per core."""
    from graph.demo import mint_dev_token
    from graph.settings import load_settings
    from tests.bench_ingest import measure_ingest

    env = server_env(url, workdir / "data", free_port(), "compiled")
    base = f"http://{HOST}:{env['HARBORGRAPH_PORT']}"
    org = seeded.partners["carrier"]
    token = mint_dev_token(load_settings(env), org=org, scopes=["events:write"], ttl=3600)
    workers = os.cpu_count() or 1
    print(f"  ingest: {org} publishes through both paths ({workers} workers) ...", flush=True)
    command = ["-m", "graph.cli", "serve", "--workers", str(workers)]
    with server(env, args, workdir / "server-ingest.log", command) as pid:
        return asyncio.run(
            measure_ingest(
                base,
                url,
                seeded.scac,
                token,
                lambda: process_tree_cpu_seconds(pid),
                postgres_cpu_seconds,
            )
        )


# --- Output -----------------------------------------------------------------------------------


def table(results: ScaleResults, args: argparse.Namespace) -> None:
    assert results.seeded is not None
    rows = sum(results.seeded.counts.values())
    print(
        f"\n=== scale {results.scale:g}: {rows:,} rows, {args.concurrency} concurrent, "
        f"{args.duration} s per run, {load_average()} " + "=" * 10
    )
    for partner, answer in results.answers.items():
        print(f"  {partner:<9} {answer}")
    header = f"  {'partner':<9} {'path':<10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
    print(header + f"{'alone ms':>9} {'SQL/req':>8} {'CPU ms/req':>11}")
    for r in results.rows:
        cpu = "-" if r.load.server_cpu_ms is None else f"{r.load.server_cpu_ms:.1f}"
        print(
            f"  {r.partner:<9} {r.path:<10} {r.rps:>8.1f} {r.p50:>8.1f} {r.p99:>8.1f} "
            f"{r.alone:>9.1f} {r.single.sql_per_request:>8.2f} {cpu:>11}"
        )
    print(
        "  targets: compiled >= 80% of the floor's req/s, p99 <= 1.5x the floor's, "
        ">= 10x the resolver path"
    )
    for partner in PARTNERS:
        if not all(results.has(partner, p) for p in PATHS):
            continue
        c, r, f = (results.row(partner, p) for p in PATHS)
        print(
            f"  {partner:<9} compiled/floor req/s {c.rps / f.rps:6.0%}   p99 compiled/floor "
            f"{c.p99 / f.p99:4.2f}x   compiled/resolvers req/s {c.rps / r.rps:5.1f}x"
        )
    ingest_table(results.ingest)
    flood_line(results.flood)
    subscriptions_line(results.subscriptions)
    across_line(results.across)
    for check in results.checks:
        print("  " + check)


def ingest_table(results: list[IngestResult]) -> None:
    from tests.bench_ingest import BATCH, PUBLISHERS

    if not results:
        return
    print(
        f"  ingest: {PUBLISHERS} publishers, batches of {BATCH:,}, "
        f"{results[0].events_per_round:,} events a round; target >= 10,000 events/s"
    )
    for r in results:
        rounds = ", ".join(f"{rate:,.0f}" for rate in r.rates)
        print(
            f"  {r.path:<26} median {r.median_rate:>8,.0f} events/s  (rounds: {rounds}); CPU ms "
            f"per 1,000 events: server {shown(r.cpu_ms['server'])}, PostgreSQL "
            f"{shown(r.cpu_ms['postgres'])}, load generator {shown(r.cpu_ms['client'])}"
        )


def flood_line(result: FloodResult | None) -> None:
    from tests.bench_ratelimit import (
        FLOOD_CLIENTS,
        FLOOD_PER_SECOND,
        LIMIT_PER_MINUTE,
        STEADY_LIMIT_PER_MINUTE,
        STEADY_PER_SECOND,
    )

    if result is None:
        return
    print(
        f"  rate limits ({LIMIT_PER_MINUTE:,}/min): {FLOOD_CLIENTS} clients of one partner at "
        f"{FLOOD_PER_SECOND:.0f}/s answered {result.flood_statuses}; another partner "
        f"({STEADY_LIMIT_PER_MINUTE:,}/min) at {STEADY_PER_SECOND:.0f}/s answered "
        f"{result.steady_statuses}: p50 "
        f"{result.alone_p50_ms:.1f} ms alone, {result.flooded_p50_ms:.1f} ms flooded; p99 "
        f"{result.alone_p99_ms:.1f} ms alone, {result.flooded_p99_ms:.1f} ms flooded: "
        f"{result.ratio:.2f}x (target <= 1.5x)"
    )


def subscriptions_line(result: SubscriptionResult | None) -> None:
    if result is None:
        return
    per_idle = result.bytes_per_idle_subscriber
    memory = "-" if per_idle is None else f"{per_idle / 1024:.1f} KB"
    print(
        f"  subscriptions: {result.subscribers:,} subscribers, {result.events} events at 10/s, "
        f"{result.deliveries:,} deliveries (each exactly once): publish-to-delivery p50 "
        f"{result.p50_ms:.0f} ms, p99 {result.p99_ms:.0f} ms, max {result.max_ms:.0f} ms "
        f"(target p99 <= 1,000 ms); server memory per idle subscriber {memory} (target <= 50 KB)"
    )


def across_line(result: AcrossResult | None) -> None:
    if result is None:
        return
    print(
        f"  across replicas: {result.events:,} events published on one replica, each received "
        f"once and in order on the other: p50 {result.p50_ms:.0f} ms, p99 {result.p99_ms:.0f} "
        f"ms, max {result.max_ms:.0f} ms (target p99 <= 500 ms)"
    )


def shown(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def scale_comparison(all_results: list[ScaleResults]) -> None:
    if len(all_results) < 2:
        return
    first = all_results[0]
    print("\n=== the compiled carrier query across scales (one request alone) " + "=" * 10)
    if not all(r.has("carrier", "compiled") for r in all_results):
        return
    base = first.row("carrier", "compiled").alone
    for results in all_results:
        alone = results.row("carrier", "compiled").alone
        print(
            f"  scale {results.scale:<5g} {alone:7.1f} ms  ({alone / base:4.2f}x scale "
            f"{first.scale:g}; target <= 1.50x)"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark partner queries: compiled, resolvers, SQL floor (not a test)."
    )
    parser.add_argument("--scales", default="1,10", help="seed scales, comma-separated")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent requests")
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per load run")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured seconds before")
    parser.add_argument("--runs", type=int, default=30, help="sequential runs: one request alone")
    parser.add_argument("--anchor", default=DEFAULT_ANCHOR, help="seed anchor date (ISO)")
    parser.add_argument("--gc-gen0", type=int, default=50_000, help="server gen-0 threshold")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL") or None,
        help="admin URL of a PostgreSQL to create a scratch database on "
        "(default TEST_DATABASE_URL; else an embedded PostgreSQL)",
    )
    parser.add_argument(
        "--explain", action="store_true", help="print the compiled statements' plans"
    )
    parser.add_argument(
        "--ingest-only", action="store_true", help="measure publishing only (no query runs)"
    )
    parser.add_argument(
        "--subscriptions-only",
        action="store_true",
        help="measure subscriptions only (no query runs, no ingest)",
    )
    parser.add_argument(
        "--ratelimit-only",
        action="store_true",
        help="measure a partner flooding at twice its rate limit beside a steady one",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        args.scale_list = [float(s) for s in args.scales.split(",")]
    except ValueError:
        parser.error("--scales: numbers separated by commas, e.g. 1,10")
    if not all(0 < s <= 100 for s in args.scale_list):
        parser.error("each scale must be in (0, 100]")
    if args.concurrency < 1 or args.duration < 1 or args.runs < 1 or args.warmup < 0:
        parser.error("concurrency, duration and runs >= 1 and warmup >= 0 are required")
    return args


def benchmark(args: argparse.Namespace, workdir: Path) -> None:
    print(
        f"harborgraph benchmark: {versions()}; {os.cpu_count()} CPU(s), {load_average()}",
        flush=True,
    )
    all_results = []
    for scale in args.scale_list:
        results = run_scale(args, scale, workdir)
        table(results, args)
        all_results.append(results)
    scale_comparison(all_results)


def use_project_packages() -> None:
    """Run as a script, tests/ is first on sys.path: its test packages (tests/graph,
    tests/schema, ...) would shadow the project's. Put the project root there instead."""
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    sys.path.insert(0, str(HERE.parent))


def main(argv: Sequence[str] | None = None) -> int:
    use_project_packages()  # before the first project import (they are all in functions)
    args = parse_args(argv)
    if args.serve:
        return serve(args.gc_gen0)

    def terminate(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminate)
    try:
        with tempfile.TemporaryDirectory(prefix="hg_bench_") as workdir:
            benchmark(args, Path(workdir))
    except KeyboardInterrupt:
        print("interrupted; everything stopped", file=sys.stderr)
        return 130
    except BenchmarkError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
