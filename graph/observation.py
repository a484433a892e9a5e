"""What each request did: one record per request, its log line and its metrics.

The record rides in a context variable: the endpoint notes who asked and what ran, the pools'
query logger adds each SQL statement (asyncpg calls it in the request's context), and the
middleware writes one JSON line and the metrics when the answer has gone."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from asyncpg.connection import LoggedQuery
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.metrics import NAME, Metrics
from resolvers.principal import Principal

log = logging.getLogger("harborgraph.request")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Answers the probes and the portal's files: no line each (a kubelet asks every few seconds).
QUIET_PATHS = ("/healthz", "/readyz")
API_PATHS = ("/graphql", "/dcsa/")


@dataclass(slots=True)
class RequestRecord:
    request_id: str
    method: str
    path: str
    started: float
    organization: str | None = None
    kind: str | None = None
    operation: str | None = None  # the GraphQL operation's name, or the REST route
    outcome: str | None = None  # set by the endpoint when the status alone does not say it
    status: int = 0
    statements: int = 0
    sql_seconds: float = 0.0
    fallback: bool = False  # the compiled path left the query to the resolvers
    route: str | None = None  # a REST request's route, e.g. "GET /dcsa/tnt/v2/events"
    principal: Principal | None = None  # who asked, once authenticated
    authorization: str | None = None  # the header it was authenticated from

    def note(self, principal: Principal, authorization: str | None) -> None:
        self.principal, self.authorization = principal, authorization
        self.organization = principal.organization_code
        self.kind = principal.kind.value if principal.kind is not None else None

    @property
    def api(self) -> bool:
        return self.path.startswith(API_PATHS)


CURRENT: ContextVar[RequestRecord | None] = ContextVar("harborgraph_request", default=None)


def current() -> RequestRecord | None:
    return CURRENT.get()


def count_statement(logged: LoggedQuery) -> None:
    """asyncpg's query logger: runs in the context of the request that sent the statement."""
    record = CURRENT.get()
    if record is not None:
        record.statements += 1
        record.sql_seconds += logged.elapsed


def _request_id(scope: Scope) -> str:
    """The caller's (or its proxy's) X-Request-ID when it is a sane token, else a fresh one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if REQUEST_ID.match(text):
                return text
    return uuid.uuid4().hex


def outcome(record: RequestRecord) -> str:
    if record.outcome is not None:
        return record.outcome
    status = record.status
    if status < 400:
        return "ok"
    named = {401: "unauthenticated", 403: "forbidden", 429: "rate_limited", 503: "unavailable"}
    return named.get(status, "internal" if status >= 500 else "bad_request")


def _operation(record: RequestRecord) -> str | None:
    """The GraphQL operation's name (when it is one), or the REST route."""
    name = record.operation
    if name is not None:
        return name if NAME.match(name) else "(invalid)"
    return record.route


def log_fields(record: RequestRecord) -> dict[str, object]:
    """The request's log line: never a header, a query string, a variable or a document."""
    return {
        "event": "request",
        "request_id": record.request_id,
        "method": record.method,
        "path": record.path[:200],
        "status": record.status,
        "outcome": outcome(record),
        "ms": round((time.perf_counter() - record.started) * 1000, 2),
        "organization": record.organization,
        "kind": record.kind,
        "operation": _operation(record),
        "sql_statements": record.statements,
        "sql_ms": round(record.sql_seconds * 1000, 2),
    }


def count(record: RequestRecord, metrics: Metrics) -> None:
    operation = record.route or metrics.operation(record.operation)
    kind = record.kind or "anonymous"
    result = outcome(record)
    metrics.requests.labels(operation, kind, result).inc()
    metrics.latency.labels(operation, kind).observe(time.perf_counter() - record.started)
    metrics.statements.labels(operation).observe(record.statements)
    metrics.sql_time.labels(operation).observe(record.sql_seconds)
    if result == "rate_limited":
        metrics.rate_limited.labels(kind).inc()
    if record.fallback:
        metrics.fallbacks.inc()


def _route(scope: Scope, record: RequestRecord) -> str | None:
    """The route's own template (never the caller's path: it may hold identifiers)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if record.path.startswith("/graphql") or not isinstance(path, str):
        return None
    return f"{record.method} {path}"


class RequestObserver:
    """ASGI middleware: a record per HTTP request, `X-Request-ID` on every answer."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = RequestRecord(
            _request_id(scope), scope["method"], scope["path"], time.perf_counter()
        )
        token = CURRENT.set(record)

        async def send_noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", record.request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            CURRENT.reset(token)
            record.route = _route(scope, record)
            await asyncio.sleep(0)  # the query logger's last calls are scheduled, not yet run
            self._finish(record)

    def _finish(self, record: RequestRecord) -> None:
        if record.status == 0:
            record.status = 500  # the app raised before answering; the server answers 500
        if not (record.path in QUIET_PATHS and record.status < 400):
            log.info("request", extra={"fields": log_fields(record)})
        if record.api:
            count(record, self.metrics)
