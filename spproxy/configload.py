"""Where the configuration comes from: a YAML file (`--config PATH`, else $SPPROXY_CONFIG, else
./spproxy.yaml) or, for a single account, the SPAPI_* and AWS_* environment variables alone."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from spproxy.config import DEFAULT_LWA_ENDPOINT, Config, ConfigError
from spproxy.configread import parse_config
from spproxy.configyaml import load_yaml

DEFAULT_CONFIG_FILE = "spproxy.yaml"


def load_config(path: str | None, env: Mapping[str, str]) -> Config:
    """Read `path`, else $SPPROXY_CONFIG, else ./spproxy.yaml, else the SPAPI_* variables."""
    chosen = path or env.get("SPPROXY_CONFIG")
    if chosen is None and Path(DEFAULT_CONFIG_FILE).is_file():
        chosen = DEFAULT_CONFIG_FILE
    if chosen is None:
        return parse_config(_raw_from_env(env), env, source="environment")
    try:
        raw = load_yaml(Path(chosen).read_text())
    except OSError as exc:
        raise ConfigError([f"config file {chosen}: {exc.strerror or exc}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"config file {chosen}: {_yaml_problem(exc)}"]) from None
    return parse_config(raw, env, source=chosen, base_dir=Path(chosen).parent)


def _yaml_problem(error: yaml.YAMLError) -> str:
    """Where the parser stopped (line and column, 1-based) and why."""
    mark = getattr(error, "problem_mark", None)
    reason = getattr(error, "problem", None) or "not valid YAML"
    context = getattr(error, "context", None)
    why = f"{context}, {reason}" if context else reason
    if mark is None:
        return f"not valid YAML: {why}"
    return f"line {mark.line + 1}, column {mark.column + 1}: {why}"


# Env-only mode: (variable, key) for each value; a secret may come from VARIABLE_FILE instead.
_ENV_LWA = (("SPAPI_CLIENT_ID", "client_id"), ("SPAPI_CLIENT_SECRET", "client_secret"))
_ENV_AWS = (
    ("AWS_ACCESS_KEY_ID", "access_key_id"),
    ("AWS_SECRET_ACCESS_KEY", "secret_access_key"),
    ("AWS_SESSION_TOKEN", "session_token"),
    ("AWS_ROLE_ARN", "role_arn"),
)


def _raw_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The single-account config that the SPAPI_* / AWS_* variables (or their _FILE) describe."""

    def given(variable: str) -> bool:
        return variable in env or f"{variable}_FILE" in env

    def value(section: dict[str, Any], key: str, variable: str) -> None:
        if f"{variable}_FILE" in env and variable not in env:
            section[f"{key}_file"] = "${" + variable + "_FILE}"
        else:
            section[key] = "${" + variable + "}"

    if not (given("SPAPI_CLIENT_ID") or given("SPAPI_REFRESH_TOKEN")):
        raise ConfigError(
            [
                "no configuration: pass --config PATH, set SPPROXY_CONFIG, create ./spproxy.yaml, "
                "or set SPAPI_CLIENT_ID, SPAPI_CLIENT_SECRET, SPAPI_REFRESH_TOKEN and SPAPI_REGION"
                " (or their *_FILE variants)"
            ]
        )
    account: dict[str, Any] = {"region": "${SPAPI_REGION}", "sandbox": "${SPAPI_SANDBOX:-false}"}
    value(account, "refresh_token", "SPAPI_REFRESH_TOKEN")
    if "SPAPI_ENDPOINT" in env:
        account["endpoint"] = "${SPAPI_ENDPOINT}"
    lwa: dict[str, Any] = {"endpoint": "${SPAPI_LWA_ENDPOINT:-" + DEFAULT_LWA_ENDPOINT + "}"}
    for variable, key in _ENV_LWA:
        value(lwa, key, variable)
    raw: dict[str, Any] = {"lwa": lwa, "accounts": {"default": account}}
    if given("AWS_ACCESS_KEY_ID") or given("AWS_SECRET_ACCESS_KEY"):
        aws: dict[str, Any] = {}
        for variable, key in _ENV_AWS:
            if key in ("access_key_id", "secret_access_key") or given(variable):
                value(aws, key, variable)
        raw["aws"] = aws
    return raw
