"""The Starlette app factory and its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from functools import partial
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from graph.audit import AuditSink
from graph.auth import KeySource, key_source_from_settings
from graph.database import (
    QueryObserver,
    close_pools,
    close_read_pools,
    group_by_dsn,
    listening_connection,
    open_pools,
    open_read_pools,
    read_dsns,
)
from graph.dcsa import EVENTS_PATH, events_endpoint
from graph.documents import documents_for
from graph.graphiql import ASSETS_PATH, asset
from graph.health import healthz, readyz
from graph.keys import DevKeys, ensure_dev_keys, jwks, load_public_key
from graph.limits import HeaderLimits
from graph.observation import RequestObserver
from graph.organizations import watch
from graph.portal import routes as portal_routes
from graph.settings import Settings
from graph.state import AppState
from graph.subscriptions import subscriptions_endpoint
from graph.telemetry import exported, process_metrics, tracer_provider
from graph.throttle import RateLimits
from graph.tracing import traced
from graph.view import graphql_endpoint
from graph.webhooks import ROUTES as WEBHOOK_ROUTES
from graph.webhooks import WebhookDispatcher, delivery_client
from resolvers.changes import LOGS, ChangeFeed, Connect
from schema import schema


def _dev_keys(settings: Settings) -> DevKeys | None:
    """Development mode without configured keys: a generated key pair in the data directory."""
    configured = settings.jwt.jwks_url or settings.jwt.public_key_file
    if configured or not settings.development:
        return None
    return ensure_dev_keys(settings.data_dir)


def _published_jwks(dev_keys: DevKeys | None) -> dict[str, Any] | None:
    if dev_keys is None:
        return None
    return jwks(load_public_key(dev_keys.public_key_path), dev_keys.kid)


async def jwks_endpoint(request: Request) -> JSONResponse:
    state: AppState = request.app.state.harborgraph
    if state.jwks is None:
        return JSONResponse({"error": "no development key set is published"}, status_code=404)
    return JSONResponse(state.jwks, headers={"Cache-Control": "max-age=300"})


def listeners(dsns: Mapping[str, str]) -> list[tuple[Connect, list[str]]]:
    """One LISTEN connection per database, for the logged sources that live there."""
    grouped = group_by_dsn(dsns)
    return [
        (partial(listening_connection, dsn), [s for s in sources if s in LOGS])
        for dsn, sources in grouped.items()
        if any(s in LOGS for s in sources)
    ]


def create_app(
    settings: Settings,
    dsns: Mapping[str, str],
    observer: QueryObserver | None = None,
    traces: TracerProvider | None = None,
) -> Starlette:
    """An app serving the given per-source databases; pools open and close with its lifespan.
    `traces` replaces the provider the OTEL_* variables would configure (tests)."""
    dev_keys = _dev_keys(settings)
    keys: KeySource = key_source_from_settings(settings.jwt, dev_keys)
    published = _published_jwks(dev_keys)
    metrics = process_metrics(settings)
    provider = traces or tracer_provider(settings)
    documents = documents_for(settings)  # a bad trusted-documents file stops start-up here

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pools = await open_pools(dsns, settings, observer)
        reads = await open_read_pools(pools, read_dsns(settings), settings, observer)
        audit = AuditSink(pools["community"])
        audit.start()
        changes = ChangeFeed(pools, listeners(dsns))
        await changes.start()
        app.state.harborgraph = state = AppState(
            settings,
            pools,
            schema(settings.development, settings.execution == "compiled"),
            keys,
            audit,
            published,
            changes,
            read_pools=reads,
            metrics=metrics,
            tracer=provider.get_tracer("harborgraph") if provider is not None else None,
            documents=documents,
        )
        client = delivery_client()
        webhooks = WebhookDispatcher(state, changes, client)
        webhooks.start()
        state.operations.start()
        state.rate_limiter.start()
        organizations = asyncio.create_task(
            watch(state.organizations, partial(listening_connection, dsns["community"])),
            name="harborgraph organizations",
        )
        try:
            async with exported(state, metrics):
                yield
        finally:
            organizations.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await organizations
            await state.rate_limiter.stop()
            if provider is not None:
                provider.force_flush()
            await state.operations.stop()
            await webhooks.stop()
            await client.aclose()
            await changes.stop()
            await audit.stop()
            await close_read_pools(reads, pools)
            await close_pools(pools)

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", subscriptions_endpoint),
        Route(EVENTS_PATH, events_endpoint, methods=["GET", "POST"]),
        Route("/.well-known/jwks.json", jwks_endpoint, methods=["GET"]),
        *WEBHOOK_ROUTES,
        *portal_routes(settings.development),
    ]
    if settings.development:
        routes.append(Route(ASSETS_PATH + "/{name}", asset, methods=["GET"]))
    middleware = [
        *tracing(provider),
        Middleware(RequestObserver, metrics=metrics),
        Middleware(HeaderLimits),
        *cors(settings),  # outside the rate limit: preflights are free, 429s readable
        Middleware(RateLimits),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)


def tracing(provider: TracerProvider | None) -> list[Middleware]:
    """The outermost layer when traces are on: a server span around everything else."""
    if provider is None:
        return []
    return [Middleware(traced, provider=provider)]


# What a partner's portal in a browser may send and read: its token, JSON, and the headers
# the answers carry (DCSA's paging, Retry-After). Never credentials mode: tokens, not cookies.
CORS_HEADERS = ("Authorization", "Content-Type")
CORS_EXPOSED = ("API-Version", "Current-Page", "First-Page", "Next-Page", "Retry-After")


def cors(settings: Settings) -> list[Middleware]:
    """Answers for the allowlisted origins only (HARBORGRAPH_CORS_ORIGINS; none by default)."""
    if not settings.cors_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=("GET", "POST"),
            allow_headers=CORS_HEADERS,
            allow_credentials=False,
            expose_headers=CORS_EXPOSED,
        )
    ]
