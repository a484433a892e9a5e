"""Log lines: JSON, and a storm of warnings summarized rather than written one by one."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from graph.logs import INTERVAL_SECONDS, WARNINGS_PER_INTERVAL, JsonFormatter, SampledHandler
from tests.servers import Server, production_env, running


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def record(level: int, template: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("harborgraph.test", level, __file__, 1, template, args, None)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_repeated_warnings_are_summarized_once_per_interval() -> None:
    stream, clock = io.StringIO(), Clock()
    handler = SampledHandler(stream, clock)
    handler.setFormatter(JsonFormatter())
    for n in range(1000):
        handler.emit(record(logging.WARNING, "bad request from %s", f"10.0.0.{n % 250}"))
        handler.emit(record(logging.INFO, "request %s", n))
    handler.emit(record(logging.WARNING, "another kind"))
    written = lines(stream)
    assert len(written) == WARNINGS_PER_INTERVAL + 1000 + 1  # every INFO line is kept
    assert [w["message"] for w in written if w["level"] == "WARNING"] == [
        *[f"bad request from 10.0.0.{n}" for n in range(WARNINGS_PER_INTERVAL)],
        "another kind",
    ]
    clock.now += INTERVAL_SECONDS
    handler.emit(record(logging.WARNING, "bad request from %s", "10.0.0.9"))
    summary, again = lines(stream)[-2:]
    assert summary["message"] == "similar warnings left out"
    assert (summary["event"], summary["kind"], summary["count"]) == (
        "left_out",
        "bad request from %s",
        1000 - WARNINGS_PER_INTERVAL,
    )
    assert again["message"] == "bad request from 10.0.0.9"  # a new interval writes again
    for _ in range(10):
        handler.emit(record(logging.WARNING, "bad request from %s", "10.0.0.9"))
    handler.close()
    assert lines(stream)[-1]["count"] == 10 + 1 - WARNINGS_PER_INTERVAL


@pytest.fixture
async def server(writable_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    async with running(
        Server(writable_url, production_env(writable_url, tmp_path), tmp_path)
    ) as up:
        yield up


async def garbage(server: Server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", int(server.env["HARBORGRAPH_PORT"]))
    writer.write(b"NOT HTTP AT ALL\r\n\r\n")
    await writer.drain()
    await reader.read()
    writer.close()


async def test_a_storm_of_malformed_requests_leaves_a_few_lines(server: Server) -> None:
    for _ in range(20):
        await asyncio.gather(*(garbage(server) for _ in range(25)))
    assert await server.terminate() == 0
    written = [json.loads(line) for line in server.log.splitlines() if line.startswith("{")]
    invalid = [w for w in written if w["message"] == "Invalid HTTP request received."]
    summaries = [w for w in written if w["message"] == "similar warnings left out"]
    assert len(invalid) == WARNINGS_PER_INTERVAL
    assert [(s["kind"], s["count"]) for s in summaries] == [
        ("Invalid HTTP request received.", 500 - WARNINGS_PER_INTERVAL)
    ]
