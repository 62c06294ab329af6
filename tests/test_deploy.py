"""deploy/ and the Dockerfile, read as their tools read them: the Kubernetes manifests and the
compose files against their JSON schemas (offline, from packages that ship them), the spproxy
config each carries through the real reader, every health check they run against a real proxy,
and the replicas' Redis and spproxy processes run as deployed."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib.resources
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import jsonschema
import kubernetes_validate
import pytest
import redis.asyncio
import redis.exceptions
import yaml

from spproxy.addresses import is_loopback
from spproxy.config import Config
from spproxy.configload import load_config
from spproxy.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN
from spproxy.headers import KEY_HEADER
from spproxy.sharedstate import connect
from tests.harness import Harness, StartHarness, free_port, serve, serve_yaml
from tests.redis_server import wait_for_port

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
RUNTIME_STAGE = DOCKERFILE[DOCKERFILE.rindex("\nFROM ") :]
KUBERNETES = ROOT / "deploy" / "kubernetes" / "spproxy-sidecar.yaml"
COMPOSE = ROOT / "deploy" / "docker-compose.yaml"
REPLICAS_KUBERNETES = ROOT / "deploy" / "kubernetes" / "spproxy-replicas.yaml"
REPLICAS_COMPOSE = ROOT / "deploy" / "replicas" / "docker-compose.yaml"
IMAGE_PYTHON = "/opt/spproxy/bin/python"
# Native sidecars (restartPolicy on an init container) are on by default from 1.29.
KUBERNETES_VERSIONS = ["1.29", kubernetes_validate.utils.latest_version()]
# The replicas need no newer feature: every version the validator ships schemas for.
EVERY_KUBERNETES_VERSION = sorted(
    set(kubernetes_validate.utils.all_versions()), key=lambda v: tuple(map(int, v.split(".")))
)
REDIS_UID = 999  # the redis image's user (groupadd -g 999 redis; useradd -u 999)
PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"  # an SP-API call the emulator answers


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


def compose(path: Path = COMPOSE) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


def secrets_to(
    text: str, mount: str, tmp_path: Path, values: Mapping[str, str] | None = None
) -> str:
    """The config with its secret files in tmp_path instead of the mount, each holding a value:
    `values[name]`, else "value of NAME"."""
    for name in re.findall(rf"{re.escape(mount)}/(\w+)", text):
        (tmp_path / name).write_text(f"{(values or {}).get(name, f'value of {name}')}\n")
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
    """Every health-check command: the Dockerfile's, the compose files', the sidecar's probes."""
    yield "Dockerfile", json.loads(dockerfile(r"^HEALTHCHECK .*\\\n\s+CMD (\[.*\])$"))
    for name, path in (("compose", COMPOSE), ("compose replicas", REPLICAS_COMPOSE)):
        test = compose(path)["services"]["spproxy"]["healthcheck"]["test"]
        assert test[0] == "CMD"
        yield name, test[1:]
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
    assert len(checks) == 6
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


# ---- several replicas sharing state through a Redis: deploy/replicas/, spproxy-replicas.yaml --

REPLICAS = ["compose", "kubernetes"]
STATE_KEY = base64.b64encode(os.urandom(32)).decode()  # what openssl rand -base64 32 makes
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")


def replicas_kubernetes() -> dict[tuple[str, str], dict[str, Any]]:
    """The replicas manifest's documents by kind and name."""
    documents = yaml.safe_load_all(REPLICAS_KUBERNETES.read_text())
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in documents}


def replicas_pod(deployment: str) -> dict[str, Any]:
    spec: dict[str, Any] = replicas_kubernetes()[("Deployment", deployment)]["spec"]["template"]
    return spec


def only_container(deployment: str) -> dict[str, Any]:
    (container,) = replicas_pod(deployment)["spec"]["containers"]
    assert isinstance(container, dict)
    return container


def mount_paths(container: dict[str, Any]) -> dict[str, str]:
    return {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}


def environment(container: dict[str, Any]) -> dict[str, str]:
    return {variable["name"]: variable["value"] for variable in container["env"]}


def replicas_config(which: str) -> tuple[str, str]:
    """The spproxy config a replicas deploy file carries, and where its secret files are."""
    if which == "compose":
        document = compose(REPLICAS_COMPOSE)
        (mount,) = document["services"]["spproxy"]["configs"]
        assert mount["target"] == "/etc/spproxy/spproxy.yaml"  # ./spproxy.yaml in the WORKDIR
        config_file = REPLICAS_COMPOSE.parent / document["configs"][mount["source"]]["file"]
        return config_file.read_text(), "/run/secrets"  # compose's: /run/secrets/NAME
    container = only_container("spproxy")
    paths = mount_paths(container)
    volumes = {volume["name"]: volume for volume in replicas_pod("spproxy")["spec"]["volumes"]}
    config_map = volumes["spproxy-config"]["configMap"]["name"]
    assert container["args"] == ["serve", "--config", f"{paths['spproxy-config']}/spproxy.yaml"]
    text: str = replicas_kubernetes()[("ConfigMap", config_map)]["data"]["spproxy.yaml"]
    return text, paths["spproxy-secrets"]


def redis_script(which: str) -> tuple[str, str]:
    """The shell script the replicas' Redis runs ($$ read as $, as compose and Kubernetes read
    it), and where its password file is."""
    if which == "compose":
        command = compose(REPLICAS_COMPOSE)["services"]["redis"]["entrypoint"]
        mount = "/run/secrets"
    else:
        container = only_container("spproxy-redis")
        command = container["command"]
        (mount,) = mount_paths(container).values()
    assert command[:2] == ["/bin/sh", "-c"]
    # Escaped: compose would refuse a lone `$(`, and Kubernetes would read it as a variable.
    assert ">$$(cat " in command[2]
    return command[2].replace("$$", "$"), mount


def acl_user(script: str, password: str) -> tuple[str, list[str]]:
    """The Redis user the script's config declares (besides default), and its ACL rules with
    `password` where the script reads the password file."""
    (line,) = re.findall(r"^user (?!default )(.+)$", script, re.MULTILINE)
    rules, read = re.subn(r">\$\(cat [^)]+\)", f">{password}", line)
    assert read == 1, line  # the password comes from the file, never written in
    name, *rest = rules.split()
    return name, rest


def redis_address(which: str) -> tuple[str, int]:
    """Where the replicas find their Redis: the compose service, or the Kubernetes Service."""
    if which == "compose":
        return "redis", 6379  # the service's name, Redis's own port (nothing remaps it)
    service = replicas_kubernetes()[("Service", "spproxy-redis")]
    (port,) = service["spec"]["ports"]
    return service["metadata"]["name"], int(port["port"])


def listen_host(which: str) -> str:
    """Where the replicas listen: the image's SPPROXY_HOST, or the container's."""
    if which == "compose":
        variables = compose(REPLICAS_COMPOSE)["services"]["spproxy"]["environment"]
        return str(variables.get("SPPROXY_HOST", dockerfile(r"^\s+SPPROXY_HOST=(\S+) \\$")))
    return environment(only_container("spproxy"))["SPPROXY_HOST"]


def application_key_file(which: str) -> str:
    """The file the application reads its client key from."""
    if which == "compose":
        shop = compose(REPLICAS_COMPOSE)["services"]["shop"]
        (secret,) = shop["secrets"]
        assert shop["environment"]["SPPROXY_KEY_FILE"] == f"/run/secrets/{secret}"
        return f"/run/secrets/{secret}"
    shop = only_container("shop")
    volumes = {volume["name"]: volume for volume in replicas_pod("shop")["spec"]["volumes"]}
    (mount,) = shop["volumeMounts"]
    (item,) = volumes[mount["name"]]["secret"]["items"]
    assert environment(shop)["SPPROXY_KEY_FILE"] == f"{mount['mountPath']}/{item['path']}"
    return f"{mount['mountPath']}/{item['path']}"


def secret_values(text: str, **values: str) -> dict[str, str]:
    """Secret file name -> content for the config's files that need a shape: the state key (32
    bytes, base64), and `values` by the config key naming the file."""
    document = yaml.safe_load(text)
    files = {
        "client_secret": document["lwa"]["client_secret_file"],
        "refresh_token": document["accounts"]["main"]["refresh_token_file"],
        "redis_password": document["state"]["password_file"],
        "client_key": document["clients"]["shop"]["key_file"],
    }
    named = {Path(files[key]).name: value for key, value in values.items()}
    return {Path(document["state"]["key_file"]).name: STATE_KEY, **named}


def test_the_replicas_manifest_is_valid_for_every_supported_version() -> None:
    documents = replicas_kubernetes()
    assert set(documents) == {
        ("ConfigMap", "spproxy-config"),
        ("Deployment", "spproxy"),
        ("Service", "spproxy"),
        ("NetworkPolicy", "spproxy"),
        ("Deployment", "spproxy-redis"),
        ("Service", "spproxy-redis"),
        ("NetworkPolicy", "spproxy-redis"),
        ("Deployment", "shop"),
    }
    for document in documents.values():
        for version in EVERY_KUBERNETES_VERSION:
            kubernetes_validate.validate(document, version, strict=True)
    # A misspelt `from` would admit every pod: strict validation catches it.
    misspelt = json.loads(json.dumps(documents[("NetworkPolicy", "spproxy")]))
    misspelt["spec"]["ingress"][0]["form"] = misspelt["spec"]["ingress"][0].pop("from")
    with pytest.raises(jsonschema.ValidationError):
        kubernetes_validate.validate(misspelt, EVERY_KUBERNETES_VERSION[-1], strict=True)


@pytest.mark.parametrize(("deployment", "uid"), [("spproxy", IMAGE_UID), ("spproxy-redis", 999)])
def test_the_replicas_and_their_redis_run_locked_down(deployment: str, uid: int) -> None:
    spec, container = replicas_pod(deployment)["spec"], only_container(deployment)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == uid  # the image's user
    assert spec["securityContext"]["fsGroup"] == uid  # group-reads the secret files
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    assert spec["enableServiceLinks"] is False  # the Service spproxy would set SPPROXY_PORT
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": uid,
        "capabilities": {"drop": ["ALL"]},
    }
    assert set(container["resources"]) == {"requests", "limits"}
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    (secret,) = (volume["secret"] for volume in spec["volumes"] if "secret" in volume)
    assert secret["secretName"] == "spproxy-secrets" and secret["defaultMode"] == 0o440


def test_the_replicas_serve_the_application_only_through_their_service() -> None:
    documents = replicas_kubernetes()
    deployment = documents[("Deployment", "spproxy")]["spec"]
    assert deployment["replicas"] == 3
    labels = deployment["template"]["metadata"]["labels"]
    assert deployment["selector"]["matchLabels"] == labels
    container = only_container("spproxy")
    (port,) = container["ports"]
    # Every interface of the pod (the Service forwards to its address), on the named port.
    env = environment(container)
    assert not is_loopback(env["SPPROXY_HOST"])
    assert int(env["SPPROXY_PORT"]) == port["containerPort"]
    service = documents[("Service", "spproxy")]
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"] == labels
    (service_port,) = service["spec"]["ports"]
    assert service_port["targetPort"] == port["name"]
    probes = {name: container[name]["httpGet"] for name in PROBES}
    assert {probe["port"] for probe in probes.values()} == {port["name"]}
    assert probes["readinessProbe"]["path"] == "/_spproxy/ready"
    assert probes["livenessProbe"]["path"] == "/_spproxy/health"
    assert container["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"

    # Only the application's pods reach spproxy, and it calls the Service with its key.
    shop = documents[("Deployment", "shop")]["spec"]["template"]
    policy = documents[("NetworkPolicy", "spproxy")]["spec"]
    assert policy["podSelector"]["matchLabels"] == labels
    assert policy["policyTypes"] == ["Ingress"]
    (rule,) = policy["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": shop["metadata"]["labels"]}}]
    assert rule["ports"] == [{"port": port["name"], "protocol": "TCP"}]
    base_url = f"http://{service['metadata']['name']}:{service_port['port']}"
    assert environment(only_container("shop"))["SPAPI_BASE_URL"] == base_url

    # Only spproxy's pods reach Redis, which sees only its own password.
    redis_pod = replicas_pod("spproxy-redis")
    policy = documents[("NetworkPolicy", "spproxy-redis")]["spec"]
    assert policy["podSelector"]["matchLabels"] == redis_pod["metadata"]["labels"]
    (rule,) = policy["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": labels}}]
    assert (
        documents[("Service", "spproxy-redis")]["spec"]["selector"]
        == (redis_pod["metadata"]["labels"])
    )
    (volume,) = redis_pod["spec"]["volumes"]
    assert volume["secret"]["items"] == [{"key": "redis_password", "path": "redis_password"}]
    script, mount = redis_script("kubernetes")
    assert f"{mount}/redis_password" in script
    # Redis evicts at maxmemory (Redis's mb are MiB), under the limit that would kill it.
    (maxmemory,) = re.findall(r"^maxmemory (\d+)mb$", script, re.MULTILINE)
    limit = only_container("spproxy-redis")["resources"]["limits"]["memory"]
    assert limit.endswith("Mi") and int(maxmemory) < int(limit.removesuffix("Mi"))


def test_the_replicas_compose_file_is_valid() -> None:
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)
    checker = validator(schema, format_checker=validator.FORMAT_CHECKER)
    checker.validate(compose(REPLICAS_COMPOSE))
    misspelt = compose(REPLICAS_COMPOSE)
    misspelt["services"]["spproxy"]["deploy"]["replica"] = 3
    assert not checker.is_valid(misspelt)


def test_the_replicas_compose_services_are_locked_down() -> None:
    document = compose(REPLICAS_COMPOSE)
    services = document["services"]
    spproxy, redis_service, shop = services["spproxy"], services["redis"], services["shop"]
    assert spproxy["deploy"]["replicas"] == 3
    for name in ("spproxy", "redis"):
        service = services[name]
        assert "ports" not in service, name  # only the project's services reach it
        assert "container_name" not in service, name  # replicas need names of their own
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"], name
        assert service["security_opt"] == ["no-new-privileges:true"], name
        assert service["user"] == f"{IMAGE_UID}:{IMAGE_UID}", name  # owns deploy/secrets/
    assert spproxy["healthcheck"]["test"][-1] == "ready"
    assert shop["depends_on"]["spproxy"]["condition"] == "service_healthy"
    # Started is enough: spproxy serves without Redis, and joins it when it answers.
    assert spproxy["depends_on"]["redis"]["condition"] == "service_started"
    # Compose mounts each secret at /run/secrets/NAME: spproxy gets exactly those its config
    # reads, Redis only its password, the application only its key.
    text, _ = replicas_config("compose")
    assert set(re.findall(r"/run/secrets/(\w+)", text)) == set(spproxy["secrets"])
    assert set(spproxy["secrets"]) == set(document["secrets"])
    script, _ = redis_script("compose")
    assert re.findall(r"/run/secrets/(\w+)", script) == redis_service["secrets"]
    assert redis_service["secrets"] == ["redis_password"]
    assert shop["secrets"] == ["shop_client_key"]


@pytest.mark.parametrize("which", REPLICAS)
def test_the_replicas_config_loads_with_the_mounted_secrets_and_shares_state(
    which: str, tmp_path: Path
) -> None:
    text, mount = replicas_config(which)
    (tmp_path / "spproxy.yaml").write_text(secrets_to(text, mount, tmp_path, secret_values(text)))
    config = load_config(str(tmp_path / "spproxy.yaml"), {"SPAPI_CLIENT_ID": "amzn1.app"})
    assert config.lwa.client_secret.reveal() == "value of lwa_client_secret"
    assert config.accounts["main"].refresh_token.reveal() == "value of main_refresh_token"
    state = config.state
    assert state is not None
    assert state.key.reveal() == STATE_KEY
    assert state.password is not None and state.password.reveal() == "value of redis_password"
    assert state.username == acl_user(redis_script(which)[0], "-")[0]  # Redis's ACL user
    url = urlsplit(state.url)
    assert (url.hostname, url.port) == redis_address(which)
    assert url.password is None  # from the file only
    # It listens beyond loopback for the other containers: each must bring a client key, and
    # the application's file holds one.
    assert not is_loopback(listen_host(which))
    keys = {client.key.reveal() for client in config.clients.values()}
    key_file = application_key_file(which).replace(mount, str(tmp_path))
    assert Path(key_file).read_text().strip() in keys


@pytest.fixture
def redis_binary() -> str:
    binary = shutil.which("redis-server") or shutil.which("valkey-server")
    if binary is None:
        pytest.skip("no redis-server (or valkey-server) on PATH to run the deploy's Redis")
    return binary


@contextlib.contextmanager
def deployed_redis(which: str, binary: str, folder: Path, password: str) -> Iterator[int]:
    """The deploy file's own Redis script, run by sh with a real redis-server and its password
    file in `folder`, on a free port of loopback; the port."""
    script, mount = redis_script(which)
    (folder / "redis_password").write_text(f"{password}\n")
    start = "exec redis-server - "
    assert script.startswith(start)  # the config on standard input
    port = free_port()
    here = f"exec {binary} - --port {port} --bind 127.0.0.1 "
    process = subprocess.Popen(
        ["/bin/sh", "-c", script.replace(mount, str(folder)).replace(start, here, 1)],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def loaded(text: str, mount: str, folder: Path, values: Mapping[str, str], **state: Any) -> Config:
    """The deploy config through the real reader, its secret files in `folder`, `state` keys
    replaced (the Redis's URL)."""
    document = yaml.safe_load(secrets_to(text, mount, folder, values))
    document["state"].update(state)
    (folder / "spproxy.yaml").write_text(yaml.safe_dump(document))
    return load_config(str(folder / "spproxy.yaml"), {"SPAPI_CLIENT_ID": DEMO_CLIENT_ID})


@pytest.mark.parametrize("which", REPLICAS)
async def test_the_replicas_redis_admits_spproxy_with_its_password_and_nothing_else(
    which: str, redis_binary: str, tmp_path: Path
) -> None:
    password = secrets.token_hex(32)
    with deployed_redis(which, redis_binary, tmp_path, password) as port:
        url = f"redis://127.0.0.1:{port}/0"
        text, mount = replicas_config(which)
        values = secret_values(text, redis_password=password)
        config = loaded(text, mount, tmp_path, values, url=url)
        assert config.state is not None
        # spproxy's user, its password from the file, works on spproxy's keys, scripts too.
        state = connect(config.state, config.lwa.client_id)
        key = state.key("deploy-check")
        try:
            assert await state.call(lambda r: r.set(key, "sealed", px=60_000)) is True
            script = "return redis.call('GET', KEYS[1])"
            assert await state.call(lambda r: r.eval(script, 1, key)) == b"sealed"
            for command in (("FLUSHALL",), ("CONFIG", "GET", "save"), ("MONITOR",)):
                with pytest.raises(redis.exceptions.NoPermissionError):
                    await state.client.execute_command(*command)  # type: ignore[no-untyped-call]
            assert state.up
            # Another app's key is refused; to spproxy that is Redis unusable: local state.
            assert await state.call(lambda r: r.get("another-apps-key")) is None
            assert not state.up
        finally:
            await state.aclose()
        # The default user is off; a wrong password is Redis down for spproxy, not an error.
        anonymous = redis.asyncio.Redis.from_url(url)
        with pytest.raises(redis.exceptions.AuthenticationError):
            await anonymous.ping()
        await anonymous.aclose()
        (tmp_path / "redis_password").write_text("wrong\n")
        config = loaded(text, mount, tmp_path, {**values, "redis_password": "wrong"}, url=url)
        assert config.state is not None
        wrong = connect(config.state, config.lwa.client_id)
        try:
            assert await wrong.call(lambda r: r.get(key)) is None
            assert not wrong.up
        finally:
            await wrong.aclose()


@contextlib.asynccontextmanager
async def acl_user_on(redis_url: str, name: str, rules: list[str]) -> AsyncIterator[None]:
    """The deploy's ACL user on the tests' Redis, for one test."""
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        await client.execute_command("ACL", "SETUSER", name, "reset", *rules)  # type: ignore[no-untyped-call]
        yield
    finally:
        await client.execute_command("ACL", "DELUSER", name)  # type: ignore[no-untyped-call]
        await client.aclose()


def replicas_probes() -> dict[str, str]:
    """The Kubernetes replicas' HTTP probes: name -> path."""
    container = only_container("spproxy")
    return {name: container[name]["httpGet"]["path"] for name in PROBES}


@pytest.mark.parametrize("which", REPLICAS)
async def test_three_replicas_as_deployed_share_the_tests_redis(
    which: str, harness: Harness, redis_url: str, tmp_path: Path
) -> None:
    """Three real `spproxy serve` processes with the deploy file's config, its secrets as files,
    as Redis's ACL user with its password: only Amazon (the emulator), the Redis and where they
    listen (loopback: the test opens no port to the network) differ."""
    emulator = str(harness.emulator.make_url("")).rstrip("/")
    text, mount = replicas_config(which)
    password, shop_key = secrets.token_hex(32), secrets.token_hex(32)
    values = secret_values(
        text,
        client_secret=DEMO_CLIENT_SECRET,
        refresh_token=DEMO_REFRESH_TOKEN,
        redis_password=password,
        client_key=shop_key,
    )
    (tmp_path / "secrets").mkdir()
    document = yaml.safe_load(secrets_to(text, mount, tmp_path / "secrets", values))
    document["lwa"].update(client_id=DEMO_CLIENT_ID, endpoint=f"{emulator}/auth/o2/token")
    document["accounts"]["main"]["endpoint"] = emulator
    document["state"]["url"] = redis_url

    def config_text(port: int) -> str:
        return yaml.safe_dump({**document, "listen": {"host": "127.0.0.1", "port": port}})

    user, rules = acl_user(redis_script(which)[0], password)
    async with acl_user_on(redis_url, user, rules), contextlib.AsyncExitStack() as stack:
        replicas = []
        for number in range(3):
            (tmp_path / f"replica{number}").mkdir()
            serving = serve(tmp_path / f"replica{number}", config_text, ready="/_spproxy/ready")
            replicas.append(await stack.enter_async_context(serving))
        async with aiohttp.ClientSession() as session:
            for replica in replicas:
                async with session.get(f"{replica.base}/_spproxy/ready") as answer:
                    assert answer.status == 200
                    assert (await answer.json())["shared_state"] == "up"
                async with session.get(replica.base + PARTICIPATIONS) as answer:
                    assert answer.status == 401  # no key: refused
                headers = {KEY_HEADER: shop_key}
                async with session.get(replica.base + PARTICIPATIONS, headers=headers) as answer:
                    assert answer.status == 200
                for name, path in replicas_probes().items():
                    async with session.get(replica.base + path) as answer:
                        assert answer.status == 200, name
                async with session.get(f"{replica.base}/_spproxy/ready") as answer:
                    assert (await answer.json())["shared_state"] == "up"
        # As the ACL user, the three paced their calls in one bucket, in their namespace.
        config = load_config(str(replicas[0].config), {})
        assert config.state is not None and config.state.username == user
        state = connect(config.state, config.lwa.client_id)
        try:
            pattern = state.key("bucket", "main", "*")
            buckets = [key async for key in state.client.scan_iter(match=pattern)]
            assert len(buckets) == 1, buckets
        finally:
            await state.aclose()


async def test_every_replicas_probe_passes_against_a_serving_proxy(harness: Harness) -> None:
    for name, path in replicas_probes().items():
        answer = await harness.proxy.get(path)
        assert answer.status == 200, name


async def test_the_replicas_readiness_probe_fails_while_a_token_exchange_fails(
    start: StartHarness,
) -> None:
    harness = await start(accounts={"main": "Atzr|revoked"})
    for name, path in replicas_probes().items():
        answer = await harness.proxy.get(path)
        assert answer.status == (503 if name == "readinessProbe" else 200), name


def test_the_readme_names_every_deploy_file() -> None:
    readme = (ROOT / "README.md").read_text()
    deploying = readme[readme.index("\n## Deploying\n") :]
    deploying = deploying[: deploying.index("\n## ", 1)]
    deploy = ROOT / "deploy"
    for path in deploy.rglob("*"):
        if path.is_file() and "secrets" not in path.relative_to(deploy).parts:  # git ignores it
            name = str(path.relative_to(ROOT))
            assert f"[`{name}`]({name})" in deploying, name
