"""The `harborgraph` command: bad settings stop it with one line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from graph.cli import main, parser


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HARBORGRAPH_")}
    return subprocess.run(
        [sys.executable, "-m", "graph.cli", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HARBORGRAPH_PORT", "99999"),
        ("HARBORGRAPH_PORT_LOCODE", "LOS ANGELES"),
        ("HARBORGRAPH_DATABASE_URL", "sqlite:///harbor.db"),
    ],
)
def test_serve_with_a_bad_setting_stops_naming_it(variable: str, value: str) -> None:
    result = _run("serve", **{variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"harborgraph: {variable}: ")
    assert result.stdout == ""


def test_seed_arguments_are_checked() -> None:
    with pytest.raises(SystemExit) as caught:
        parser().parse_args(["seed", "--scale", "-1"])
    assert caught.value.code == 2
    with pytest.raises(SystemExit):
        parser().parse_args(["seed", "--anchor", "yesterday"])


def test_schema_command_prints_the_sdl(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith('schema @link(url: "https://specs.apollo.dev/federation/v2.7"')


def test_unreachable_database_is_one_line() -> None:
    result = _run("migrate", HARBORGRAPH_DATABASE_URL="postgresql://hg@127.0.0.1:1/harborgraph")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("harborgraph: the database cannot be used: ")


def test_token_for_an_unknown_organization_is_refused(seeded_url: str, tmp_path: Path) -> None:
    env = {"HARBORGRAPH_DATABASE_URL": seeded_url, "HARBORGRAPH_DATA_DIR": str(tmp_path)}
    refused = _run("token", "--org", "NOPE", "--scope", "cargo:read", **env)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "harborgraph: organization 'NOPE' is not known (see community.organization)"
    )
    minted = _run("token", "--org", "MSCU", "--scope", "cargo:read", **env)
    assert minted.returncode == 0
    assert minted.stdout.count(".") == 2


def test_token_is_refused_outside_development() -> None:
    result = _run("token", "--org", "MSCU", HARBORGRAPH_ENV="production")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "harborgraph: tokens are minted here only for the generated development key"
    )


@pytest.mark.parametrize("value", ["0", "65", "two", "-1"])
def test_serve_refuses_a_bad_number_of_workers(value: str) -> None:
    result = _run("serve", "--workers", value)
    assert result.returncode == 2
    assert "--workers: must be a whole number from 1 to 64" in result.stderr


def test_serve_defaults_to_one_worker_per_core() -> None:
    assert parser().parse_args(["serve"]).workers is None  # resolved to os.cpu_count()
    assert parser().parse_args(["serve", "--workers", "3"]).workers == 3
