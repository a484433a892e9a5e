"""`harborgraph serve` end to end, as a partner's `make run` does it: no database URL, so an
embedded PostgreSQL in a fresh data folder, migrated and seeded with the scale-1 demo on the
cold start; Ctrl-C stops the API and the embedded server with it; the next start reuses the
data (warm) and seeds nothing.

The floors are the demo's promise (issue 2): at least 100 vessels, 400 port calls, 50,000
container visits, 300,000 events and 20,000 gate transactions. They are read with plain SQL
through the embedded server's own socket (its folder and port are in `postmaster.pid`).

Every wait is bounded: 90 s for the cold start (initdb, migrations, the scale-1 seed; about
20 s here), 15 s for the warm one, 20 s for a stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from resolvers.sources import Connection

COLD_READY_SECONDS = 90.0
WARM_READY_SECONDS = 15.0
STOP_SECONDS = 20.0
POSTGRES_GONE_SECONDS = 5.0  # after `serve` has exited, its embedded server is already down
FLOORS = {
    "vessel.vessel": 100,
    "vessel.port_call": 400,
    "cargo.container_visit": 50_000,
    "cargo.event": 300_000,
    "gate.gate_transaction": 20_000,
}
TRACEBACK = re.compile(
    r"Traceback \(most recent call last\)|^(ERROR|CRITICAL)\b|\b(ERROR|CRITICAL)\b \S", re.M
)
SEEDED = "seeded the demo"


@dataclass
class Serve:
    """One `harborgraph serve` process and the files its output goes to."""

    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def output(self) -> str:
        return self.stderr.read_text(errors="replace")


@dataclass(frozen=True)
class Postmaster:
    pid: int
    socket_dir: str
    port: int


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _environment(data_dir: Path, port: int) -> dict[str, str]:
    """This process's environment without any Harborgraph or test database setting: no URL
    means the embedded server."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HARBORGRAPH_") and k != "TEST_DATABASE_URL"
    }
    return {
        **clean,
        "HARBORGRAPH_DATA_DIR": str(data_dir),
        "HARBORGRAPH_HOST": "127.0.0.1",
        "HARBORGRAPH_PORT": str(port),
    }


def _start(folder: Path, data_dir: Path, port: int, run: str) -> Serve:
    stdout, stderr = folder / f"{run}.out", folder / f"{run}.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "graph.cli", "serve"],
            cwd=folder,
            env=_environment(data_dir, port),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
    return Serve(process, stdout, stderr)


async def _wait_ready(client: httpx.AsyncClient, serve: Serve, limit: float) -> float:
    """Seconds until GET /readyz answers 200; fails past `limit` or if the process ends."""
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < limit:
        if serve.process.poll() is not None:
            raise AssertionError(
                f"serve exited with {serve.process.returncode} before it was ready:\n"
                + serve.output()[-4000:]
            )
        with contextlib.suppress(httpx.TransportError):
            response = await client.get("/readyz", timeout=2.0)
            if response.status_code == 200:
                assert response.json() == {"status": "ready"}
                return elapsed
        await asyncio.sleep(0.25)
    raise AssertionError(f"not ready within {limit:.0f} s:\n" + serve.output()[-4000:])


def _postmaster(data_dir: Path) -> Postmaster:
    """The embedded server's pid, socket folder and port (lines 1, 5 and 4 of postmaster.pid)."""
    lines = (data_dir / "pgdata" / "postmaster.pid").read_text().splitlines()
    return Postmaster(pid=int(lines[0]), socket_dir=lines[4], port=int(lines[3]))


def _alive(pid: int) -> bool:
    """Whether the process runs (a zombie waiting for its parent to reap it does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        # No /proc: signal 0 only checks that the pid exists (we run as its owner or root).
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


async def _wait_gone(pid: int, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


async def _stop(serve: Serve, limit: float) -> float:
    """Ctrl-C; the seconds until the process has exited (fails past `limit`)."""
    started = time.monotonic()
    serve.process.send_signal(signal.SIGINT)
    while serve.process.poll() is None:
        elapsed = time.monotonic() - started
        assert elapsed < limit, f"serve still running {limit:.0f} s after SIGINT"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def _counts(postmaster: Postmaster, tables: list[str]) -> dict[str, int]:
    conn: Connection = await asyncpg.connect(
        host=postmaster.socket_dir,
        port=postmaster.port,
        user="postgres",
        database="harborgraph",
        timeout=10,
    )
    try:
        return {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in tables}
    finally:
        await conn.close()


def _no_traceback(serve: Serve) -> None:
    output = serve.output()
    found = TRACEBACK.search(output)
    assert found is None, f"serve printed {found.group(0)!r} on stderr:\n{output[-4000:]}"


def _cleanup(serves: list[Serve], data_dir: Path) -> None:
    """After a failure: stop what this test started, by pid, then the embedded server."""
    for serve in serves:
        if serve.process.poll() is None:
            serve.process.send_signal(signal.SIGINT)
            try:
                serve.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                serve.process.kill()
                serve.process.wait(timeout=5)
    with contextlib.suppress(OSError, ValueError, IndexError):
        postmaster = _postmaster(data_dir)
        if _alive(postmaster.pid):
            os.kill(postmaster.pid, signal.SIGINT)  # PostgreSQL's fast shutdown


@contextlib.contextmanager
def _folder() -> Iterator[Path]:
    # The embedded server runs as its own user when we are root: its folder must be reachable
    # (pytest's tmp_path sits under a 0700 folder).
    folder = Path(tempfile.mkdtemp(prefix="harborgraph-serve-")).resolve()
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def test_serve_cold_start_floors_ctrl_c_and_warm_restart() -> None:
    with _folder() as folder:
        data_dir = folder / "data"
        data_dir.mkdir(mode=0o755)
        data_dir.chmod(0o755)
        port = _free_port()
        serves: list[Serve] = []
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                # Cold: initdb, migrations, the scale-1 demo.
                cold = _start(folder, data_dir, port, "cold")
                serves.append(cold)
                cold_seconds = await _wait_ready(client, cold, COLD_READY_SECONDS)
                assert cold_seconds < COLD_READY_SECONDS
                assert (await client.get("/healthz")).json() == {"status": "ok"}
                answer = await client.post(
                    "/graphql", json={"query": "{ vessels(first: 2) { edges { node { imo } } } }"}
                )
                assert answer.status_code == 200
                assert len(answer.json()["data"]["vessels"]["edges"]) == 2

                postmaster = _postmaster(data_dir)
                assert _alive(postmaster.pid)
                assert postmaster.socket_dir == str(data_dir / "pgdata")
                counts = await _counts(postmaster, [*FLOORS, "community.organization"])
                below = {t: counts[t] for t, floor in FLOORS.items() if counts[t] < floor}
                assert below == {}, f"below the demo's floors {FLOORS}: {below}"
                organizations = counts["community.organization"]
                assert organizations > 0

                # Ctrl-C: the API stops, and the embedded server with it.
                assert await _stop(cold, STOP_SECONDS) < STOP_SECONDS
                assert cold.process.returncode == 0, cold.output()[-4000:]
                assert await _wait_gone(postmaster.pid, POSTGRES_GONE_SECONDS), (
                    f"embedded PostgreSQL {postmaster.pid} outlived serve"
                )
                assert not (data_dir / "pgdata" / "postmaster.pid").exists()
                _no_traceback(cold)
                assert SEEDED in cold.output()
                assert "migrations applied: 19" in cold.output()

                # Warm: the same data, no migration, no second seed.
                warm = _start(folder, data_dir, port, "warm")
                serves.append(warm)
                assert await _wait_ready(client, warm, WARM_READY_SECONDS) < WARM_READY_SECONDS
                again = _postmaster(data_dir)
                assert await _counts(again, [*FLOORS, "community.organization"]) == counts
                assert await _stop(warm, STOP_SECONDS) < STOP_SECONDS
                assert warm.process.returncode == 0, warm.output()[-4000:]
                assert await _wait_gone(again.pid, POSTGRES_GONE_SECONDS)
                _no_traceback(warm)
                assert SEEDED not in warm.output()
                assert "migrations applied: 0" in warm.output()
                assert organizations == counts["community.organization"]
        finally:
            _cleanup(serves, data_dir)
