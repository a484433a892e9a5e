"""GraphiQL for development mode, served with its assets by the app itself: no CDN (many
terminals' networks have no internet). The assets come from the pinned npm packages in
`portal/` (`make run` and `make test` install them); in production there is no GraphiQL.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

ASSETS_PATH = "/graphiql/assets"
PACKAGES = Path(__file__).resolve().parents[1] / "portal" / "node_modules"
# Name served -> (file under portal/node_modules, media type): an allowlist, never a path
# taken from the request.
ASSETS: dict[str, tuple[str, str]] = {
    "react.production.min.js": ("react/umd/react.production.min.js", "text/javascript"),
    "react-dom.production.min.js": (
        "react-dom/umd/react-dom.production.min.js",
        "text/javascript",
    ),
    "graphiql.min.js": ("graphiql/graphiql.min.js", "text/javascript"),
    "graphiql.min.css": ("graphiql/graphiql.min.css", "text/css"),
}

GRAPHIQL_HTML = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Harborgraph GraphiQL</title>
  <link rel="stylesheet" href="{ASSETS_PATH}/graphiql.min.css">
  <style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="{ASSETS_PATH}/react.production.min.js"></script>
  <script src="{ASSETS_PATH}/react-dom.production.min.js"></script>
  <script src="{ASSETS_PATH}/graphiql.min.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({{ url: new URL("/graphql", location.href).href }});
    const root = ReactDOM.createRoot(document.getElementById("graphiql"));
    root.render(React.createElement(GraphiQL, {{
      fetcher,
      defaultEditorToolsVisibility: true,
      // Empty is anonymous (the public schedule); paste "Bearer <token>" to be a partner.
      defaultHeaders: JSON.stringify({{ Authorization: "" }}, null, 2),
    }}));
  </script>
</body>
</html>
"""


def asset(request: Request) -> Response:
    """One of GraphiQL's assets (development only: the caller checks)."""
    found = ASSETS.get(request.path_params["name"])
    if found is None:
        return PlainTextResponse("no such asset", status_code=404)
    path = PACKAGES / found[0]
    if not path.is_file():
        message = "GraphiQL's assets are not installed: run `make run` (npm ci in portal/)"
        return PlainTextResponse(message, status_code=404)
    return FileResponse(path, media_type=found[1], headers={"Cache-Control": "max-age=3600"})
