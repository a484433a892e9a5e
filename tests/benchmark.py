"""The carrier-query benchmark (issue 3): a script, not a test; `make bench` runs it.

    .venv/bin/python tests/benchmark.py [--scale 1] [--concurrency 16] [--duration 20]
                                        [--database-url URL]

1. A scratch database `hg_bench_<pid>` on --database-url / TEST_DATABASE_URL (an admin URL),
   else on an embedded PostgreSQL in a temporary directory; migrated and seeded (seed 42,
   fixed anchor date).
2. The app served by uvicorn in a subprocess (this file with --serve): gc.freeze() after
   start-up and a higher generation-0 threshold, and a counter of the SQL statements the
   app's pools run, read at GET /_bench/sql (that route exists only in this bootstrap).
3. A carrier token for the carrier with the most port calls before the anchor.
4. The carrier query: 25 port calls x 20 containers x their latest 3 events, checked once.
5. Load: tests/bench_load.py in another process, N concurrent keep-alive connections for
   D seconds after a warm-up; wrk too when it is installed.
6. SQL statements per request from the counter.
7. The SQL floor: the same data by three hand-written statements on one connection, against
   the median latency of single sequential GraphQL requests.
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
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

import asyncpg
import httpx
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HERE = Path(__file__).resolve().parent
LOAD_GENERATOR = HERE / "bench_load.py"
HOST = "127.0.0.1"
SQL_ROUTE = "/_bench/sql"
DEFAULT_ANCHOR = "2026-03-02"
PORT_CALLS, CONTAINERS, EVENTS = 25, 20, 3
SCOPES = ("vessel:read", "cargo:read")

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

# --- The SQL floor: the same data, hand-written, three statements -------------------------
# Same predicates as the API's for a carrier: its calls arriving before the anchor, its own
# visits of each call by container number, and each container's latest unretracted events
# that belong to one of the carrier's visits of it (by transport call, else by document).

CARRIER_WITH_MOST_CALLS = """
SELECT o.code, pc.carrier_scac, count(*) AS calls
FROM vessel.port_call pc
JOIN community.organization o ON o.scac = pc.carrier_scac AND o.kind = 'CARRIER'
WHERE pc.estimated_arrival < $1
GROUP BY o.code, pc.carrier_scac
ORDER BY calls DESC, o.code
LIMIT 1
"""
FLOOR_PORT_CALLS = """
SELECT pc.id, v.imo, v.name, pc.estimated_arrival, ftc.smdg_code
FROM vessel.port_call pc
JOIN vessel.vessel v ON v.imo = pc.vessel_imo
LEFT JOIN LATERAL (
    SELECT tc.smdg_code FROM vessel.terminal_call tc
    WHERE tc.port_call_id = pc.id ORDER BY tc.sequence LIMIT 1
) ftc ON TRUE
WHERE pc.carrier_scac = $1 AND pc.estimated_arrival < $2
ORDER BY pc.estimated_arrival, pc.id
LIMIT $3
"""
FLOOR_CONTAINERS = """
SELECT k.ord, c.equipment_reference, c.status, c.available_for_pickup
FROM unnest($1::uuid[]) WITH ORDINALITY AS k(port_call_id, ord)
CROSS JOIN LATERAL (
    SELECT cv.equipment_reference, cv.status, cv.available_for_pickup
    FROM cargo.container_visit cv
    WHERE cv.port_call_id = k.port_call_id AND cv.carrier_scac = $2
    ORDER BY cv.equipment_reference
    LIMIT $3
) c
ORDER BY k.ord, c.equipment_reference
"""
FLOOR_EVENTS = """
SELECT k.ord, e.event_type, e.event_datetime, e.equipment_event_type_code
FROM unnest($1::text[]) WITH ORDINALITY AS k(equipment_reference, ord)
CROSS JOIN LATERAL (
    SELECT e.event_id, e.event_type, e.event_datetime, e.equipment_event_type_code
    FROM cargo.event e
    WHERE e.equipment_reference = k.equipment_reference
      AND e.retracted_at IS NULL
      AND EXISTS (
          SELECT 1 FROM cargo.container_visit cv
          WHERE cv.equipment_reference = e.equipment_reference
            AND cv.carrier_scac = $2
            AND CASE WHEN e.port_call_id IS NOT NULL THEN cv.port_call_id = e.port_call_id
                     WHEN e.transport_document_reference IS NOT NULL
                         THEN cv.transport_document_reference = e.transport_document_reference
                     ELSE TRUE END)
    ORDER BY e.event_datetime DESC, e.event_id
    LIMIT $3
) e
ORDER BY k.ord, e.event_datetime DESC, e.event_id
"""

# One port call as both sides see it: vessel imo and name, arrival, terminal, and per
# container (number, status, available, ((event type, time, equipment event code), ...)).
Shape = tuple[Any, ...]


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

    def observe(self, query: str) -> None:
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


class BenchApp:
    """The app, plus GET /_bench/sql; freezes the collector once the lifespan has started."""

    def __init__(self, app: ASGIApp, counter: StatementCounter, gen0: int) -> None:
        self.app = app
        self.counter = counter
        self.gen0 = gen0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == SQL_ROUTE:
            await JSONResponse(self.counter.snapshot())(scope, receive, send)
            return
        if scope["type"] != "lifespan":
            # Counted until the app returns, even when the client has gone (wrk's last ones).
            self.counter.in_flight += 1
            try:
                await self.app(scope, receive, send)
            finally:
                self.counter.in_flight -= 1
            return

        async def started(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
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
        BenchApp(app, counter, gen0),
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
    org: str
    scac: str
    calls_before_anchor: int


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
    finally:
        await pool.close()
    if row is None:
        raise BenchmarkError("the seed holds no carrier port calls before the anchor")
    return Seeded(
        report.seconds, report.counts, version, row["code"], row["carrier_scac"], row["calls"]
    )


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


# --- Server process ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(url: str, data_dir: Path, port: int) -> dict[str, str]:
    return {
        "HARBORGRAPH_DATABASE_URL": url,
        "HARBORGRAPH_DATA_DIR": str(data_dir),
        "HARBORGRAPH_HOST": HOST,
        "HARBORGRAPH_PORT": str(port),
        "HARBORGRAPH_ENV": "development",  # generated dev keys in the data directory
        "HARBORGRAPH_POOL_MIN_SIZE": "4",
        "HARBORGRAPH_POOL_MAX_SIZE": "20",
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
def server(env: Mapping[str, str], gen0: int, log_path: Path) -> Iterator[int]:
    """A uvicorn subprocess serving the app; yields its pid once /readyz says ready."""
    base = f"http://{HOST}:{env['HARBORGRAPH_PORT']}"
    command = [sys.executable, str(Path(__file__).resolve()), "--serve", "--gc-gen0", str(gen0)]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HARBORGRAPH_")}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            env={**clean, **env},
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


def sql_snapshot(client: httpx.Client) -> dict[str, Any]:
    snapshot: dict[str, Any] = client.get(SQL_ROUTE).raise_for_status().json()
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


# --- The carrier query: one checked answer, and the floor -------------------------------------


def answer_shape(data: dict[str, Any]) -> list[Shape]:
    calls = []
    for call in (edge["node"] for edge in data["portCalls"]["edges"]):
        containers = []
        for box in (edge["node"] for edge in call["containers"]["edges"]):
            events = tuple(
                (
                    event["eventType"],
                    dt.datetime.fromisoformat(event["eventDateTime"]),
                    event.get("equipmentEventTypeCode"),
                )
                for event in (edge["node"] for edge in box["events"]["edges"])
            )
            containers.append((box["number"], box["status"], box["availableForPickup"], events))
        vessel, terminal = call["vessel"] or {}, call["terminal"] or {}
        calls.append(
            (
                vessel.get("imo"),
                vessel.get("name"),
                dt.datetime.fromisoformat(call["estimatedArrival"]),
                terminal.get("smdgCode"),
                tuple(containers),
            )
        )
    return calls


def count_objects(value: Any) -> int:
    """JSON objects in an answer, every level (connections and edges included)."""
    if isinstance(value, dict):
        return 1 + sum(count_objects(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_objects(v) for v in value)
    return 0


async def floor_once(
    conn: asyncpg.Connection[asyncpg.Record], scac: str, before: dt.datetime
) -> list[Shape]:
    calls = await conn.fetch(FLOOR_PORT_CALLS, scac, before, PORT_CALLS)
    boxes = await conn.fetch(FLOOR_CONTAINERS, [c["id"] for c in calls], scac, CONTAINERS)
    events = await conn.fetch(FLOOR_EVENTS, [b["equipment_reference"] for b in boxes], scac, EVENTS)
    events_of: dict[int, list[Shape]] = {}
    for e in events:
        key = (e["event_type"], e["event_datetime"], e["equipment_event_type_code"])
        events_of.setdefault(e["ord"], []).append(key)
    boxes_of: dict[int, list[Shape]] = {}
    for index, b in enumerate(boxes, start=1):
        box = (
            b["equipment_reference"],
            b["status"],
            b["available_for_pickup"],
            tuple(events_of.get(index, ())),
        )
        boxes_of.setdefault(b["ord"], []).append(box)
    return [
        (c["imo"], c["name"], c["estimated_arrival"], c["smdg_code"], tuple(boxes_of.get(i, ())))
        for i, c in enumerate(calls, start=1)
    ]


async def sql_floor(url: str, scac: str, before: dt.datetime, runs: int) -> tuple[float, Shape]:
    """Median milliseconds of the three statements on one warm connection, and their data."""
    conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(url)
    try:
        shape = await floor_once(conn, scac, before)  # prepares the statements
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            await floor_once(conn, scac, before)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times), tuple(shape)
    finally:
        await conn.close()


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


WRK_SCRIPT = """wrk.method = "POST"
wrk.body = [==[{body}]==]
{headers}
"""
WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * WRK_UNITS[match[2]]


def run_wrk(
    wrk: str, url: str, body: str, headers: Mapping[str, str], concurrency: int, seconds: int
) -> dict[str, Any]:
    sent = {"Content-Type": "application/json", "Accept": "application/json", **headers}
    lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in sent.items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT.format(body=body, headers=lines))
    try:
        threads = str(min(concurrency, os.cpu_count() or 1))
        command = [wrk, "-t", threads, "-c", str(concurrency), "-d", f"{seconds}s"]
        command += ["--timeout", "60s", "--latency", "-s", script.name, url]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=seconds + 90,
            check=False,
            start_new_session=True,  # Ctrl-C stops the benchmark, which kills wrk
        )
    finally:
        Path(script.name).unlink()
    out = done.stdout
    if done.returncode != 0:
        raise BenchmarkError(f"wrk failed: {done.stderr or out}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    total = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:(.*)", out)
    if not (rps and p50 and p99 and total):
        raise BenchmarkError(f"unexpected wrk output:\n{out}")
    return {
        "rps": float(rps[1]),
        "p50": wrk_ms(p50[1]),
        "p99": wrk_ms(p99[1]),
        "requests": int(total[1]),
        "errors": (int(bad[1]) if bad else 0),
        "socket_errors": errors[1].strip() if errors else "",
    }


# --- The run ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark the carrier query against the SQL floor (not a test)."
    )
    parser.add_argument("--scale", type=float, default=1.0, help="seed scale (default 1)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent requests")
    parser.add_argument("--duration", type=int, default=20, help="measured seconds per load run")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured seconds before")
    parser.add_argument("--runs", type=int, default=50, help="sequential runs: single + floor")
    parser.add_argument("--anchor", default=DEFAULT_ANCHOR, help="seed anchor date (ISO)")
    parser.add_argument("--gc-gen0", type=int, default=50_000, help="server gen-0 threshold")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL") or None,
        help="admin URL of a PostgreSQL to create a scratch database on "
        "(default TEST_DATABASE_URL; else an embedded PostgreSQL)",
    )
    parser.add_argument("--no-wrk", action="store_true", help="skip wrk even when installed")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not (0 < args.scale <= 100 and args.concurrency >= 1 and args.duration >= 1):
        parser.error("scale in (0, 100], concurrency >= 1 and duration >= 1 are required")
    if args.runs < 1 or args.warmup < 0 or args.gc_gen0 < 1:
        parser.error("runs >= 1, warmup >= 0 and gc-gen0 >= 1 are required")
    return args


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


def check_answer(payload: dict[str, Any], org: str) -> tuple[list[Shape], str]:
    if payload.get("errors") or not payload.get("data"):
        raise BenchmarkError(f"the carrier query failed: {json.dumps(payload)[:2000]}")
    shape = answer_shape(payload["data"])
    boxes = [len(call[4]) for call in shape]
    events = [len(box[3]) for call in shape for box in call[4]]
    full = (
        len(shape) == PORT_CALLS
        and all(n == CONTAINERS for n in boxes)
        and all(n == EVENTS for n in events)
    )
    line = (
        f"{len(shape)} port calls x {min(boxes, default=0)}-{max(boxes, default=0)} containers "
        f"x {min(events, default=0)}-{max(events, default=0)} events = {len(shape)} + "
        f"{sum(boxes)} + {sum(events)} nodes; {count_objects(payload['data'])} JSON objects"
    )
    if not full:
        line += f" (NOT the full {PORT_CALLS} x {CONTAINERS} x {EVENTS} for {org})"
    return shape, line


def row(label: str, value: str) -> None:
    print(f"  {label:<56}{value}")


def benchmark(args: argparse.Namespace, workdir: Path) -> None:
    from graph.demo import mint_dev_token
    from graph.settings import load_settings

    anchor = dt.date.fromisoformat(args.anchor)
    before = midnight(anchor)
    print(
        f"harborgraph benchmark: {versions()}; {os.cpu_count()} CPU(s), {load_average()}",
        flush=True,
    )
    with scratch_database(args.database_url, workdir) as url:
        print(f"seeding scale {args.scale:g} (seed 42, anchor {anchor}) ...", flush=True)
        seeded = asyncio.run(prepare(url, args.scale, anchor))
        total_rows = sum(seeded.counts.values())
        print(
            f"seeded {total_rows:,} rows in {seeded.seconds:.1f} s (PostgreSQL {seeded.postgres}):"
        )
        print_counts(seeded.counts)
        print(
            f"carrier: {seeded.org} (SCAC {seeded.scac}), {seeded.calls_before_anchor} port "
            f"calls arriving before {before.isoformat()}",
            flush=True,
        )

        port = free_port()
        env = server_env(url, workdir / "data", port)
        settings = load_settings(env)
        base = f"http://{HOST}:{port}"
        with server(env, args.gc_gen0, workdir / "server.log") as pid:
            print(
                f"server: uvicorn pid {pid} on {base}, 1 worker, access log off, pool max "
                f"{settings.pool_max_size}, gc.freeze() + gen-0 threshold {args.gc_gen0}",
                flush=True,
            )
            token = mint_dev_token(settings, org=seeded.org, scopes=SCOPES, ttl=3600)
            headers = {"Authorization": f"Bearer {token}"}
            body = json.dumps(
                {
                    "query": CARRIER_QUERY,
                    "operationName": "Carrier",
                    "variables": {"carrier": seeded.scac, "before": before.isoformat()},
                }
            )
            spec = workdir / "request.json"
            spec.write_text(
                json.dumps({"url": f"{base}/graphql", "body": body, "headers": headers})
            )
            results = measure(args, base, body, headers, spec, pid, url, seeded, before)
        summary(args, seeded, total_rows, results)


@dataclass(frozen=True, slots=True)
class Run:
    """One load generator run, with what the server and the client spent on it."""

    load: dict[str, Any]
    sql_per_request: float
    sql_labels: dict[str, float]  # statement (its tables) -> per request
    server_cpu_ms: float | None  # per request
    client_cpu_ms: float  # per request

    @property
    def driver_sql_per_request(self) -> float:
        return sum(v for k, v in self.sql_labels.items() if k.startswith("("))


@dataclass(slots=True)
class Results:
    answer: str = ""
    floor_matches: bool = False
    load: Run | None = None
    wrk: dict[str, Any] | str | None = None
    single: Run | None = None
    load_average: str = ""
    floor_ms: float = 0.0


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured_run(client: httpx.Client, pid: int, spec: Path, *options: str, timeout: float) -> Run:
    """Run the load generator; count the server's SQL statements and both sides' CPU."""
    sql_before, cpu_before, client_before = idle_snapshot(client), cpu_seconds(pid), children_cpu()
    load = run_load(spec, *options, timeout=timeout)
    client_cpu = children_cpu() - client_before
    sql_after = idle_snapshot(client)
    cpu_after = cpu_seconds(pid)
    count, labels = sql_delta(sql_before, sql_after)
    requests = max(load["total_requests"], 1)  # every request the SQL and CPU went to
    server_cpu = None
    if cpu_before is not None and cpu_after is not None:
        server_cpu = (cpu_after - cpu_before) * 1000 / requests
    return Run(
        load,
        count / requests,
        {k: v / requests for k, v in labels.items()},
        server_cpu,
        client_cpu * 1000 / requests,
    )


def measure(
    args: argparse.Namespace,
    base: str,
    body: str,
    headers: dict[str, str],
    spec: Path,
    pid: int,
    url: str,
    seeded: Seeded,
    before: dt.datetime,
) -> Results:
    results = Results()
    concurrency = str(args.concurrency)
    with httpx.Client(base_url=base, timeout=60) as client:
        response = client.post(
            "/graphql",
            content=body,
            headers={**headers, "Content-Type": "application/json"},
        )
        if response.status_code != 200:
            raise BenchmarkError(f"carrier query: HTTP {response.status_code}: {response.text}")
        shape, results.answer = check_answer(response.json(), seeded.org)
        print("answer:", results.answer, flush=True)

        # Every pool connection the load will use answers a few requests first: asyncpg
        # introspects types and prepares statements once per connection, not per request.
        warm = str(args.concurrency * 3)
        run_load(
            spec,
            *("--concurrency", concurrency, "--requests", warm, "--warmup-requests", "0"),
            timeout=args.concurrency * 3 * 60 + 60,
        )
        results.load_average = load_average()
        print(
            f"load: bench_load.py, {args.concurrency} concurrent, {args.warmup} s warm-up "
            f"+ {args.duration} s ({results.load_average}) ...",
            flush=True,
        )
        results.load = measured_run(
            client,
            pid,
            spec,
            *("--concurrency", concurrency, "--duration", str(args.duration)),
            *("--warmup", str(args.warmup)),
            timeout=args.warmup + args.duration + 120,
        )
        print("  " + json.dumps(results.load.load), flush=True)

        wrk = shutil.which("wrk")
        if args.no_wrk:
            results.wrk = "skipped (--no-wrk)"
        elif wrk is None:
            results.wrk = "not installed (Debian: apt-get install wrk)"
        else:
            print(f"load: wrk, {args.concurrency} connections, {args.duration} s ...", flush=True)
            results.wrk = run_wrk(
                wrk, f"{base}/graphql", body, headers, args.concurrency, args.duration
            )
            print("  " + json.dumps(results.wrk), flush=True)
            if results.wrk["errors"]:
                print("  WARNING: wrk saw non-2xx answers; its figures are not the query's")

        print(f"single requests: {args.runs} sequential ...", flush=True)
        results.single = measured_run(
            client,
            pid,
            spec,
            *("--concurrency", "1", "--requests", str(args.runs), "--warmup-requests", "3"),
            timeout=args.runs * 60 + 60,
        )
        print("  " + json.dumps(results.single.load), flush=True)

    print(f"SQL floor: 3 hand-written statements, {args.runs} runs on one connection ...")
    results.floor_ms, floor_shape = asyncio.run(sql_floor(url, seeded.scac, before, args.runs))
    results.floor_matches = floor_shape == tuple(shape)
    if not results.floor_matches:
        print("  WARNING: the SQL floor's data differs from the GraphQL answer", flush=True)
    return results


def sql_line(run: Run) -> str:
    line = f"{run.sql_per_request:.2f}"
    if run.driver_sql_per_request:
        line += f" (of which asyncpg's own {run.driver_sql_per_request:.2f})"
    return line


def summary(args: argparse.Namespace, seeded: Seeded, total_rows: int, r: Results) -> None:
    assert r.load is not None
    assert r.single is not None
    load, single = r.load.load, r.single.load
    lat = load["latency_ms"]
    single_ms = single["latency_ms"]["p50"]
    errors = f"{load['errors']} {load['error_kinds']}" if load["errors"] else "0"
    print("\n=== Carrier query benchmark " + "=" * 58)
    row("scale / seed / anchor", f"{args.scale:g} / 42 / {args.anchor}")
    row("rows seeded", f"{total_rows:,}")
    row("carrier (token org; scopes)", f"{seeded.org} ({' '.join(SCOPES)})")
    row("objects per answer", r.answer)
    row("response size", f"{load['response_bytes']:,} bytes")
    row("concurrency / measured duration", f"{args.concurrency} / {load['seconds']:.1f} s")
    row("machine before the load run", r.load_average)
    row("bench_load.py: requests (errors)", f"{load['requests']} ({errors})")
    row("bench_load.py: req/s", f"{load['rps']:.2f}")
    row(
        "bench_load.py: p50 / p90 / p99",
        f"{lat['p50']:.1f} / {lat['p90']:.1f} / {lat['p99']:.1f} ms",
    )
    if isinstance(r.wrk, dict):
        row("wrk: requests (non-2xx)", f"{r.wrk['requests']} ({r.wrk['errors']})")
        row("wrk: req/s", f"{r.wrk['rps']:.2f}")
        row("wrk: p50 / p99", f"{r.wrk['p50']:.1f} / {r.wrk['p99']:.1f} ms")
    else:
        row("wrk", str(r.wrk))
    row("SQL statements / request (under load)", sql_line(r.load))
    row("SQL statements / request (sequential)", sql_line(r.single))
    for label, per in sorted(r.single.sql_labels.items(), key=lambda kv: (-kv[1], kv[0])):
        row(f"  {label}", f"{per:.2f}")
    if r.load.server_cpu_ms is not None:
        row("server CPU / request (under load)", f"{r.load.server_cpu_ms:.1f} ms")
    row("load generator CPU / request", f"{r.load.client_cpu_ms:.1f} ms")
    row("single request median (sequential)", f"{single_ms:.1f} ms ({single['requests']} runs)")
    row("SQL floor median (3 statements)", f"{r.floor_ms:.2f} ms ({args.runs} runs)")
    row("SQL floor returns the same data", "yes" if r.floor_matches else "NO")
    row("ratio single request / SQL floor", f"{single_ms / r.floor_ms:.1f}x")
    print("=" * 86, flush=True)


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
