"""An ASGI factory for process managers: `uvicorn --factory graph.asgi:app`.

Unlike `harborgraph serve` it starts no embedded database and seeds nothing: it needs
HARBORGRAPH_DATABASE_URL and migrated databases (run `harborgraph migrate` first).
"""

from __future__ import annotations

from starlette.applications import Starlette

from graph.app import create_app
from graph.database import source_dsns
from graph.logs import configure_logging
from graph.runtime import settle_collector
from graph.settings import SettingsError, load_settings


def app() -> Starlette:
    configure_logging()  # after uvicorn's own configuration: its lines become JSON too
    settings = load_settings()
    if settings.database_url is None:
        raise SettingsError("HARBORGRAPH_DATABASE_URL", "is required by graph.asgi:app")
    application = create_app(settings, source_dsns(settings, settings.database_url))
    settle_collector()
    return application
