"""deploy/Dockerfile (the API image) and deploy/gateway.Dockerfile (issue 13): clean under
hadolint, and the facts the issue asks of the image that the file itself shows. The image
cannot be built here (no base images can be pulled); README "Deployment" says how its steps
were run instead."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

import graph.portal
from tests.deploy.files import (
    ALL_INTERFACES,
    BIN,
    DEPLOY,
    IMAGE_TMP,
    ROOT,
    Instruction,
    only,
    readme_command,
    stages,
)

DOCKERFILE = DEPLOY / "Dockerfile"
GATEWAY_DOCKERFILE = DEPLOY / "gateway.Dockerfile"
BASE = "python:3.11-slim-bookworm"
# The process manager's command (README "Deployment" repeats it).
COMMAND = shlex.split(
    "uvicorn --factory graph.asgi:app --host 0.0.0.0 --port 8000"
    " --http graph.protocols:HttpProtocol --ws graph.protocols:WebSocketProtocol --ws-per-message-deflate false"
    " --ws-max-size 2097152 --timeout-graceful-shutdown 25 --no-access-log"
)
COMPILERS = re.compile(
    r"\b(gcc|g\+\+|clang|cc|c\+\+|build-essential|make|cmake|rustc|cargo|gfortran|"
    r"python3?(\.\d+)?-dev|libc6?-dev|linux-libc-dev)\b"
)
SITE_PACKAGES = "/opt/venv/lib/python3.11/site-packages"


def final_stage() -> list[Instruction]:
    return stages(DOCKERFILE)[-1]


@pytest.mark.parametrize("dockerfile", [DOCKERFILE, GATEWAY_DOCKERFILE], ids=lambda p: p.name)
def test_hadolint_finds_nothing(dockerfile: Path) -> None:
    # Every rule down to "style" fails the check, so any finding at all is a failure.
    done = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", "--failure-threshold", "style", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_the_image_runs_the_process_managers_command() -> None:
    final = final_stage()
    assert only(final, "ENTRYPOINT") == []  # nothing wraps or replaces the command
    (cmd,) = only(final, "CMD")
    assert cmd.exec_form() == COMMAND  # exec form: uvicorn is PID 1 and receives SIGTERM
    assert readme_command() == COMMAND


def test_every_stage_is_slim_python_and_the_final_one_has_no_compiler() -> None:
    all_stages = stages(DOCKERFILE)
    assert len(all_stages) >= 2  # multi-stage
    for stage in all_stages:
        assert stage[0].arguments.split()[0] == BASE
    final = final_stage()
    for run in only(final, "RUN"):
        assert not COMPILERS.search(run.arguments), run.arguments
    copies = [c.arguments for c in only(final, "COPY") if c.arguments.startswith("--from=")]
    assert copies == ["--from=build /opt/venv /opt/venv"]  # the build stage's venv, nothing else


def test_the_final_stage_runs_as_a_numeric_non_root_user() -> None:
    final = final_stage()
    users = only(final, "USER")
    assert users, "no USER: the image would run as root"
    uid, _, gid = users[-1].arguments.partition(":")
    # Numeric, or Kubernetes' runAsNonRoot cannot verify it.
    assert uid.isdigit()
    assert int(uid) != 0
    assert gid == "" or (gid.isdigit() and int(gid) != 0)
    assert final.index(users[-1]) < final.index(only(final, "CMD")[0])


def test_healthcheck_asks_healthz_with_the_images_python() -> None:
    (check,) = only(final_stage(), "HEALTHCHECK")
    words = check.exec_form()
    assert words[:2] == ["python", "-c"]  # slim has no curl
    assert "http://127.0.0.1:8000/healthz" in words[2]
    assert "--timeout=" in check.arguments
    assert "--interval=" in check.arguments


def test_the_environment_is_production_with_writable_paths_under_tmp() -> None:
    environment: dict[str, str] = {}
    for env in only(final_stage(), "ENV"):
        environment |= env.assignments()
    assert environment["HARBORGRAPH_ENV"] == "production"
    assert environment["HARBORGRAPH_HOST"] == ALL_INTERFACES
    assert environment["HARBORGRAPH_METRICS_PORT"] == "9100"
    # The root filesystem is read-only in Kubernetes; /tmp is an emptyDir.
    assert environment["HARBORGRAPH_DATA_DIR"] == f"{IMAGE_TMP}/harborgraph"
    assert environment["HARBORGRAPH_METRICS_DIR"] == f"{IMAGE_TMP}/harborgraph/metrics"
    assert environment["PATH"].startswith("/opt/venv/bin:")
    assert "HARBORGRAPH_DATABASE_URL" not in environment  # the operator's, at run time
    assert set(only(final_stage(), "EXPOSE")[0].arguments.split()) == {"8000", "9100"}


def test_the_portal_lands_where_graph_portal_looks_for_it() -> None:
    # graph/portal.py serves files from <the graph package's parent>/portal; in the image the
    # package is in the venv's site-packages.
    package_parent = Path(graph.portal.__file__).resolve().parents[1]
    assert package_parent / "portal" == graph.portal.PORTAL
    served = {"index.html"} | {path for path, _ in graph.portal.FILES.values()}
    copied: set[str] = set()
    for copy in only(final_stage(), "COPY"):
        *sources, target = copy.arguments.split()
        if not target.startswith(f"{SITE_PACKAGES}/portal/"):
            continue
        for source in sources:
            source_path = ROOT / source
            files = source_path.rglob("*") if source_path.is_dir() else [source_path]
            copied |= {str(f.relative_to(ROOT / "portal")) for f in files if f.is_file()}
    assert served <= copied
    assert not any(name.startswith("node_modules") for name in copied)  # development-only


@pytest.mark.parametrize("dockerfile", [DOCKERFILE, GATEWAY_DOCKERFILE], ids=lambda p: p.name)
def test_the_build_context_holds_every_copied_file(dockerfile: Path) -> None:
    # The root .dockerignore is an allowlist ("*", then "!path"): a COPY of anything it does not
    # re-include fails `docker build`.
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    allowed = [line[1:].rstrip("/") for line in lines if line.startswith("!")]
    assert "*" in lines
    for stage in stages(dockerfile):
        for copy in only(stage, "COPY"):
            if copy.arguments.startswith("--from="):
                continue
            for source in copy.arguments.split()[:-1]:
                source = source.rstrip("/")
                assert (ROOT / source).exists(), source
                assert any(source == a or source.startswith(a + "/") for a in allowed), source
