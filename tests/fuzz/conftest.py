"""The app the fuzzers call: production mode (no introspection, no suggestions, masked errors,
tokens checked with a key file as an outside issuer's would be), on its own copy of the seeded
database, reached in-process over ASGI by schemathesis's transport.

Schemathesis runs the app (its lifespan, pools and background tasks) on its own event-loop
thread, so the app is built here and only its databases come from the session's fixtures;
`shutdown_lifespans()` stops it (every app schemathesis started) before its database is
dropped.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from schemathesis.python.asgi import shutdown_lifespans
from starlette.applications import Starlette

from graph.database import source_dsns, with_database
from graph.settings import Settings
from tests.conftest import Tokens, _create, _drop

# High enough that a fuzz run never meets the per-partner rate limit (issue 14): the fuzzer
# sends a few thousand requests a minute as one carrier.
UNLIMITED_PER_MINUTE = 1_000_000


@dataclass(frozen=True, slots=True)
class Target:
    """An app to fuzz and the headers a carrier sends it."""

    app: Starlette
    headers: dict[str, str]


def production(settings: Settings, url: str) -> Settings:
    from graph.keys import ensure_dev_keys

    key = ensure_dev_keys(settings.data_dir).public_key_path
    return dataclasses.replace(
        settings,
        environment="production",
        jwt=dataclasses.replace(settings.jwt, public_key_file=key),
        database_url=url,
        rate_limit_per_minute=UNLIMITED_PER_MINUTE,
    )


@contextlib.contextmanager
def production_app(settings: Settings, url: str) -> Iterator[Starlette]:
    """The app in production mode on `url`; its lifespan starts with the first request."""
    from graph.app import create_app

    served = production(settings, url)
    try:
        yield create_app(served, source_dsns(served, url))
    finally:
        shutdown_lifespans()


async def database_copy(pg_admin_url: str, seeded_url: str) -> str:
    """A new copy of the seeded database (writes and audit rows stay in it); its URL."""
    template = urlsplit(seeded_url).path.lstrip("/") + "_template"
    return with_database(pg_admin_url, await _create(pg_admin_url, template=template))


@pytest.fixture(scope="module")
async def fuzz_database(pg_admin_url: str, seeded_url: str) -> AsyncIterator[str]:
    url = await database_copy(pg_admin_url, seeded_url)
    yield url
    await _drop(pg_admin_url, urlsplit(url).path.lstrip("/"))


@pytest.fixture(scope="module")
def carrier(tokens: Tokens) -> tuple[str, str]:
    """A carrier's code and a token with every grant of a carrier (ten minutes)."""
    return tokens.partner("CARRIER")


@pytest.fixture(scope="module")
def fuzz_target(
    test_settings: Settings, fuzz_database: str, carrier: tuple[str, str]
) -> Iterator[Target]:
    with production_app(test_settings, fuzz_database) as app:
        yield Target(app, {"Authorization": f"Bearer {carrier[1]}"})
