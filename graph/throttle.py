"""The rate limit at the door: every API request is counted against its partner (or its
client address) before any route runs; over the limit it is answered 429, and every answer
says where the caller stands (RateLimit-Policy, RateLimit)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.auth import InvalidToken
from graph.dcsa import DcsaError, refused
from graph.observation import API_PATHS
from graph.ratelimit import Decision
from graph.state import AppState
from resolvers.principal import Principal
from resolvers.sources import DATABASE_UNAVAILABLE

RATE_LIMITED = "RATE_LIMITED"
REFUSED_OR_AWAY: tuple[type[BaseException], ...] = (InvalidToken, *DATABASE_UNAVAILABLE)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def _address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


async def quota(state: AppState, principal: Principal | None, address: str) -> tuple[str, int]:
    """Whose quota a request draws on, and its size: the organization's, or its client
    address's when the caller is anonymous or its token was refused (None)."""
    default = state.settings.rate_limit_per_minute
    if principal is None or principal.organization_code is None:
        return f"address {address}", default
    organization = await state.organizations(principal.organization_code)
    own = organization.rate_limit_per_minute if organization is not None else None
    return f"organization {principal.organization_code}", own or default


async def holder(state: AppState, scope: Scope) -> tuple[str, int]:
    try:
        principal: Principal | None = await state.authenticate(_header(scope, b"authorization"))
    except REFUSED_OR_AWAY:  # the route answers it (401, 503)
        principal = None
    return await quota(state, principal, _address(scope))


def _graphql_refusal(decision: Decision) -> Message:
    error = {"message": decision.message, "extensions": {"code": RATE_LIMITED}}
    return {"type": "http.response.body", "body": orjson.dumps({"errors": [error]})}


async def _refuse(scope: Scope, receive: Receive, send: Send, decision: Decision) -> None:
    headers = [*decision.headers(), (b"cache-control", b"no-store")]
    if scope["path"].startswith("/dcsa/"):
        response = refused(Request(scope, receive), DcsaError(429, decision.message))
        response.raw_headers += headers
        await response(scope, receive, send)
        return
    headers.append((b"content-type", b"application/json"))
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send(_graphql_refusal(decision))


class RateLimits:
    """ASGI middleware in front of the routes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PATHS):
            await self.app(scope, receive, send)
            return
        state: AppState = scope["app"].state.harborgraph
        decision = state.rate_limiter.check(*await holder(state, scope))
        if not decision.allowed:
            await _refuse(scope, receive, send, decision)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra: list[Any] = decision.headers()
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
