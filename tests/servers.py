"""`harborgraph serve` as a process of its own, for tests that need real server processes
(a crash, several replicas)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

READY_SECONDS = 30.0


@dataclass
class Server:
    url: str
    env: dict[str, str]
    folder: Path
    process: asyncio.subprocess.Process | None = None
    workers: int = 1
    probe: str = "/readyz"  # up once this answers 200 (/healthz: up, ready or not)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.env['HARBORGRAPH_PORT']}"

    async def start(self) -> None:
        with (self.folder / "serve.err").open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "graph.cli", "serve", "--workers", str(self.workers)),
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + READY_SECONDS
        async with httpx.AsyncClient(base_url=self.base) as client:
            while time.monotonic() < deadline:
                assert self.process.returncode is None, (self.folder / "serve.err").read_text()
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(self.probe, timeout=2)).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise AssertionError("the server did not get ready")

    async def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        await asyncio.wait_for(self.process.wait(), timeout=10)

    async def terminate(self, limit: float = 30.0) -> int:
        """SIGTERM, as Kubernetes or systemd sends it; the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout=limit)

    @property
    def log(self) -> str:
        return (self.folder / "serve.err").read_text()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.process.wait(), timeout=20)
            except TimeoutError:
                self.process.kill()


@contextlib.asynccontextmanager
async def running(server: Server) -> AsyncIterator[Server]:
    """The server started, and stopped however the test ends."""
    try:
        await server.start()
        yield server
    finally:
        await server.stop()


def production_env(url: str, folder: Path, **extra: str) -> dict[str, str]:
    """A production server's environment: tokens checked with an outside issuer's public key
    (kept in folder/issuer), its data in folder/data."""
    from graph.keys import ensure_dev_keys

    key = ensure_dev_keys(folder / "issuer").public_key_path
    return server_env(
        url,
        folder / "data",
        HARBORGRAPH_ENV="production",
        HARBORGRAPH_JWT_PUBLIC_KEY_FILE=str(key),
        **extra,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def server_env(url: str, data: Path, **extra: str) -> dict[str, str]:
    """A server's environment: this process's, less its HARBORGRAPH_ settings, on `url`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HARBORGRAPH_")}
    return {
        **clean,
        "HARBORGRAPH_DATABASE_URL": url,
        "HARBORGRAPH_DATA_DIR": str(data),
        "HARBORGRAPH_HOST": "127.0.0.1",
        "HARBORGRAPH_PORT": str(free_port()),
        "HARBORGRAPH_RATE_LIMIT_PER_MINUTE": "1000000",  # tests of the limit set their own
        **extra,
    }
