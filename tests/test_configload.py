"""Where the configuration comes from: a file (given, $SPPROXY_CONFIG, ./spproxy.yaml) or the
environment alone; unreadable and invalid files; the shipped and README examples."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path

import pytest

from spproxy.config import ConfigError
from spproxy.configload import load_config
from tests.test_configread import ENV


def test_file_secrets_are_read_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("cs-from-file\n")
    (tmp_path / "config.yaml").write_text(
        "lwa: {client_id: x, client_secret_file: secret.txt}\n"
        "accounts: {main: {refresh_token_file: /nonexistent/rt, region: na}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(str(tmp_path / "config.yaml"), {})
    assert caught.value.problems == [
        "accounts.main.refresh_token_file: cannot read /nonexistent/rt: No such file or directory"
    ]
    (tmp_path / "rt").write_text("Atzr|from-file")
    (tmp_path / "config.yaml").write_text(
        "lwa: {client_id: x, client_secret_file: secret.txt}\n"
        "accounts: {main: {refresh_token_file: rt, region: na}}\n"
    )
    config = load_config(str(tmp_path / "config.yaml"), {})
    assert config.lwa.client_secret.reveal() == "cs-from-file"
    assert config.default_account.refresh_token.reveal() == "Atzr|from-file"


def test_environment_only_single_account() -> None:
    env = {**ENV, "SPAPI_REGION": "eu", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "sk"}
    config = load_config(None, env)
    assert list(config.accounts) == ["default"]
    account = config.default_account
    assert (account.region, account.endpoint) == ("eu", "https://sellingpartnerapi-eu.amazon.com")
    assert account.refresh_token.reveal() == "Atzr|refresh-from-env"
    assert config.aws is not None and config.aws.role_arn is None
    assert config.source == "environment"


def test_environment_only_names_the_missing_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, ENV)
    assert caught.value.problems == [
        "accounts.default.region: environment variable SPAPI_REGION is not set"
    ]


def test_environment_only_reads_secrets_from_files(tmp_path: Path) -> None:
    files = {}
    for variable, value in [
        ("SPAPI_CLIENT_ID", "amzn1.application-oa2-client.abc"),
        ("SPAPI_CLIENT_SECRET", "cs-from-file"),
        ("SPAPI_REFRESH_TOKEN", "Atzr|from-file"),
        ("AWS_SECRET_ACCESS_KEY", "aws-from-file"),
    ]:
        (tmp_path / variable).write_text(value + "\n")
        files[f"{variable}_FILE"] = str(tmp_path / variable)
    config = load_config(None, {**files, "SPAPI_REGION": "na", "AWS_ACCESS_KEY_ID": "AKID"})
    assert config.lwa.client_id == "amzn1.application-oa2-client.abc"
    assert config.lwa.client_secret.reveal() == "cs-from-file"
    assert config.default_account.refresh_token.reveal() == "Atzr|from-file"
    assert config.aws is not None and config.aws.secret_access_key.reveal() == "aws-from-file"
    missing = {**files, "SPAPI_REGION": "na", "SPAPI_CLIENT_SECRET_FILE": str(tmp_path / "no")}
    del missing["AWS_SECRET_ACCESS_KEY_FILE"]
    with pytest.raises(ConfigError) as caught:
        load_config(None, missing)
    assert caught.value.problems == [
        f"lwa.client_secret_file: cannot read {tmp_path / 'no'}: No such file or directory"
    ]


def test_no_config_at_all_says_how_to_give_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_config(None, {})
    assert "--config PATH" in caught.value.problems[0]


def test_config_file_from_environment_variable(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "lwa: {client_id: a, client_secret: b}\naccounts: {m: {refresh_token: r, region: fe}}\n"
    )
    assert (
        load_config(None, {"SPPROXY_CONFIG": str(path)}).default_account.aws_region == "us-west-2"
    )


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(str(tmp_path / "absent.yaml"), {})
    assert caught.value.problems == [
        f"config file {tmp_path / 'absent.yaml'}: No such file or directory"
    ]
    (tmp_path / "bad.yaml").write_text("lwa: [\n")
    with pytest.raises(ConfigError) as caught:
        load_config(str(tmp_path / "bad.yaml"), {})
    (problem,) = caught.value.problems
    # the parser's reason, in libyaml's words or PyYAML's
    assert problem.startswith(
        f"config file {tmp_path / 'bad.yaml'}: line 2, column 1: while parsing a flow node, "
    )


@pytest.mark.parametrize(
    ("yaml_text", "env", "expected"),
    [
        (
            "lwa: {client_id: a, client_secret: b}\n"
            "accounts: {m: {refresh_token: r, region: moon}}\n",
            {},
            "spproxy: config: accounts.m.region: must be one of na, eu, fe, got 'moon'\n",
        ),
        (
            "lwa: {client_id: a, client_secret: b}\n"
            "accounts: {m: {refresh_token: '${SELLER_TOKEN}', region: na}}\n",
            {},
            "spproxy: config: accounts.m.refresh_token: "
            "environment variable SELLER_TOKEN is not set\n",
        ),
    ],
)
def test_serve_and_check_exit_2_with_one_line(
    tmp_path: Path, yaml_text: str, env: dict[str, str], expected: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml_text)
    for command in ("serve", "check"):
        result = subprocess.run(
            [sys.executable, "-m", "spproxy", command, "--config", str(path)],
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", **env},
            timeout=60,
            check=False,
        )
        assert result.returncode == 2
        assert result.stderr == expected
        assert result.stdout == ""


def test_the_shipped_example_loads_through_the_real_reader(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[1] / "config.example.yaml"
    config = load_config(str(example), ENV)
    assert list(config.accounts) == ["main"]
    assert config.accounts["main"].restricted_fallback == "error"
    assert (config.listen.header_timeout_s, config.listen.body_timeout_s) == (10.0, 60.0)
    # Every commented-out section, uncommented, loads too.
    uncommented = re.sub(r"^# ?(?=[a-z_]+:|  )", "", example.read_text(), flags=re.MULTILINE)
    copy = tmp_path / "spproxy.yaml"
    copy.write_text(uncommented)
    env = {**ENV, "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"}
    env |= {"SHIPPING_KEY": "shipping-key-0123456789", "ANALYTICS_KEY": "analytics-key-012345"}
    env |= {"SPAPI_REFRESH_TOKEN_EU": "Atzr|eu", "AWS_SESSION_TOKEN": "token"}
    env |= {"SPPROXY_ACCOUNT_STORE_KEY": base64.b64encode(bytes(32)).decode()}
    full = load_config(str(copy), env)
    assert full.limits.document_rdts == 1_000 and full.aws is not None and len(full.clients) == 2
    assert full.account_store is not None
    assert full.account_store.url == f"sqlite:///{tmp_path}/state/accounts.db"


def test_every_spproxy_config_in_the_readme_loads(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL)
    configs = [block for block in blocks if re.search(r"^(lwa|accounts):", block, re.MULTILINE)]
    assert configs  # the Configuration section's, at least
    env = {**ENV, "SPAPI_REFRESH_TOKEN_EU": "Atzr|eu"}
    for number, block in enumerate(configs):
        path = tmp_path / f"readme{number}.yaml"
        path.write_text(block)
        for relative in re.findall(r"^\s*\w+_file: ([^\s#]+)", block, flags=re.MULTILINE):
            assert not relative.startswith("/"), relative  # the README's are relative
            (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / relative).write_text("from-a-file")
        assert load_config(str(path), env).accounts


def test_the_readmes_state_block_loads_as_written(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    (block,) = [
        b for b in re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL) if b.startswith("state:")
    ]
    files = {"/run/secrets/spproxy-state-key": "A" * 43 + "=", "/run/secrets/redis-password": "pw"}
    for mounted, content in files.items():
        assert mounted in block
        local = tmp_path / Path(mounted).name
        local.write_text(content + "\n")
        block = block.replace(mounted, str(local))
    path = tmp_path / "spproxy.yaml"
    path.write_text(
        "lwa: {client_id: id, client_secret: s}\n"
        "accounts: {main: {refresh_token: Atzr|x, region: na}}\n" + block
    )
    state = load_config(str(path), ENV).state
    assert state is not None and state.url == "redis://redis:6379/0"
    assert state.password is not None and state.password.reveal() == "pw"


def test_the_readmes_onboarding_block_loads_as_written(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    (block,) = [
        b
        for b in re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL)
        if b.startswith("onboarding:")
    ]
    key_file = tmp_path / "shop-admin-key"
    key_file.write_text("shop-admin-key-0123456789\n")
    store_key = tmp_path / "store-key"
    store_key.write_text("A" * 43 + "=\n")
    path = tmp_path / "spproxy.yaml"
    path.write_text(
        "lwa: {client_id: id, client_secret: s}\n"
        "accounts: {main: {refresh_token: Atzr|x, region: na}}\n"
        f"account_store: {{url: 'sqlite:///accounts.db', key_file: {store_key}}}\n"
        + block.replace("/run/secrets/shop-admin-key", str(key_file))
    )
    config = load_config(str(path), ENV)
    assert config.onboarding is not None and config.onboarding.draft
    assert config.clients["shop-admin"].onboarding
