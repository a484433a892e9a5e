"""The `harborgraph` command: bad settings stop it with one line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

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
