"""Settings: the only place that reads the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PREFIX = "HARBORGRAPH_"
SOURCES = ("vessel", "cargo", "gate", "security")
UNLOCODE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")
ALGORITHMS = frozenset({"ES256", "RS256", "EdDSA"})


class SettingsError(ValueError):
    """A setting has a wrong value; the message names the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True, slots=True)
class JwtSettings:
    issuer: str
    audience: str
    algorithms: frozenset[str]
    leeway_seconds: int
    jwks_url: str | None
    public_key_file: Path | None


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None
    source_urls: Mapping[str, str | None]
    data_dir: Path
    port_locode: str
    host: str
    port: int
    environment: str
    jwt: JwtSettings
    pool_min_size: int = 2
    pool_max_size: int = 10
    statement_timeout_ms: int = 5000
    statement_cache_size: int = 100  # asyncpg's prepared statements per connection; 0: none
    max_page_size: int = 100
    execution: str = "compiled"  # EXECUTIONS: how queries are answered
    max_subscriptions: int = 100  # open at once per partner, all replicas together
    webhook_max_backoff_seconds: int = 300  # the longest wait between failed deliveries
    cors_origins: tuple[str, ...] = ()  # browser origins allowed to call the API (portals)
    read_database_url: str | None = None  # a streaming replica of the main database
    read_source_urls: Mapping[str, str | None] = field(default_factory=dict)
    metrics_port: int | None = None  # Prometheus /metrics on its own port; None: off
    metrics_dir: Path | None = None  # shared by a host's workers (prometheus multiprocess)
    shutdown_grace_seconds: int = 25  # in-flight requests finish within it on SIGTERM
    rate_limit_per_minute: int = 1200  # per organization, unless its row says otherwise
    trusted_documents: Path | None = None  # an Apollo persisted query manifest: only these run
    traces_exporter: str | None = None  # "otlp" or "console" from the OTEL_* variables; None: off

    @property
    def development(self) -> bool:
        return self.environment == "development"

    def source_url(self, source: str) -> str | None:
        """A source's own database URL, or the main one when it has none."""
        return self.source_urls.get(source) or self.database_url

    def read_source_url(self, source: str) -> str | None:
        """Where a source's queries go: its own replica, the main one when the source lives in
        the main database, else None (its primary)."""
        own = self.read_source_urls.get(source)
        if own is not None or self.source_urls.get(source) is not None:
            return own
        return self.read_database_url


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(PREFIX + name)
    return value if value not in (None, "") else None


def _database_url(env: Mapping[str, str], name: str) -> str | None:
    value = _get(env, name)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("postgres", "postgresql") or not (parts.hostname or parts.query):
        raise SettingsError(PREFIX + name, "must be a postgresql://user@host/db URL")
    return value


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = _get(env, name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise SettingsError(PREFIX + name, f"must be an integer from {low} to {high}, got {raw!r}")
    return int(raw)


def _optional_int(env: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    return None if _get(env, name) is None else _int(env, name, low, low, high)


def _locode(env: Mapping[str, str]) -> str:
    value = _get(env, "PORT_LOCODE") or "USLAX"
    if not UNLOCODE.match(value):
        raise SettingsError(PREFIX + "PORT_LOCODE", f"not a UN/LOCODE (e.g. USLAX): {value!r}")
    return value


def _environment(env: Mapping[str, str]) -> str:
    value = _get(env, "ENV") or "development"
    if value not in ("development", "production"):
        raise SettingsError(PREFIX + "ENV", f"must be development or production, got {value!r}")
    return value


EXECUTIONS = ("compiled", "resolvers")


def _execution(env: Mapping[str, str]) -> str:
    value = _get(env, "EXECUTION") or "compiled"
    if value not in EXECUTIONS:
        raise SettingsError(PREFIX + "EXECUTION", f"one of {', '.join(EXECUTIONS)}: {value!r}")
    return value


def _path(env: Mapping[str, str], name: str) -> Path | None:
    raw = _get(env, name)
    return Path(raw) if raw else None


def _algorithms(env: Mapping[str, str]) -> frozenset[str]:
    raw = _get(env, "JWT_ALGORITHMS")
    if raw is None:
        return ALGORITHMS
    chosen = frozenset(raw.replace(",", " ").split())
    if not chosen or not chosen <= ALGORITHMS:
        raise SettingsError(PREFIX + "JWT_ALGORITHMS", f"allowed: {' '.join(sorted(ALGORITHMS))}")
    return chosen


def _cors_origins(env: Mapping[str, str]) -> tuple[str, ...]:
    """An allowlist of origins (scheme://host[:port]), comma- or space-separated."""
    raw = _get(env, "CORS_ORIGINS") or ""
    origins = tuple(dict.fromkeys(raw.replace(",", " ").split()))
    for origin in origins:
        parts = urlsplit(origin)
        exact = f"{parts.scheme}://{parts.netloc}" == origin and parts.hostname is not None
        if parts.scheme not in ("https", "http") or not exact:
            raise SettingsError(
                PREFIX + "CORS_ORIGINS",
                f"each origin is scheme://host[:port] (no path, no wildcard), got {origin[:80]!r}",
            )
    return origins


def _jwks_url(env: Mapping[str, str]) -> str | None:
    value = _get(env, "JWT_JWKS_URL")
    if value is not None and urlsplit(value).scheme not in ("https", "http"):
        raise SettingsError(PREFIX + "JWT_JWKS_URL", "must be an http(s) URL")
    return value


def _jwt(env: Mapping[str, str], host: str, port: int) -> JwtSettings:
    return JwtSettings(
        issuer=_get(env, "JWT_ISSUER") or f"http://{host}:{port}",
        audience=_get(env, "JWT_AUDIENCE") or "harborgraph",
        algorithms=_algorithms(env),
        leeway_seconds=_int(env, "JWT_LEEWAY_SECONDS", 30, 0, 300),
        jwks_url=_jwks_url(env),
        public_key_file=_path(env, "JWT_PUBLIC_KEY_FILE"),
    )


TRACES_EXPORTERS = ("otlp", "console")


def _traces_exporter(env: Mapping[str, str]) -> str | None:
    """OpenTelemetry's own variables: on when an exporter or an OTLP endpoint is named."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    chosen = env.get("OTEL_TRACES_EXPORTER", "").strip() or ("otlp" if endpoint else "none")
    if chosen == "none":
        return None
    if chosen not in TRACES_EXPORTERS:
        raise SettingsError("OTEL_TRACES_EXPORTER", f"one of otlp, console, none: {chosen!r}")
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL"
    )
    if chosen == "otlp" and protocol not in (None, "", "http/protobuf"):
        raise SettingsError("OTEL_EXPORTER_OTLP_PROTOCOL", f"only http/protobuf: {protocol!r}")
    return chosen


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting once; raise SettingsError naming the variable."""
    env = os.environ if env is None else env
    host = _get(env, "HOST") or "127.0.0.1"
    port = _int(env, "PORT", 8000, 1, 65535)
    settings = _settings(env, host, port)
    _check_together(settings)
    return settings


def _check_together(settings: Settings) -> None:
    """What each variable allows alone but not beside another."""
    if settings.read_database_url and settings.database_url is None:
        # The embedded server has no replica: this would read another database's data.
        raise SettingsError(PREFIX + "READ_DATABASE_URL", "needs HARBORGRAPH_DATABASE_URL")
    if settings.metrics_port is not None and settings.metrics_port == settings.port:
        raise SettingsError(PREFIX + "METRICS_PORT", "must differ from HARBORGRAPH_PORT")


def _settings(env: Mapping[str, str], host: str, port: int) -> Settings:
    return Settings(
        database_url=_database_url(env, "DATABASE_URL"),
        source_urls={s: _database_url(env, f"{s.upper()}_DATABASE_URL") for s in SOURCES},
        data_dir=Path(_get(env, "DATA_DIR") or ".harborgraph"),
        port_locode=_locode(env),
        host=host,
        port=port,
        environment=_environment(env),
        jwt=_jwt(env, host, port),
        pool_min_size=_int(env, "POOL_MIN_SIZE", 2, 1, 100),
        pool_max_size=_int(env, "POOL_MAX_SIZE", 10, 1, 500),
        statement_timeout_ms=_int(env, "STATEMENT_TIMEOUT_MS", 5000, 100, 600_000),
        statement_cache_size=_int(env, "STATEMENT_CACHE_SIZE", 100, 0, 10_000),
        max_page_size=_int(env, "MAX_PAGE_SIZE", 100, 1, 1000),
        execution=_execution(env),
        max_subscriptions=_int(env, "MAX_SUBSCRIPTIONS", 100, 1, 100_000),
        webhook_max_backoff_seconds=_int(env, "WEBHOOK_MAX_BACKOFF_SECONDS", 300, 1, 86_400),
        cors_origins=_cors_origins(env),
        read_database_url=_database_url(env, "READ_DATABASE_URL"),
        read_source_urls={s: _database_url(env, f"{s.upper()}_READ_DATABASE_URL") for s in SOURCES},
        metrics_port=_optional_int(env, "METRICS_PORT", 1, 65535),
        metrics_dir=_path(env, "METRICS_DIR"),
        shutdown_grace_seconds=_int(env, "SHUTDOWN_GRACE_SECONDS", 25, 0, 3600),
        rate_limit_per_minute=_int(env, "RATE_LIMIT_PER_MINUTE", 1200, 1, 1_000_000),
        trusted_documents=_path(env, "TRUSTED_DOCUMENTS"),
        traces_exporter=_traces_exporter(env),
    )
