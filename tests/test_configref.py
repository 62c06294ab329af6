"""The README's table of every key, and the list of keys a file may set, from the declarations."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import yaml

from scripts.gen_config_reference import with_reference
from spproxy.configload import load_config
from spproxy.configref import declared_keys
from tests.test_configread import ENV


def test_the_readme_table_is_the_declarations() -> None:
    readme = Path(__file__).resolve().parents[1] / "README.md"
    assert with_reference(readme.read_text()) == readme.read_text(), (
        "stale: python -m scripts.gen_config_reference"
    )


def test_a_file_that_sets_every_declared_key_loads(tmp_path: Path) -> None:
    example = Path(__file__).parent / "data" / "every_key.yaml"
    text = example.read_text()
    config_keys = {
        re.sub(r"\.(main|shipping)\.", ".NAME.", key) for key in _keys_set(yaml.safe_load(text))
    }
    given = config_keys | {key.removesuffix("_file") for key in config_keys}  # secret files
    assert set(declared_keys()) <= given
    (tmp_path / "every.yaml").write_text(text)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name, value in [
        ("client_id", "amzn1.application-oa2-client.abc"),
        ("aws_secret", "aws-secret"),
        ("shipping_key", "shipping-key-0123456789"),
        ("state_key", base64.b64encode(bytes(range(32))).decode()),
        ("redis_password", "redis-password"),
        ("account_store_key", base64.b64encode(bytes(range(32, 64))).decode()),
        ("postgres_password", "postgres-password"),
    ]:
        (secrets / name).write_text(value + "\n")
    config = load_config(str(tmp_path / "every.yaml"), ENV)
    assert config.lwa.client_id == "amzn1.application-oa2-client.abc"
    assert config.accounts["main"].restricted_fallback == "lwa"
    assert config.user_agent is not None and config.user_agent.startswith("My Selling Tool/2.0")
    assert config.limits.document_rdts == 500 and config.audit_log is not None
    assert config.audit_log.path == str(tmp_path / "audit/audit.jsonl")
    assert config.state is not None and config.state.local_share == 0.34
    assert config.state.key.reveal() == base64.b64encode(bytes(range(32))).decode()
    assert config.state.tls_ca_file == str(tmp_path / "redis-ca.pem")
    store = config.account_store
    assert store is not None and store.password is not None and store.poll_s == 2
    assert store.password.reveal() == "postgres-password"


def _keys_set(raw: object, prefix: str = "") -> list[str]:
    if not isinstance(raw, dict):
        return [prefix.rstrip(".")]
    keys = []
    for name, value in raw.items():
        keys += _keys_set(value, f"{prefix}{name}.")
    return keys
