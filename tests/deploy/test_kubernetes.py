"""deploy/kubernetes/ (issue 13): every manifest valid for the pinned Kubernetes versions in
strict mode (an unknown or misspelt field fails), and the facts the issue asks of the pods."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.files import BIN, DEPLOY, IMAGE_TMP, documents, only, stages

KUBERNETES = DEPLOY / "kubernetes"
# The oldest Kubernetes these manifests claim, and the newest kubernetes-validate 1.37.0 knows.
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")
KUSTOMIZATION = KUBERNETES / "kustomization.yaml"
MANIFESTS = sorted(p for p in KUBERNETES.glob("*.yaml") if p != KUSTOMIZATION)
API_LABELS = {"app.kubernetes.io/name": "harborgraph", "app.kubernetes.io/component": "api"}


def validate(version: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "kubernetes-validate"), "--strict", "--kubernetes-version", version]
        + [str(f) for f in files],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def resources() -> dict[tuple[str, str], dict[str, Any]]:
    """Every manifest's resources by (kind, name)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in MANIFESTS:
        for document in documents(path):
            found[(document["kind"], document["metadata"]["name"])] = document
    return found


def pod_spec(kind: str, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = resources()[(kind, name)]["spec"]["template"]["spec"]
    return spec


def image_user() -> tuple[int, int]:
    """deploy/Dockerfile's final USER (uid:gid)."""
    user = only(stages(DEPLOY / "Dockerfile")[-1], "USER")[-1].arguments
    uid, _, gid = user.partition(":")
    return int(uid), int(gid or uid)


def image_grace_seconds() -> int:
    command = only(stages(DEPLOY / "Dockerfile")[-1], "CMD")[0].exec_form()
    return int(command[command.index("--timeout-graceful-shutdown") + 1])


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_in_strict_mode(version: str) -> None:
    assert MANIFESTS, "no manifests"
    done = validate(version, MANIFESTS)
    assert done.returncode == 0, done.stdout + done.stderr
    # A kind without a schema is only a warning for kubernetes-validate: not good enough here.
    assert "WARN" not in done.stdout + done.stderr, done.stdout + done.stderr
    for path in MANIFESTS:
        passed = re.findall(rf"^INFO {re.escape(str(path))} passed", done.stdout, re.M)
        assert len(passed) == len(documents(path)), (path, done.stdout)


def test_the_kustomization_applies_every_manifest() -> None:
    (kustomization,) = documents(KUSTOMIZATION)
    assert sorted(kustomization["resources"]) == sorted(p.name for p in MANIFESTS)
    assert kustomization["namespace"] == "harborgraph"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl absent: no kustomize build")
def test_the_kustomize_build_is_valid(tmp_path: Path) -> None:
    built = subprocess.run(
        ["kubectl", "kustomize", str(KUBERNETES)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    output = tmp_path / "built.yaml"
    output.write_text(built.stdout)
    assert len(documents(output)) == sum(len(documents(p)) for p in MANIFESTS)
    done = validate(KUBERNETES_VERSIONS[0], [output])
    assert (done.returncode, "WARN" in done.stdout) == (0, False), done.stdout + done.stderr


def test_the_api_pods_probes_resources_and_shutdown() -> None:
    spec = pod_spec("Deployment", "harborgraph")
    (api,) = spec["containers"]
    # The image's uvicorn command, not another.
    assert "command" not in api
    assert "args" not in api
    ports = {p["name"]: p["containerPort"] for p in api["ports"]}
    assert ports == {"http": 8000, "metrics": 9100}
    assert api["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert api["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert api["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    # /readyz gives its databases 5 s: the probe must wait longer than that.
    assert api["readinessProbe"]["timeoutSeconds"] > 5
    for bound in ("requests", "limits"):
        assert set(api["resources"][bound]) == {"cpu", "memory"}
    (pre_stop_sleep,) = [int(w) for w in api["lifecycle"]["preStop"]["exec"]["command"][1:]]
    assert api["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    # Endpoints drop the pod (preStop), then uvicorn's grace, before the kubelet's SIGKILL.
    assert spec["terminationGracePeriodSeconds"] > pre_stop_sleep + image_grace_seconds()
    template = resources()[("Deployment", "harborgraph")]["spec"]["template"]
    assert template["metadata"]["labels"] == API_LABELS
    annotations = template["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(ports["metrics"])


@pytest.mark.parametrize(
    ("kind", "name"), [("Deployment", "harborgraph"), ("Job", "harborgraph-migrate")]
)
def test_pods_run_non_root_read_only_without_privileges(kind: str, name: str) -> None:
    spec = pod_spec(kind, name)
    uid, gid = image_user()
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert (spec["securityContext"]["runAsUser"], spec["securityContext"]["runAsGroup"]) == (
        uid,
        gid,
    )
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    volumes = {v["name"]: v for v in spec["volumes"]}
    for container in spec["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        (mount,) = container["volumeMounts"]
        # /tmp is the only writable path (HARBORGRAPH_DATA_DIR, HARBORGRAPH_METRICS_DIR).
        assert mount["mountPath"] == IMAGE_TMP
        assert "emptyDir" in volumes[mount["name"]]


def test_settings_come_from_the_config_map_and_secret_references() -> None:
    found = resources()
    assert not [key for key in found if key[0] == "Secret"]  # created by the operator
    texts = "\n".join(p.read_text() for p in KUBERNETES.glob("*.yaml"))
    assert "postgresql://" not in texts
    assert "password" not in texts.lower()
    config = found[("ConfigMap", "harborgraph")]["data"]
    assert {"HARBORGRAPH_JWT_JWKS_URL", "HARBORGRAPH_JWT_ISSUER", "OTEL_SERVICE_NAME"} <= set(
        config
    )
    for kind, name in (("Deployment", "harborgraph"), ("Job", "harborgraph-migrate")):
        (container,) = pod_spec(kind, name)["containers"]
        refs = {
            e["name"]: e["valueFrom"]["secretKeyRef"]
            for e in container["env"]
            if "secretKeyRef" in e.get("valueFrom", {})
        }
        assert refs["HARBORGRAPH_DATABASE_URL"] == {"name": "harborgraph-database", "key": "url"}
    (api,) = pod_spec("Deployment", "harborgraph")["containers"]
    assert api["envFrom"] == [{"configMapRef": {"name": "harborgraph"}}]
    read = next(e for e in api["env"] if e["name"] == "HARBORGRAPH_READ_DATABASE_URL")
    assert read["valueFrom"]["secretKeyRef"] == {
        "name": "harborgraph-database",
        "key": "read-url",
        "optional": True,
    }


def test_the_migration_job_runs_migrate_from_the_api_image() -> None:
    (migrate,) = pod_spec("Job", "harborgraph-migrate")["containers"]
    (api,) = pod_spec("Deployment", "harborgraph")["containers"]
    assert migrate["command"] == ["harborgraph", "migrate"]
    assert migrate["image"] == api["image"]
    assert pod_spec("Job", "harborgraph-migrate")["restartPolicy"] == "Never"


def test_metrics_stay_off_the_public_service() -> None:
    found = resources()
    public = found[("Service", "harborgraph")]["spec"]
    assert [p["port"] for p in public["ports"]] == [8000]
    assert public["selector"] == API_LABELS
    metrics = found[("Service", "harborgraph-metrics")]["spec"]
    assert metrics["clusterIP"] == "None"
    assert [(p["port"], p["targetPort"]) for p in metrics["ports"]] == [(9100, "metrics")]


def test_scaling_and_disruption_follow_the_api_pods() -> None:
    found = resources()
    hpa = found[("HorizontalPodAutoscaler", "harborgraph")]["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "harborgraph",
    }
    assert hpa["minReplicas"] >= 2
    assert [m["resource"]["name"] for m in hpa["metrics"]] == ["cpu"]
    pdb = found[("PodDisruptionBudget", "harborgraph")]["spec"]
    assert pdb["selector"]["matchLabels"] == API_LABELS


def test_the_network_policy_admits_gateway_and_monitoring_only() -> None:
    policy = resources()[("NetworkPolicy", "harborgraph-api")]["spec"]
    assert policy["podSelector"]["matchLabels"] == API_LABELS
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    ingress = {
        rule["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]: [
            p["port"] for p in rule["ports"]
        ]
        for rule in policy["ingress"]
    }
    assert ingress == {"gateway": [8000], "monitoring": [9100]}
    egress_ports = {p["port"] for rule in policy["egress"] for p in rule["ports"]}
    assert {53, 5432, 443} <= egress_ports
