"""GraphiQL in development, every asset from the app itself (no CDN); none in production."""

from __future__ import annotations

import re

import httpx

from graph.graphiql import ASSETS

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
    production_client: httpx.AsyncClient,
) -> None:
    page = await production_client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert (await production_client.get("/graphiql/assets/graphiql.min.js")).status_code == 404
