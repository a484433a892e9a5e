"""deploy/compose.yaml and deploy/prometheus.yml (issue 13): PostgreSQL, a one-shot migration,
two API replicas, Hive Gateway and Prometheus; nothing secret written down."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Any

import pytest

from tests.deploy.files import DEPLOY, IMAGE_TMP, ROOT, documents, only, stages

COMPOSE = DEPLOY / "compose.yaml"
PROMETHEUS = DEPLOY / "prometheus.yml"
# What the operator provides; dummy values here.
REQUIRED = {
    "POSTGRES_PASSWORD": "not-a-secret",
    "HARBORGRAPH_JWT_JWKS_URL": "https://idp.example.com/.well-known/jwks.json",
    "HARBORGRAPH_JWT_ISSUER": "https://idp.example.com/",
}
PINNED = re.compile(r"^[a-z0-9./-]+:v?\d+(\.\d+)+(-[a-z0-9.]+)?$")


def docker_compose() -> list[str] | None:
    """`docker compose`, where the docker CLI has its compose plugin."""
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run(
        [docker, "compose", "version"], capture_output=True, timeout=30, check=False
    )
    return [docker, "compose"] if probe.returncode == 0 else None


def compose() -> dict[str, Any]:
    (document,) = documents(COMPOSE)
    return document


def services() -> dict[str, Any]:
    found: dict[str, Any] = compose()["services"]
    return found


@pytest.mark.skipif(docker_compose() is None, reason="no docker CLI with the compose plugin")
def test_docker_compose_accepts_the_file() -> None:
    command = docker_compose()
    assert command is not None
    base = {k: v for k, v in os.environ.items() if k not in REQUIRED}
    done = subprocess.run(
        [*command, "-f", str(COMPOSE), "config", "--quiet"],
        env=base | REQUIRED,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # Without the operator's values compose refuses to start, naming what is missing.
    missing = subprocess.run(
        [*command, "-f", str(COMPOSE), "config", "--quiet"],
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode != 0
    assert "POSTGRES_PASSWORD" in missing.stderr


def test_the_services_and_their_order() -> None:
    found = services()
    assert set(found) == {"postgres", "migrate", "api", "gateway", "prometheus"}
    assert found["migrate"]["command"] == ["harborgraph", "migrate"]
    assert found["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert found["api"]["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"}
    }
    assert found["api"]["deploy"]["replicas"] == 2
    assert "command" not in found["api"]  # the image's uvicorn command
    assert found["migrate"]["image"] == found["api"]["image"]
    assert found["gateway"]["depends_on"] == {"api": {"condition": "service_healthy"}}


def test_images_are_pinned_and_builds_use_the_deploy_dockerfiles() -> None:
    for name, service in services().items():
        assert PINNED.match(service["image"]), (name, service["image"])
        build = service.get("build")
        if build is not None:
            # Relative to deploy/: the repository root, where .dockerignore is.
            assert (DEPLOY / build["context"]).resolve() == ROOT
            assert (ROOT / build["dockerfile"]).is_file()
    assert services()["api"]["build"]["dockerfile"] == "deploy/Dockerfile"


def test_the_api_is_hardened_and_gets_time_to_finish_requests() -> None:
    api = services()["api"]
    assert api["read_only"] is True
    assert api["tmpfs"] == [IMAGE_TMP]
    assert api["cap_drop"] == ["ALL"]
    command = only(stages(DEPLOY / "Dockerfile")[-1], "CMD")[0].exec_form()
    grace = int(command[command.index("--timeout-graceful-shutdown") + 1])
    assert int(api["stop_grace_period"].removesuffix("s")) > grace


def test_nothing_secret_is_written_down() -> None:
    text = COMPOSE.read_text()
    # Each value the operator owns is required by interpolation (`${NAME:?why}`), never a default.
    for name in REQUIRED:
        uses = re.findall(r"\$\{" + name + r"(:[?-])?", text)
        assert uses, name
        assert all(op == ":?" for op in uses), (name, uses)
    api = services()["api"]["environment"]
    assert api["HARBORGRAPH_JWT_JWKS_URL"].startswith("${HARBORGRAPH_JWT_JWKS_URL:?")
    assert re.search(
        r"postgresql://harborgraph:\$\{POSTGRES_PASSWORD:\?", api["HARBORGRAPH_DATABASE_URL"]
    )


def test_prometheus_scrapes_every_replicas_metrics_port() -> None:
    prometheus = services()["prometheus"]
    assert "./prometheus.yml:/etc/prometheus/prometheus.yml:ro" in prometheus["volumes"]
    (config,) = documents(PROMETHEUS)
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "harborgraph")
    # DNS discovery of the compose service: one target per replica, however many.
    assert job["dns_sd_configs"] == [
        {"names": ["api"], "type": "A", "port": 9100, "refresh_interval": "15s"}
    ]
    environment: dict[str, str] = {}
    for env in only(stages(DEPLOY / "Dockerfile")[-1], "ENV"):
        environment |= env.assignments()
    assert environment["HARBORGRAPH_METRICS_PORT"] == "9100"
