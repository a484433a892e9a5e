"""Real PostgreSQL for every test: TEST_DATABASE_URL when set, else an embedded server."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from graph.database import start_embedded, with_database
from graph.settings import Settings, load_settings
from resolvers.community import SELECT_ORGANIZATION
from resolvers.sources import BACKGROUND, SOURCES, Connection, Pool, SourcePools

# Not the request's own statements: asyncpg's type introspection (once per connection and
# type) and the audit writer's background inserts for earlier requests.
ASYNCPG_INTERNAL = (
    "typeinfo_tree",
    "current_setting('jit')",
    "set_config('jit'",
    "INSERT INTO community.audit_event",
    BACKGROUND,  # background tasks' (webhooks, the replica's refreshes), beside requests
)
TEST_SEED = 7
TEST_SCALE = 0.05
TEST_ANCHOR = "2026-03-02"


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    # The embedded server runs as its own user when we are root: its folder must be reachable.
    folder = Path(tempfile.mkdtemp(prefix="harborgraph-test-pg-"))
    folder.chmod(0o755)
    server = start_embedded(folder)
    asyncio.run(_throwaway_durability(server.get_uri()))
    yield server.get_uri()
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


async def _throwaway_durability(url: str) -> None:
    """A test server's data dies with it: skip the fsyncs that make drops and seeds slow."""
    conn: Connection = await asyncpg.connect(url)
    try:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            await conn.execute(f"ALTER SYSTEM SET {setting} = off")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


async def _create(admin_url: str, template: str | None = None, name: str | None = None) -> str:
    name = name or f"hg_test_{uuid.uuid4().hex[:12]}"
    conn: Connection = await asyncpg.connect(admin_url)
    try:
        clause = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await conn.close()
    return name


async def _drop(admin_url: str, name: str) -> None:
    conn: Connection = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def empty_database(pg_admin_url: str) -> AsyncIterator[str]:
    """A new, empty database for one test; its URL."""
    name = await _create(pg_admin_url)
    yield with_database(pg_admin_url, name)
    await _drop(pg_admin_url, name)


@pytest.fixture(scope="session")
async def seeded_url(pg_admin_url: str) -> AsyncIterator[str]:
    """One database migrated and seeded (scale 0.05, seed 7, anchor 2026-03-02); read-only."""
    from graph.runtime import migrate_all
    from resolvers.seed import seed
    from resolvers.sources import SOURCES

    name = await _create(pg_admin_url)
    url = with_database(pg_admin_url, name)
    await migrate_all(dict.fromkeys(SOURCES, url))
    pools = await _plain_pools(url)
    try:
        await seed(pools, scale=TEST_SCALE, seed=TEST_SEED, anchor=date.fromisoformat(TEST_ANCHOR))
    finally:
        await pools["community"].close()
    # Copied (before anyone connects) as the template of the databases writing tests change.
    await _create(pg_admin_url, template=name, name=f"{name}_template")
    yield url
    await _drop(pg_admin_url, f"{name}_template")
    await _drop(pg_admin_url, name)


@pytest.fixture
async def writable_url(pg_admin_url: str, seeded_url: str) -> AsyncIterator[str]:
    """A copy of the seeded database for one test that writes; its URL."""
    template = urlsplit(seeded_url).path.lstrip("/") + "_template"
    name = await _create(pg_admin_url, template=template)
    yield with_database(pg_admin_url, name)
    await _drop(pg_admin_url, name)


async def _plain_pools(url: str) -> SourcePools:
    pool: Pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
    return SourcePools(dict.fromkeys(SOURCES, pool))


@pytest.fixture(scope="session")
async def seeded_pools(seeded_url: str) -> AsyncIterator[SourcePools]:
    pools = await _plain_pools(seeded_url)
    yield pools
    await pools["community"].close()


class SqlCounter:
    """Counts the statements the app's pools send while a block runs: `statements` are the
    request's own; `lookups` the token's organization, which the app caches for a few
    seconds, so whether a request looks it up depends on when the entry expired."""

    def __init__(self) -> None:
        self.active = False
        self.statements: list[str] = []
        self.lookups: list[str] = []

    def observe(self, query: str, _args: tuple[Any, ...] = ()) -> None:
        # asyncpg's own type introspection runs once per connection and type: not ours.
        if not self.active or any(marker in query for marker in ASYNCPG_INTERNAL):
            return
        (self.lookups if query == SELECT_ORGANIZATION else self.statements).append(query)

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[SqlCounter]:
        self.statements = []
        self.lookups = []
        self.active = True
        try:
            yield self
        finally:
            self.active = False


@pytest.fixture(scope="session")
def sql_counter() -> SqlCounter:
    return SqlCounter()


@pytest.fixture
def count_sql(sql_counter: SqlCounter) -> SqlCounter:
    return sql_counter


@pytest.fixture(scope="session")
def test_settings(tmp_path_factory: pytest.TempPathFactory, seeded_url: str) -> Settings:
    return load_settings(
        {
            "HARBORGRAPH_DATABASE_URL": seeded_url,
            "HARBORGRAPH_DATA_DIR": str(tmp_path_factory.mktemp("data")),
            "HARBORGRAPH_POOL_MAX_SIZE": "8",
            # The session's requests share one app: its tests of rate limits have their own.
            "HARBORGRAPH_RATE_LIMIT_PER_MINUTE": "1000000",
        }
    )


class Api:
    """Posts GraphQL over HTTP to the app, as a partner would."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {"Accept": "application/graphql-response+json", **(headers or {})}
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return await self.client.post("/graphql", json=body, headers=sent)

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        response = await self.post(query, variables, token)
        payload = response.json()
        assert response.status_code == 200, payload
        assert "errors" not in payload, payload["errors"]
        data: dict[str, Any] = payload["data"]
        return data


@pytest.fixture(scope="session")
async def app_client(
    test_settings: Settings, seeded_url: str, sql_counter: SqlCounter
) -> AsyncIterator[httpx.AsyncClient]:
    from graph.database import source_dsns

    dsns = source_dsns(test_settings, seeded_url)
    async with served(test_settings, dsns, sql_counter) as client:
        yield client


@contextlib.asynccontextmanager
async def served(
    settings: Settings, dsns: dict[str, str], counter: SqlCounter
) -> AsyncIterator[httpx.AsyncClient]:
    """The app on these databases, its lifespan running, reached in-process over HTTP."""
    from graph.app import create_app

    app = create_app(settings, dsns, counter.observe)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://harborgraph.test") as c:
            yield c


@pytest.fixture
async def production_client(
    test_settings: Settings, seeded_url: str, sql_counter: SqlCounter
) -> AsyncIterator[httpx.AsyncClient]:
    """The app in production mode, its tokens checked with a key file (as an outside
    issuer's would be)."""
    from graph.database import source_dsns
    from graph.keys import ensure_dev_keys

    key = ensure_dev_keys(test_settings.data_dir).public_key_path
    jwt = dataclasses.replace(test_settings.jwt, public_key_file=key)
    settings = dataclasses.replace(test_settings, environment="production", jwt=jwt)
    async with served(settings, source_dsns(settings, seeded_url), sql_counter) as client:
        yield client


@pytest.fixture
async def writable_client(
    test_settings: Settings, writable_url: str, sql_counter: SqlCounter
) -> AsyncIterator[httpx.AsyncClient]:
    """The app on a copy of the seeded database that a test may change."""
    from graph.database import source_dsns

    settings = dataclasses.replace(test_settings, database_url=writable_url)
    async with served(settings, source_dsns(settings, writable_url), sql_counter) as client:
        yield client


@pytest.fixture
async def impatient_client(
    test_settings: Settings, writable_url: str, sql_counter: SqlCounter
) -> AsyncIterator[httpx.AsyncClient]:
    """The same, with a statement timeout of 300 ms."""
    from graph.database import source_dsns

    settings = dataclasses.replace(
        test_settings, database_url=writable_url, statement_timeout_ms=300
    )
    async with served(settings, source_dsns(settings, writable_url), sql_counter) as client:
        yield client


@pytest.fixture(scope="session")
def api(app_client: httpx.AsyncClient) -> Api:
    """The app as partners reach it: the compiled path by default (HARBORGRAPH_EXECUTION)."""
    return Api(app_client)


@pytest.fixture(scope="session")
async def resolver_client(
    test_settings: Settings, seeded_url: str, sql_counter: SqlCounter
) -> AsyncIterator[httpx.AsyncClient]:
    """The same app answering every query on the resolver path (HARBORGRAPH_EXECUTION)."""
    from graph.database import source_dsns

    settings = dataclasses.replace(test_settings, execution="resolvers")
    async with served(settings, source_dsns(settings, seeded_url), sql_counter) as client:
        yield client


@pytest.fixture(scope="session")
def resolver_api(resolver_client: httpx.AsyncClient) -> Api:
    return Api(resolver_client)


class Tokens:
    """Real ES256 access tokens signed with the test server's development key."""

    def __init__(self, settings: Settings, organizations: dict[str, str]) -> None:
        self.settings = settings
        self.organizations = organizations  # kind -> first org code of that kind

    def mint(self, org: str, *scopes: str, ttl: int = 600) -> str:
        from graph.demo import mint_dev_token

        return mint_dev_token(self.settings, org=org, scopes=scopes, ttl=ttl)

    def partner(self, kind: str) -> tuple[str, str]:
        from graph.demo import GRANTS
        from resolvers.principal import OrganizationKind

        code = self.organizations[kind]
        grants = [s.value for s in GRANTS[OrganizationKind(kind)]]
        return code, self.mint(code, *grants)


@pytest.fixture(scope="session")
async def tokens(test_settings: Settings, seeded_pools: SourcePools) -> Tokens:
    rows = await seeded_pools["community"].fetch(
        "SELECT DISTINCT ON (kind) kind, code FROM community.organization ORDER BY kind, code"
    )
    return Tokens(test_settings, {r["kind"]: r["code"] for r in rows})
