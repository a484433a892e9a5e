"""The partner portal's server side: its files from the app only, its operations valid
against the schema, the demo sign-in in development only."""

from __future__ import annotations

import re

import httpx
import pytest
from graphql import (
    OperationDefinitionNode,
    build_schema,
    parse,
    specified_rules,
    validate,
)

from graph.portal import FILES, OPERATIONS, PORTAL
from schema import LIMIT_RULES, schema
from tests.conftest import Tokens

LINKED = re.compile(r'(?:src|href)="([^"]+)"')


COMMITTED = build_schema(
    (PORTAL.parent / "schema" / "schema.graphql").read_text(), assume_valid_sdl=True
)


def test_every_operation_file_is_served() -> None:
    assert sorted(p.stem for p in (PORTAL / "operations").glob("*.graphql")) == sorted(OPERATIONS)


@pytest.mark.parametrize("name", OPERATIONS)
def test_each_operation_is_valid_against_the_schema(name: str) -> None:
    """Against the committed SDL (a schema change that breaks the portal fails here), and
    against the served schema with its depth, alias and page-budget limits."""
    document = parse((PORTAL / "operations" / f"{name}.graphql").read_text())
    assert validate(COMMITTED, document) == []
    built = schema(development=False)._schema
    assert validate(built, document, [*specified_rules, *LIMIT_RULES]) == []
    (operation,) = document.definitions
    assert isinstance(operation, OperationDefinitionNode)
    assert operation.name is not None
    assert operation.name.value == name


async def test_the_page_loads_only_what_the_app_serves(app_client: httpx.AsyncClient) -> None:
    page = await app_client.get("/portal")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    linked = LINKED.findall(page.text)
    assert sorted(linked) == ["/portal/portal.css", "/portal/portal.js"]
    for name in FILES:
        assert (await app_client.get(f"/portal/{name}")).status_code == 200, name
    for name in ("../pyproject.toml", "index.html.bak", "operations/../../README.md"):
        assert (await app_client.get(f"/portal/{name}")).status_code == 404, name


async def test_a_demo_partner_signs_in_in_development(
    app_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    answer = await app_client.get("/portal/demo-token", params={"kind": "CARRIER"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["organization"] == tokens.organizations["CARRIER"]
    me = await app_client.post(
        "/graphql",
        json={"query": "{ me { organization { code kind } } }"},
        headers={"Authorization": f"Bearer {body['token']}"},
    )
    assert me.json() == {
        "data": {"me": {"organization": {"code": body["organization"], "kind": "CARRIER"}}}
    }
    wrong = await app_client.get("/portal/demo-token", params={"kind": "PIRATE"})
    assert wrong.status_code == 400


async def test_production_has_the_portal_but_no_demo_sign_in(
    production_client: httpx.AsyncClient,
) -> None:
    assert (await production_client.get("/portal")).status_code == 200
    demo = await production_client.get("/portal/demo-token", params={"kind": "CARRIER"})
    assert demo.status_code == 404
