"""deploy/ and the Dockerfile, read as their tools read them: the Kubernetes manifest and the
compose file against their JSON schemas (offline, from packages that ship them), the spproxy
config each carries through the real reader, and every health check they run against a real
proxy."""

from __future__ import annotations

import asyncio
import importlib.resources
import json
import re
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from spproxy.config import is_loopback
from spproxy.configload import load_config
from tests.harness import Harness, StartHarness, free_port, serve_yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
RUNTIME_STAGE = DOCKERFILE[DOCKERFILE.rindex("\nFROM ") :]
KUBERNETES = ROOT / "deploy" / "kubernetes" / "spproxy-sidecar.yaml"
COMPOSE = ROOT / "deploy" / "docker-compose.yaml"
IMAGE_PYTHON = "/opt/spproxy/bin/python"
# Native sidecars (restartPolicy on an init container) are on by default from 1.29.
KUBERNETES_VERSIONS = ["1.29", kubernetes_validate.utils.latest_version()]


def dockerfile(pattern: str) -> str:
    """The first group of the pattern in the image's runtime stage."""
    found = re.search(pattern, RUNTIME_STAGE, re.MULTILINE)
    assert found, pattern
    return found.group(1)


IMAGE_UID = int(dockerfile(r"useradd --uid (\d+) "))
IMAGE_PORT = dockerfile(r"^\s+SPPROXY_PORT=(\d+)$")  # serve listens there; the health check asks


def kubernetes() -> dict[str, dict[str, Any]]:
    """The manifest's documents by kind."""
    return {doc["kind"]: doc for doc in yaml.safe_load_all(KUBERNETES.read_text())}


def pod() -> dict[str, Any]:
    spec: dict[str, Any] = kubernetes()["Deployment"]["spec"]["template"]["spec"]
    return spec


def sidecar() -> dict[str, Any]:
    (container,) = (c for c in pod()["initContainers"] if c["name"] == "spproxy")
    assert isinstance(container, dict)
    return container


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def secrets_to(text: str, mount: str, tmp_path: Path) -> str:
    """The config with its secret files in tmp_path instead of the mount, each holding a value."""
    for name in re.findall(rf"{re.escape(mount)}/(\w+)", text):
        (tmp_path / name).write_text(f"value of {name}\n")
    return text.replace(mount, str(tmp_path))


def test_the_kubernetes_manifest_is_valid_for_every_supported_version() -> None:
    documents = kubernetes()
    assert set(documents) == {"ConfigMap", "Deployment"}
    for document in documents.values():
        for version in KUBERNETES_VERSIONS:
            # strict: additionalProperties false, so a misspelt field fails too
            kubernetes_validate.validate(document, version, strict=True)
    misspelt = json.loads(json.dumps(documents["Deployment"]))
    misspelt["spec"]["template"]["spec"]["initContainers"][0]["securityContext"] = {
        "readOnlyRootFilesytem": True
    }
    with pytest.raises(jsonschema.ValidationError):
        kubernetes_validate.validate(misspelt, KUBERNETES_VERSIONS[-1], strict=True)


def test_the_sidecar_runs_as_the_image_user_locked_down() -> None:
    spec, container = pod(), sidecar()
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == IMAGE_UID
    assert spec["securityContext"]["fsGroup"] == IMAGE_UID  # group-reads the secret files
    assert spec["automountServiceAccountToken"] is False
    assert container["restartPolicy"] == "Always"  # a native sidecar
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": IMAGE_UID,
        "capabilities": {"drop": ["ALL"]},
    }
    assert set(container["resources"]) == {"requests", "limits"}
    assert container["readinessProbe"]["exec"]["command"][-1] == "ready"
    assert container["livenessProbe"]["exec"]["command"][-1] == "health"


def test_the_kubernetes_config_loads_with_the_mounted_secrets(tmp_path: Path) -> None:
    mounts = {m["name"]: m["mountPath"] for m in sidecar()["volumeMounts"]}
    volumes = {v["name"]: v for v in pod()["volumes"]}
    assert volumes["spproxy-secrets"]["secret"]["secretName"] == "spproxy-secrets"
    config_map = kubernetes()["ConfigMap"]
    assert volumes["spproxy-config"]["configMap"]["name"] == config_map["metadata"]["name"]
    assert sidecar()["args"] == ["serve", "--config", f"{mounts['spproxy-config']}/spproxy.yaml"]

    text = secrets_to(config_map["data"]["spproxy.yaml"], mounts["spproxy-secrets"], tmp_path)
    (tmp_path / "spproxy.yaml").write_text(text)
    config = load_config(str(tmp_path / "spproxy.yaml"), {})
    assert config.lwa.client_secret.reveal() == "value of lwa_client_secret"
    assert config.accounts["main"].refresh_token.reveal() == "value of main_refresh_token"
    # SPPROXY_HOST and SPPROXY_PORT win over the file's listen: (and over the image's). Only the
    # pod's containers reach spproxy, on the port its probes ask (they read SPPROXY_PORT too).
    env = {variable["name"]: variable["value"] for variable in sidecar()["env"]}
    assert is_loopback(env["SPPROXY_HOST"])
    app = next(c for c in pod()["containers"])
    url = f"http://127.0.0.1:{env['SPPROXY_PORT']}"
    assert {"name": "SPAPI_BASE_URL", "value": url} in app["env"]
    assert sidecar()["ports"] == [{"name": "spproxy", "containerPort": int(env["SPPROXY_PORT"])}]


def compose_schema() -> dict[str, Any]:
    # check-jsonschema vendors the compose-spec schema, the one docker compose validates with.
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text())
    return schema


def test_the_compose_file_is_valid() -> None:
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    checker = validator(schema, format_checker=validator.FORMAT_CHECKER)
    checker.validate(compose())
    misspelt = compose()
    misspelt["services"]["spproxy"]["healthcheck"]["intervall"] = "10s"
    assert not checker.is_valid(misspelt)


def test_the_compose_spproxy_is_locked_down_and_its_config_loads(tmp_path: Path) -> None:
    document = compose()
    spproxy = document["services"]["spproxy"]
    assert "ports" not in spproxy  # only the project's services reach it
    assert spproxy["read_only"] is True and spproxy["cap_drop"] == ["ALL"]
    assert spproxy["security_opt"] == ["no-new-privileges:true"]
    assert document["services"]["shop"]["depends_on"]["spproxy"]["condition"] == "service_healthy"
    assert spproxy["healthcheck"]["test"][-1] == "ready"
    # The image's working directory is /etc/spproxy: ./spproxy.yaml there is the config.
    assert dockerfile(r"^WORKDIR (\S+)$") == "/etc/spproxy"
    (mount,) = spproxy["configs"]
    assert mount == {"source": "spproxy_config", "target": "/etc/spproxy/spproxy.yaml"}
    config_file = COMPOSE.parent / document["configs"]["spproxy_config"]["file"]
    # Compose mounts each secret at /run/secrets/NAME; the config reads exactly those.
    text = config_file.read_text()
    assert set(re.findall(r"/run/secrets/(\w+)", text)) == set(spproxy["secrets"])
    assert set(spproxy["secrets"]) == set(document["secrets"])
    (tmp_path / "spproxy.yaml").write_text(secrets_to(text, "/run/secrets", tmp_path))
    config = load_config(str(tmp_path / "spproxy.yaml"), {"SPAPI_CLIENT_ID": "amzn1.app"})
    assert config.lwa.client_secret.reveal() == "value of lwa_client_secret"
    assert config.accounts["main"].refresh_token.reveal() == "value of main_refresh_token"


def test_the_readme_shows_the_compose_file_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text()
    assert f"```yaml\n{COMPOSE.read_text()}```\n" in readme


def health_checks() -> Iterator[tuple[str, list[str]]]:
    """Every health-check command: the Dockerfile's, the compose file's, the Kubernetes probes."""
    yield "Dockerfile", json.loads(dockerfile(r"^HEALTHCHECK .*\\\n\s+CMD (\[.*\])$"))
    test = compose()["services"]["spproxy"]["healthcheck"]["test"]
    assert test[0] == "CMD"
    yield "compose", test[1:]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        yield probe, sidecar()[probe]["exec"]["command"]


async def run(command: list[str], port: int) -> int:
    assert command[0] == IMAGE_PYTHON
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *command[1:],
        env={"SPPROXY_PORT": str(port), "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(process.wait(), timeout=30)


async def test_every_health_check_passes_against_a_serving_proxy(harness: Harness) -> None:
    port = harness.proxy.server.port
    assert port is not None
    checks = dict(health_checks())
    assert len(checks) == 5
    for name, command in checks.items():
        assert await run(command, port) == 0, name
        assert await run(command, free_port()) == 1, name  # nothing listening


async def test_the_readiness_checks_fail_while_a_token_exchange_fails(
    start: StartHarness,
) -> None:
    harness = await start(accounts={"main": "Atzr|revoked"})
    port = harness.proxy.server.port
    assert port is not None
    for name, command in health_checks():
        assert await run(command, port) == (1 if command[-1] == "ready" else 0), name


async def test_the_image_serves_where_its_health_check_asks(
    harness: Harness, tmp_path: Path
) -> None:
    """The image's ENTRYPOINT and CMD, run as the image runs them: from its working directory,
    with its SPPROXY_PORT (moved, as -e SPPROXY_PORT would), and a ./spproxy.yaml whose listen
    port the variable overrides. Its HEALTHCHECK, asking SPPROXY_PORT, finds it."""
    assert json.loads(dockerfile(r"^ENTRYPOINT (\[.*\])$")) == ["spproxy"]
    command = json.loads(dockerfile(r"^CMD (\[.*\])$"))
    assert command == ["serve"]  # no --host or --port: they would win over the variables
    # Inside its container it must listen on every interface to be reachable at all.
    assert dockerfile(r"^\s+SPPROXY_HOST=(\S+) \\$") == "0.0.0.0"  # noqa: S104
    assert dockerfile(r"^EXPOSE (\d+)$") == IMAGE_PORT

    emulator = str(harness.emulator.make_url("")).rstrip("/")
    (tmp_path / "spproxy.yaml").write_text(serve_yaml(emulator, free_port()))
    port = free_port()
    env = {"PYTHONPATH": str(ROOT), "SPPROXY_HOST": "127.0.0.1", "SPPROXY_PORT": str(port)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "spproxy",
        *command,
        cwd=tmp_path,  # the image's WORKDIR holds spproxy.yaml
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        (healthcheck,) = (c for name, c in health_checks() if name == "Dockerfile")
        for _ in range(100):
            if await run(healthcheck, port) == 0:
                break
            assert process.returncode is None, "spproxy serve exited"
        else:
            raise AssertionError("the HEALTHCHECK never passed")
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
