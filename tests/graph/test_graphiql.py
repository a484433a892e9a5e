"""GraphiQL in development, every asset from the app itself (no CDN); none in production."""

from __future__ import annotations

import dataclasses
import re

import httpx

from graph.database import source_dsns
from graph.graphiql import ASSETS
from graph.keys import ensure_dev_keys
from graph.settings import Settings
from tests.conftest import SqlCounter, served

LINKED = re.compile(r'(?:src|href)="([^"]+)"')
TYPES = {".js": "text/javascript", ".css": "text/css"}


async def test_the_page_and_each_asset_come_from_the_app(app_client: httpx.AsyncClient) -> None:
    page = await app_client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    linked = LINKED.findall(page.text)
    assert sorted(linked) == sorted(f"/graphiql/assets/{name}" for name in ASSETS)
    assert not re.search(r"https?://|//[a-z]", page.text.split("<body>")[0] + "".join(linked))
    for path in linked:
        answer = await app_client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith(TYPES[path[path.rindex(".") :]])
        assert len(answer.content) > 1_000


async def test_an_asset_not_in_the_list_is_404(app_client: httpx.AsyncClient) -> None:
    for name in ("../package.json", "react.development.js", "%2e%2e%2fpackage.json"):
        assert (await app_client.get(f"/graphiql/assets/{name}")).status_code == 404


async def test_production_serves_neither_the_page_nor_its_assets(
    test_settings: Settings, seeded_url: str, sql_counter: SqlCounter
) -> None:
    key = ensure_dev_keys(test_settings.data_dir).public_key_path  # an outside issuer's, here
    jwt = dataclasses.replace(test_settings.jwt, public_key_file=key)
    settings = dataclasses.replace(test_settings, environment="production", jwt=jwt)
    async with served(settings, source_dsns(settings, seeded_url), sql_counter) as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 404
        assert (await client.get("/graphiql/assets/graphiql.min.js")).status_code == 404
