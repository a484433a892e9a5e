"""Settings: read once from the environment; a wrong value names its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.settings import SettingsError, load_settings


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.database_url is None
    assert settings.data_dir == Path(".harborgraph")
    assert (settings.port_locode, settings.host, settings.port) == ("USLAX", "127.0.0.1", 8000)
    assert settings.development
    assert settings.jwt.issuer == "http://127.0.0.1:8000"
    assert settings.jwt.audience == "harborgraph"
    assert settings.jwt.algorithms == frozenset({"ES256", "RS256", "EdDSA"})


def test_source_urls_default_to_the_main_one() -> None:
    main = "postgresql://hg@db.example/harborgraph"
    cargo = "postgresql://hg@cargo.example/cargo"
    settings = load_settings(
        {"HARBORGRAPH_DATABASE_URL": main, "HARBORGRAPH_CARGO_DATABASE_URL": cargo}
    )
    assert settings.source_url("cargo") == cargo
    assert settings.source_url("vessel") == main
    assert settings.source_url("community") == main


def test_socket_url_is_accepted() -> None:
    url = "postgresql://postgres:@/harborgraph?host=/tmp/pg"
    assert load_settings({"HARBORGRAPH_DATABASE_URL": url}).database_url == url


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("HARBORGRAPH_DATABASE_URL", "mysql://x@y/z", "must be a postgresql://user@host/db URL"),
        ("HARBORGRAPH_DATABASE_URL", "not a url", "must be a postgresql://user@host/db URL"),
        ("HARBORGRAPH_GATE_DATABASE_URL", "http://x", "must be a postgresql://user@host/db URL"),
        ("HARBORGRAPH_PORT_LOCODE", "LAX", "not a UN/LOCODE (e.g. USLAX): 'LAX'"),
        ("HARBORGRAPH_PORT_LOCODE", "uslax", "not a UN/LOCODE (e.g. USLAX): 'uslax'"),
        ("HARBORGRAPH_PORT", "0", "must be an integer from 1 to 65535, got '0'"),
        ("HARBORGRAPH_PORT", "70000", "must be an integer from 1 to 65535, got '70000'"),
        ("HARBORGRAPH_PORT", "eighty", "must be an integer from 1 to 65535, got 'eighty'"),
        ("HARBORGRAPH_ENV", "staging", "must be development or production, got 'staging'"),
        ("HARBORGRAPH_JWT_ALGORITHMS", "HS256", "allowed: ES256 EdDSA RS256"),
        ("HARBORGRAPH_JWT_LEEWAY_SECONDS", "-1", "must be an integer from 0 to 300, got '-1'"),
        ("HARBORGRAPH_JWT_JWKS_URL", "file:///etc/keys", "must be an http(s) URL"),
        (
            "HARBORGRAPH_CORS_ORIGINS",
            "*",
            "each origin is scheme://host[:port] (no path, no wildcard), got '*'",
        ),
        (
            "HARBORGRAPH_CORS_ORIGINS",
            "https://portal.example/app",
            "each origin is scheme://host[:port] (no path, no wildcard), "
            "got 'https://portal.example/app'",
        ),
        (
            "HARBORGRAPH_CORS_ORIGINS",
            "portal.example",
            "each origin is scheme://host[:port] (no path, no wildcard), got 'portal.example'",
        ),
    ],
)
def test_bad_values_name_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({variable: value})
    assert caught.value.variable == variable
    assert str(caught.value) == f"{variable}: {message}"


def test_execution_is_compiled_unless_set_to_resolvers() -> None:
    assert load_settings({}).execution == "compiled"
    assert load_settings({"HARBORGRAPH_EXECUTION": "resolvers"}).execution == "resolvers"
    with pytest.raises(SettingsError, match="HARBORGRAPH_EXECUTION: one of compiled, resolvers"):
        load_settings({"HARBORGRAPH_EXECUTION": "fast"})


def test_cors_origins_are_an_allowlist_empty_by_default() -> None:
    assert load_settings({}).cors_origins == ()
    given = {"HARBORGRAPH_CORS_ORIGINS": "https://portal.example, http://localhost:5173"}
    assert load_settings(given).cors_origins == ("https://portal.example", "http://localhost:5173")


URL = "postgresql://app@db/harborgraph"


@pytest.mark.parametrize(
    ("env", "variable", "message"),
    [
        (
            {"HARBORGRAPH_READ_DATABASE_URL": URL},
            "HARBORGRAPH_READ_DATABASE_URL",
            "needs HARBORGRAPH_DATABASE_URL",
        ),
        (
            {"HARBORGRAPH_METRICS_PORT": "8000"},
            "HARBORGRAPH_METRICS_PORT",
            "must differ from HARBORGRAPH_PORT",
        ),
        (
            {"HARBORGRAPH_SHUTDOWN_GRACE_SECONDS": "-3"},
            "HARBORGRAPH_SHUTDOWN_GRACE_SECONDS",
            "must be an integer from 0 to 3600, got '-3'",
        ),
        (
            {"HARBORGRAPH_STATEMENT_CACHE_SIZE": "lots"},
            "HARBORGRAPH_STATEMENT_CACHE_SIZE",
            "must be an integer from 0 to 10000, got 'lots'",
        ),
        (
            {"OTEL_TRACES_EXPORTER": "zipkin"},
            "OTEL_TRACES_EXPORTER",
            "one of otlp, console, none: 'zipkin'",
        ),
        (
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "only http/protobuf: 'grpc'",
        ),
    ],
)
def test_operations_settings_refuse_what_cannot_work(
    env: dict[str, str], variable: str, message: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert str(caught.value) == f"{variable}: {message}"


def test_operations_settings() -> None:
    settings = load_settings(
        {
            "HARBORGRAPH_DATABASE_URL": URL,
            "HARBORGRAPH_READ_DATABASE_URL": URL + "_replica",
            "HARBORGRAPH_CARGO_DATABASE_URL": URL + "_cargo",
            "HARBORGRAPH_METRICS_PORT": "9100",
        }
    )
    assert settings.read_source_url("vessel") == URL + "_replica"
    assert settings.read_source_url("cargo") is None  # its own database has no replica named
    assert (settings.metrics_port, settings.metrics_dir) == (9100, None)
    assert (settings.shutdown_grace_seconds, settings.statement_cache_size) == (25, 100)
