"""The partner portal at /portal (issue 12): one screen for carriers, truckers and terminals,
built only on the public GraphQL schema. Every file it loads is served here, from `portal/`
(an allowlist: never a path taken from the request); no CDN.

In development a visitor may also sign in as a demo partner: the development key mints its
token (`GET /portal/demo-token?kind=CARRIER`), as `make run` prints them.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from graph.demo import DEMO_KINDS, GRANTS, mint_dev_token
from graph.state import AppState
from resolvers.community import first_organization_of_kind
from resolvers.principal import OrganizationKind

PORTAL = Path(__file__).resolve().parents[1] / "portal"
OPERATIONS = (
    "Me",
    "Schedule",
    "ContainerLookup",
    "Advisories",
    "GateTurnTimes",
    "EmptyReturns",
    "InboundVolume",
    "ContainerEvents",
    "ScheduleUpdates",
    "AdvisoryUpdates",
)
FILES: dict[str, tuple[str, str]] = {
    "portal.js": ("portal.js", "text/javascript"),
    "portal.css": ("portal.css", "text/css"),
    **{
        f"operations/{name}.graphql": (f"operations/{name}.graphql", "application/graphql")
        for name in OPERATIONS
    },
}
DEMO_TOKEN_SECONDS = 8 * 3600
# The page may load only what this server serves, and talk only to it.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def page(request: Request) -> Response:
    return FileResponse(PORTAL / "index.html", media_type="text/html", headers=SECURITY_HEADERS)


def portal_file(request: Request) -> Response:
    found = FILES.get(request.path_params["name"])
    if found is None:
        return PlainTextResponse("no such file", status_code=404)
    return FileResponse(PORTAL / found[0], media_type=found[1], headers=SECURITY_HEADERS)


async def demo_token(request: Request) -> Response:
    """A demo partner's token (development only: the route exists only there)."""
    state: AppState = request.app.state.harborgraph
    try:
        kind = OrganizationKind(request.query_params.get("kind", ""))
    except ValueError:
        kind = None
    if kind not in DEMO_KINDS:
        choices = ", ".join(k.value for k in DEMO_KINDS)
        return JSONResponse({"error": f"kind must be one of {choices}"}, status_code=400)
    assert kind is not None
    organization = await first_organization_of_kind(state.pools["community"], kind)
    if organization is None:
        return JSONResponse({"error": f"the demo has no {kind.value}"}, status_code=404)
    scopes = [s.value for s in GRANTS[kind]]
    token = mint_dev_token(
        state.settings, org=organization.code, scopes=scopes, ttl=DEMO_TOKEN_SECONDS
    )
    body = {"token": token, "organization": organization.code, "name": organization.name}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def routes(development: bool) -> list[Route]:
    found = [
        Route("/portal", page, methods=["GET"]),
        Route("/portal/{name:path}", portal_file, methods=["GET"]),
    ]
    if development:
        found.insert(1, Route("/portal/demo-token", demo_token, methods=["GET"]))
    return found
