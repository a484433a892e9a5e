"""HTTP load generator for tests/benchmark.py (a separate process, not a test).

Closed loop: N workers, each on its own keep-alive HTTP/1.1 connection, send the same POST
and wait for the whole answer before sending the next one. Raw asyncio streams (on uvloop
when installed) keep the client's own CPU cost low: it shares the machine with the server.

Two modes:
- by time: warm up for --warmup seconds, then measure for --duration seconds; a request is
  measured when it starts inside the window (in-flight requests are awaited, not cut off);
- by count (--requests N): N measured requests after --warmup-requests unmeasured ones.

The request comes from a JSON spec file: {"url": "http://127.0.0.1:PORT/graphql",
"body": "<request body>", "headers": {"Name": "value"}}. Only plain http to a loopback
address is accepted. Prints one JSON object: requests, errors, req/s and latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ERROR_MARKER = b'"errors"'


@dataclass(frozen=True, slots=True)
class Target:
    host: str
    port: int
    request: bytes  # the whole request: head and body


@dataclass(slots=True)
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds, measured requests only
    errors: dict[str, int] = field(default_factory=dict)  # kind -> count, measured only
    completed: int = 0  # every finished request, warm-up included
    response_bytes: int = 0  # bodies of measured requests
    last_done: float = 0.0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


class ProtocolError(Exception):
    """The server's answer is not the HTTP/1.1 we expect."""


def load_target(spec_path: Path) -> Target:
    spec: dict[str, Any] = json.loads(spec_path.read_text())
    url = urlsplit(str(spec["url"]))
    if url.scheme != "http" or url.hostname is None:
        raise SystemExit(f"only http:// URLs are supported: {spec['url']!r}")
    if not ipaddress.ip_address(url.hostname).is_loopback:
        raise SystemExit(f"refusing to load a non-loopback address: {url.hostname}")
    port = url.port or 80
    body = str(spec["body"]).encode()
    headers: dict[str, str] = {
        "Host": f"{url.hostname}:{port}",
        "Content-Type": "application/json",
        "Accept": "application/json",
        **{str(k): str(v) for k, v in dict(spec.get("headers", {})).items()},
        "Content-Length": str(len(body)),
    }
    head = f"POST {url.path or '/'} HTTP/1.1\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return Target(url.hostname, port, head.encode("latin-1") + b"\r\n" + body)


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body and whether the connection stays open, for one HTTP/1.1 response."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"bad status line {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = await read_chunked(reader)
    else:
        raise ProtocolError("response without a length")
    keep_alive = headers.get("connection", "").lower() != "close"
    return int(parts[1]), body, keep_alive


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers expected: the final CRLF
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


class Worker:
    """One connection, one request at a time."""

    def __init__(self, target: Target, timeout: float) -> None:
        self.target = target
        self.timeout = timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def _once(self) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.target.host, self.target.port, limit=1 << 20
            )
        self.writer.write(self.target.request)
        await self.writer.drain()
        status, body, keep_alive = await read_response(self.reader)
        if not keep_alive:
            await self.close()
        return status, body

    async def request(self) -> tuple[str | None, int]:
        """(error kind or None, body size) of one request."""
        try:
            status, body = await asyncio.wait_for(self._once(), self.timeout)
        except TimeoutError:
            await self.close()
            return "timeout", 0
        except (OSError, asyncio.IncompleteReadError, ProtocolError, ValueError) as error:
            await self.close()
            return type(error).__name__, 0
        if status != 200:
            return f"http_{status}", len(body)
        if ERROR_MARKER in body:
            return "graphql_errors", len(body)
        return None, len(body)


def record(tally: Tally, started: float, outcome: tuple[str | None, int]) -> None:
    done = time.perf_counter()
    error, size = outcome
    tally.latencies.append(done - started)
    tally.response_bytes += size
    tally.last_done = max(tally.last_done, done)
    if error is not None:
        tally.error(error)


async def run_timed(
    target: Target, concurrency: int, warmup: float, duration: float, request_timeout: float
) -> tuple[Tally, float, float]:
    tally = Tally()
    start = time.perf_counter()
    window_start = start + warmup
    window_end = window_start + duration

    async def loop(worker: Worker) -> None:
        try:
            while (started := time.perf_counter()) < window_end:
                outcome = await worker.request()
                tally.completed += 1
                if started >= window_start:
                    record(tally, started, outcome)
        finally:
            await worker.close()

    await asyncio.gather(*(loop(Worker(target, request_timeout)) for _ in range(concurrency)))
    return tally, window_start, max(window_end, tally.last_done)


async def run_counted(
    target: Target, concurrency: int, warmup_requests: int, requests: int, request_timeout: float
) -> tuple[Tally, float, float]:
    tally = Tally()
    workers = [Worker(target, request_timeout) for _ in range(concurrency)]
    try:
        for index in range(warmup_requests):
            await workers[index % concurrency].request()
            tally.completed += 1
        remaining = requests
        window_start = time.perf_counter()

        async def loop(worker: Worker) -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                outcome = await worker.request()
                tally.completed += 1
                record(tally, started, outcome)

        await asyncio.gather(*(loop(w) for w in workers))
    finally:
        for worker in workers:
            await worker.close()
    return tally, window_start, max(window_start, tally.last_done)


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted values (0 for none)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summary(
    tally: Tally, window_start: float, window_end: float, concurrency: int
) -> dict[str, Any]:
    ordered = sorted(tally.latencies)
    elapsed = max(window_end - window_start, 1e-9)
    ms = 1000.0
    count = len(ordered)
    return {
        "concurrency": concurrency,
        "requests": count,
        "errors": sum(tally.errors.values()),
        "error_kinds": tally.errors,
        "total_requests": tally.completed,
        "seconds": round(elapsed, 3),
        "rps": round(count / elapsed, 2),
        "latency_ms": {
            "mean": round(sum(ordered) / count * ms, 2) if count else 0.0,
            "p50": round(percentile(ordered, 0.50) * ms, 2),
            "p90": round(percentile(ordered, 0.90) * ms, 2),
            "p99": round(percentile(ordered, 0.99) * ms, 2),
            "max": round(ordered[-1] * ms, 2) if count else 0.0,
        },
        "response_bytes": tally.response_bytes // count if count else 0,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--spec", type=Path, required=True, help="JSON request spec file")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds first")
    parser.add_argument("--requests", type=int, default=0, help="measure N requests instead")
    parser.add_argument("--warmup-requests", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60.0, help="per request, seconds")
    args = parser.parse_args(argv)
    if args.concurrency < 1 or args.duration <= 0 or args.warmup < 0 or args.requests < 0:
        parser.error("concurrency >= 1, duration > 0, warmup >= 0 and requests >= 0 required")
    return args


async def amain(args: argparse.Namespace) -> dict[str, Any]:
    target = load_target(args.spec)
    if args.requests:
        outcome = await run_counted(
            target, args.concurrency, args.warmup_requests, args.requests, args.timeout
        )
    else:
        outcome = await run_timed(
            target, args.concurrency, args.warmup, args.duration, args.timeout
        )
    return summary(*outcome, args.concurrency)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(amain(args))
    else:
        result = uvloop.run(amain(args))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
