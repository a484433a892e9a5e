"""Real processes for the federation tests, started once per module and always stopped.

- `harborgraph_subgraph`: this repository's server (`uvicorn --factory graph.asgi:app`) on
  the seeded test database, with the test data directory, so it verifies (and publishes in
  its JWKS) the development key that the `tokens` fixture signs with;
- `rail_subgraph`: the "Pacific Harbor Line" subgraph (`tests/federation/rail_subgraph`);
- `supergraph`: both composed by `deploy/gateway/compose.mjs` (`@apollo/composition`),
  Harborgraph's SDL read from its own `_service { sdl }`;
- `gateway`: Hive Gateway with `deploy/gateway/gateway.config.ts` serving that supergraph,
  configured with the same `HARBORGRAPH_JWT_*` variables the subgraph reads and otherwise
  its defaults (the partner's token is forwarded to the `harborgraph` subgraph only);
  `running_gateway` starts more of them with other settings.

The npm project in deploy/gateway must be installed (`make test` runs `npm ci` first): a
missing install fails these tests, it never skips them. Every process runs in its own
process group on 127.0.0.1, its output goes to a log file shown when something fails, every
wait is bounded, and teardown stops the group (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest

from graph.settings import Settings

REPO = Path(__file__).resolve().parents[2]
GATEWAY_DIR = REPO / "deploy" / "gateway"
NODE_MODULES = GATEWAY_DIR / "node_modules"
HIVE_BIN = NODE_MODULES / "@graphql-hive" / "gateway" / "dist" / "bin.js"
COMPOSE = GATEWAY_DIR / "compose.mjs"
RAIL_SERVER = REPO / "tests" / "federation" / "rail_subgraph" / "server.mjs"

UVICORN = [sys.executable, "-m", "uvicorn", "--factory", "graph.asgi:app"]
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
COMPOSE_TIMEOUT_S = 60.0
POLL_S = 0.2
LOG_TAIL_CHARS = 6000
RAIL_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)/graphql")
# Variables that would change what a child does behind our back: Hive/Apollo reporting and
# telemetry, the CLI's own PORT/HOST/FORK/POLLING overrides, and this project's settings
# (each child gets exactly the ones it is given).
SCRUBBED = re.compile(
    r"^(HIVE_|APOLLO_|OPENTELEMETRY|OTEL_|HARBORGRAPH_|GATEWAY_|RAIL_|STANDIN_)"
    r"|^(PORT|HOST|FORK|POLLING|NODE_ENV)$"
)


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not SCRUBBED.search(k)}
    return {**env, **extra}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def tail(text: str) -> str:
    return text if len(text) <= LOG_TAIL_CHARS else "…" + text[-LOG_TAIL_CHARS:]


class Process:
    """A child in its own process group, its stdout and stderr in one log file."""

    def __init__(
        self,
        name: str,
        args: list[str],
        env: Mapping[str, str],
        log_dir: Path,
        cwd: Path = REPO,
    ) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            args,
            cwd=cwd,
            env=child_env(env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def failure(self, problem: str) -> str:
        return f"{self.name}: {problem}; its output ({self.log_path}):\n{tail(self.output)}"

    def wait_until(self, ready: Callable[[], bool], what: str) -> None:
        """Poll `ready` until it holds; fail (with the log) on exit or after the timeout."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready():
            code = self.popen.poll()
            if code is not None:
                pytest.fail(self.failure(f"exited with {code} before {what}"), pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(
                    self.failure(f"not {what} after {START_TIMEOUT_S:.0f} s"), pytrace=False
                )
            time.sleep(POLL_S)

    def stop(self) -> None:
        """SIGTERM to the child's process group, SIGKILL if it lingers; close the log."""
        try:
            if self.popen.poll() is None:
                self._signal(signal.SIGTERM)
                try:
                    self.popen.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self._signal(signal.SIGKILL)
                    self.popen.wait(timeout=STOP_TIMEOUT_S)
            # Anything the group leader left behind (e.g. workers) goes too.
            self._signal(signal.SIGKILL)
        finally:
            self._log.close()

    def _signal(self, signum: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signum)


@dataclass(frozen=True)
class Service:
    process: Process
    url: str  # base URL, no trailing slash

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"


@dataclass(frozen=True)
class SeenAuthorization:
    """The rail subgraph's count of GraphQL requests, and of those with an Authorization."""

    requests: int
    with_authorization: int


async def seen_authorization(rail: Service) -> SeenAuthorization:
    """Ask the rail subgraph's test hook (`GET /_seen_authorization`)."""
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(f"{rail.url}/_seen_authorization")
    response.raise_for_status()
    seen = response.json()
    return SeenAuthorization(seen["requests"], seen["withAuthorization"])


@dataclass(frozen=True)
class Composition:
    path: Path
    config: list[dict[str, str]]
    stderr: str
    hints: list[str]  # one `[CODE] message` per hint compose.mjs printed


def http_ok(url: str) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            return httpx.get(url, timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    return ready


@pytest.fixture(scope="module")
def node() -> str:
    """The `node` binary, with the deploy/gateway npm project installed: else a clear failure."""
    binary = shutil.which("node")
    if binary is None:
        pytest.fail(
            "node is not on PATH: the federation tests run Hive Gateway and a Node subgraph "
            "(Node.js 20 or newer)",
            pytrace=False,
        )
    if not HIVE_BIN.is_file():
        pytest.fail(
            f"the gateway's npm project is not installed (no {HIVE_BIN}): run `npm ci` in "
            f"{GATEWAY_DIR}, or `make test`, which does it first",
            pytrace=False,
        )
    return binary


@pytest.fixture(scope="module")
def federation_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("federation")


@pytest.fixture(scope="module")
def harborgraph_subgraph(
    node: str, seeded_url: str, test_settings: Settings, federation_logs: Path
) -> Iterator[Service]:
    port = free_port()
    process = Process(
        "harborgraph",
        [*UVICORN, "--host", "127.0.0.1", "--port", str(port)],
        {
            "HARBORGRAPH_ENV": "development",
            "HARBORGRAPH_DATABASE_URL": test_settings.database_url or seeded_url,
            "HARBORGRAPH_DATA_DIR": str(test_settings.data_dir),
            "HARBORGRAPH_JWT_ISSUER": test_settings.jwt.issuer,
            "HARBORGRAPH_JWT_AUDIENCE": test_settings.jwt.audience,
            "HARBORGRAPH_POOL_MIN_SIZE": "1",
            "HARBORGRAPH_POOL_MAX_SIZE": "4",
        },
        federation_logs,
    )
    try:
        service = Service(process, f"http://127.0.0.1:{port}")
        process.wait_until(http_ok(f"{service.url}/readyz"), "ready (/readyz 200)")
        yield service
    finally:
        process.stop()


@pytest.fixture(scope="module")
def rail_subgraph(node: str, federation_logs: Path) -> Iterator[Service]:
    # RAIL_PORT=0: the server binds a free port itself and prints it (no race for the port).
    process = Process("rail", [node, str(RAIL_SERVER)], {"RAIL_PORT": "0"}, federation_logs)
    try:
        process.wait_until(lambda: RAIL_LISTENING.search(process.output) is not None, "listening")
        match = RAIL_LISTENING.search(process.output)
        assert match is not None
        service = Service(process, match.group(1))
        process.wait_until(http_ok(f"{service.url}/health"), "healthy (/health 200)")
        yield service
    finally:
        process.stop()


def run_compose(node: str, config_path: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """compose.mjs on a config file, whatever its outcome."""
    return subprocess.run(
        [node, str(COMPOSE), "--config", str(config_path), "--out", str(out)],
        cwd=GATEWAY_DIR,
        env=child_env({}),
        capture_output=True,
        text=True,
        timeout=COMPOSE_TIMEOUT_S,
        check=False,
    )


def compose(node: str, config: list[dict[str, str]], directory: Path, name: str) -> Composition:
    """Run compose.mjs on `config` (written to `directory`); print its hints; assert exit 0."""
    config_path = directory / f"{name}.json"
    config_path.write_text(json.dumps(config, indent=2))
    out = directory / f"{name}.graphql"
    done = run_compose(node, config_path, out)
    hints = [
        line.removeprefix("hint: ")
        for line in done.stderr.splitlines()
        if line.startswith("hint: ")
    ]
    print(f"compose.mjs ({name}): exit {done.returncode}, {len(hints)} hint(s)")
    for hint in hints:
        print(f"  {hint}")
    assert done.returncode == 0, f"compose.mjs failed:\n{done.stderr}"
    assert out.is_file(), done.stderr
    return Composition(out, config, done.stderr, hints)


@pytest.fixture(scope="module")
def supergraph(
    node: str, harborgraph_subgraph: Service, rail_subgraph: Service, federation_logs: Path
) -> Composition:
    """compose.mjs over both subgraphs, each SDL read from its running `_service { sdl }`
    (Harborgraph answers it in development mode; tests/schema/test_sdl.py keeps the
    committed schema/schema.graphql equal to it)."""
    config = [
        {"name": "harborgraph", "url": harborgraph_subgraph.graphql_url},
        {"name": "rail", "url": rail_subgraph.graphql_url},
    ]
    return compose(node, config, federation_logs, "supergraph")


@contextlib.contextmanager
def running_gateway(
    node: str, supergraph: Composition, env: Mapping[str, str], log_dir: Path, name: str
) -> Iterator[Service]:
    """Hive Gateway (`gateway.config.ts`) serving `supergraph` with exactly `env` (plus a
    free GATEWAY_PORT), ready (/readiness 200) when entered, stopped on exit."""
    port = free_port()
    process = Process(
        name,
        [node, str(HIVE_BIN), "supergraph", str(supergraph.path)],
        {**env, "GATEWAY_PORT": str(port), "NO_COLOR": "1"},
        log_dir,
        cwd=GATEWAY_DIR,
    )
    try:
        service = Service(process, f"http://127.0.0.1:{port}")
        process.wait_until(http_ok(f"{service.url}/readiness"), "ready (/readiness 200)")
        yield service
    finally:
        process.stop()


@pytest.fixture(scope="module")
def gateway_env(harborgraph_subgraph: Service, test_settings: Settings) -> dict[str, str]:
    """The subgraph's own variable names: one environment configures both."""
    return {
        "HARBORGRAPH_JWT_JWKS_URL": f"{harborgraph_subgraph.url}/.well-known/jwks.json",
        "HARBORGRAPH_JWT_ISSUER": test_settings.jwt.issuer,
        "HARBORGRAPH_JWT_AUDIENCE": test_settings.jwt.audience,
    }


@pytest.fixture(scope="module")
def gateway(
    node: str, supergraph: Composition, gateway_env: dict[str, str], federation_logs: Path
) -> Iterator[Service]:
    """The gateway with its defaults (GATEWAY_FORWARD_AUTH_TO unset)."""
    with running_gateway(node, supergraph, gateway_env, federation_logs, "gateway") as service:
        yield service
