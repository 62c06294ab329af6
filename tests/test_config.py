from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts.gen_config_reference import with_reference
from spproxy.config import (
    DEFAULT_LWA_ENDPOINT,
    ConfigError,
    Secret,
    declared_keys,
    load_config,
    parse_config,
    redact_url,
)

ENV = {
    "SPAPI_CLIENT_ID": "amzn1.application-oa2-client.abc",
    "SPAPI_CLIENT_SECRET": "cs-from-env",
    "SPAPI_REFRESH_TOKEN": "Atzr|refresh-from-env",
}

FULL = """
listen:
  host: 127.0.0.1
  port: 8123
lwa:
  client_id: ${SPAPI_CLIENT_ID}
  client_secret: ${SPAPI_CLIENT_SECRET}
  endpoint: ${LWA_URL:-https://api.amazon.com/auth/o2/token}
aws:
  access_key_id: AKIDEXAMPLE
  secret_access_key: ${AWS_SECRET:-s3cr3t}
  role_arn: arn:aws:iam::123456789012:role/SellingPartnerAPI
accounts:
  main:
    refresh_token: ${SPAPI_REFRESH_TOKEN}
    region: na
  europe:
    refresh_token: Atzr|second
    region: eu
    sandbox: true
    data_elements: [buyerInfo]
  japan:
    refresh_token: Atzr|third
    region: fe
    endpoint: http://127.0.0.1:9999/
upstream:
  timeout_s: 5
  max_body_bytes: 1024
user_agent: "MyShop/1.4 (Language=Python/3.11)"
"""


def problems(text: str, env: dict[str, str] | None = None, tmp: Path | None = None) -> list[str]:
    import yaml

    with pytest.raises(ConfigError) as caught:
        parse_config(yaml.safe_load(text), env if env is not None else ENV, base_dir=tmp or Path())
    return caught.value.problems


def test_full_config_resolves_variables_regions_and_defaults() -> None:
    import yaml

    config = parse_config(yaml.safe_load(FULL), ENV)
    assert config.listen.port == 8123
    assert config.lwa.client_secret == Secret("cs-from-env")
    assert config.lwa.endpoint == DEFAULT_LWA_ENDPOINT  # ${VAR:-default}
    assert list(config.accounts) == ["main", "europe", "japan"]
    assert config.default_account.name == "main"
    main, europe, japan = config.accounts.values()
    assert (main.endpoint, main.aws_region) == (
        "https://sellingpartnerapi-na.amazon.com",
        "us-east-1",
    )
    assert europe.endpoint == "https://sandbox.sellingpartnerapi-eu.amazon.com"
    assert europe.aws_region == "eu-west-1"
    assert europe.data_elements == ("buyerInfo",)
    assert main.data_elements == ("buyerInfo", "shippingAddress")
    assert (japan.endpoint, japan.aws_region) == ("http://127.0.0.1:9999", "us-west-2")
    assert config.aws is not None and config.aws.role_arn
    assert config.upstream.timeout_s == 5.0 and config.upstream.max_body_bytes == 1024
    assert config.user_agent == "MyShop/1.4 (Language=Python/3.11)"


def test_secrets_never_show_in_repr() -> None:
    import yaml

    text = repr(parse_config(yaml.safe_load(FULL), ENV))
    for secret in ("cs-from-env", "Atzr|refresh-from-env", "s3cr3t", "Atzr|second"):
        assert secret not in text


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


def test_every_problem_is_one_line_naming_the_key() -> None:
    text = """
lwa:
  client_id: x
  client_secret: ${MISSING_SECRET}
  client_secre: typo
accounts:
  main: {refresh_token: r, region: mars}
  other: {refresh_token: r, region: eu, data_elements: [buyerEmail]}
  third: {region: na, refresh_token: r, refresh_token_file: f}
listen: {port: 70000}
upstream: {timeout_s: fast}
user_agent: curl/8
"""
    assert problems(text, env={}) == [
        "listen.port: must be between 0 and 65535",
        "lwa.client_secre: unknown key (expected one of client_id, client_secret, endpoint)",
        "lwa.client_secret: environment variable MISSING_SECRET is not set",
        "accounts.main.region: must be one of na, eu, fe, got 'mars'",
        "accounts.other.data_elements: unknown buyerEmail "
        "(allowed: buyerInfo, shippingAddress, buyerTaxInformation)",
        "accounts.third.refresh_token: set refresh_token or refresh_token_file, not both",
        "upstream.timeout_s: must be a number, got 'fast'",
        "user_agent: must look like 'AppName/1.0 (Language=Python/3.11)' (Amazon's format)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "accounts: {}",
            ["lwa: required section is missing", "accounts: must name at least 1"],
        ),
        ("[1, 2]", ["config: must be a mapping of keys to values"]),
        (
            "lwa: {client_id: a, client_secret: b}\naccounts: {m: {refresh_token: r}}",
            ["accounts.m.region: required (one of na, eu, fe)"],
        ),
        (
            "lwa: {client_id: a, client_secret: b, endpoint: ftp://x}\n"
            "accounts: {m: {refresh_token: r, region: na, endpoint: 'https://h/path'}}",
            [
                "lwa.endpoint: must be an http(s) URL, got 'ftp://x'",
                "accounts.m.endpoint: must be scheme://host[:port] without a path",
            ],
        ),
        (
            "lwa: {client_id: a, client_secret: b}\naccounts: {m: {refresh_token: r, region: na}}\n"
            f"user_agent: 'App/1 (Language=Python/3.11){'x' * 500}'",
            ["user_agent: must be at most 500 characters"],
        ),
        (
            "lwa: {client_id: a, client_secret: b}\naccounts: {m: {refresh_token: r, region: na}}\n"
            "aws: {access_key_id: a, secret_access_key: b, role_arn: admin}",
            ["aws.role_arn: must look like arn:aws:iam::123456789012:role/NAME"],
        ),
    ],
)
def test_structural_problems(text: str, expected: list[str]) -> None:
    assert problems(text) == expected


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


def test_clients_and_audit_log(tmp_path: Path) -> None:
    import yaml

    text = """
lwa: {client_id: a, client_secret: b}
accounts: {main: {refresh_token: r, region: na}, eu: {refresh_token: r2, region: eu}}
clients:
  shipping:
    key: ${SHIPPING_KEY}
    accounts: [main]
    operations: ["getOrder*", "*Label*"]
    pii: true
    data_elements: [shippingAddress]
  analytics:
    key_file: analytics.key
audit_log: logs/audit.jsonl
"""
    (tmp_path / "analytics.key").write_text("analytics-key-0123456789\n")
    env = {"SHIPPING_KEY": "shipping-key-0123456789"}
    config = parse_config(yaml.safe_load(text), env, base_dir=tmp_path)
    shipping, analytics = config.clients.values()
    assert (shipping.accounts, shipping.operations, shipping.pii) == (
        ("main",),
        ("getOrder*", "*Label*"),
        True,
    )
    assert shipping.data_elements == ("shippingAddress",)
    assert (analytics.accounts, analytics.operations, analytics.pii) == (None, ("*",), False)
    assert analytics.data_elements is None and analytics.key.reveal() == "analytics-key-0123456789"
    assert "0123456789" not in repr(config)
    assert config.audit_log is not None
    assert (config.audit_log.path, config.audit_log.rotate, config.audit_log.keep_days) == (
        str(tmp_path / "logs/audit.jsonl"),
        "daily",
        90,
    )


def test_client_and_audit_problems() -> None:
    text = """
lwa: {client_id: a, client_secret: b}
accounts: {main: {refresh_token: r, region: na}}
clients:
  short: {key: abc}
  twin1: {key: same-key-0123456789}
  twin2: {key: same-key-0123456789, accounts: [nowhere]}
  maybe: {key: maybe-key-0123456789, pii: maybe}
  nokey: {operations: [getOrder]}
audit_log: {path: a.jsonl, rotate: weekly, keep_days: 0}
"""
    assert problems(text) == [
        "clients.maybe.pii: must be true or false",
        "clients.nokey.key: required (or key_file)",
        "audit_log.rotate: must be one of daily, hourly, got 'weekly'",
        "audit_log.keep_days: must be at least 1",
        "clients.short.key: must be at least 16 characters (use a random one)",
        "clients.twin2.key: is the same as another client's key",
        "clients.twin2.accounts: names no configured account: nowhere",
    ]


def test_client_deadlines_and_limits() -> None:
    text = (
        FULL.replace(
            "  port: 8123\n", "  port: 8123\n  header_timeout_s: 5\n  body_timeout_s: 20\n"
        )
        + "limits:\n  document_rdts: 500\n  report_documents: 1000\n  issued_tokens: 2000\n"
    )
    config = parse_config(yaml.safe_load(text), ENV)
    assert (config.listen.header_timeout_s, config.listen.body_timeout_s) == (5.0, 20.0)
    assert (config.limits.document_rdts, config.limits.report_documents) == (500, 1000)
    assert config.limits.issued_tokens == 2000
    defaults = parse_config(yaml.safe_load(FULL), ENV)
    assert (defaults.listen.header_timeout_s, defaults.listen.body_timeout_s) == (10.0, 60.0)
    assert defaults.limits.document_rdts == 1_000
    broken = FULL + "limits:\n  document_rdts: 0\n  everything: 1\n"
    with pytest.raises(ConfigError) as error:
        parse_config(yaml.safe_load(broken), ENV)
    assert error.value.problems == [
        "limits.everything: unknown key (expected one of document_rdts, issued_tokens, "
        "report_documents)",
        "limits.document_rdts: must be at least 1",
    ]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://sellingpartnerapi-na.amazon.com", "https://sellingpartnerapi-na.amazon.com"),
        ("http://user:pass@10.0.0.1:8080/x", "http://***@10.0.0.1:8080/x"),
        ("https://token@host", "https://***@host"),
    ],
)
def test_urls_are_shown_without_user_or_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


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
    full = load_config(str(copy), env)
    assert full.limits.document_rdts == 1_000 and full.aws is not None and len(full.clients) == 2


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
    ]:
        (secrets / name).write_text(value + "\n")
    config = load_config(str(tmp_path / "every.yaml"), ENV)
    assert config.lwa.client_id == "amzn1.application-oa2-client.abc"
    assert config.accounts["main"].restricted_fallback == "lwa"
    assert config.user_agent is not None and config.user_agent.startswith("My Selling Tool/2.0")
    assert config.limits.document_rdts == 500 and config.audit_log is not None
    assert config.audit_log.path == str(tmp_path / "audit/audit.jsonl")


def _keys_set(raw: object, prefix: str = "") -> list[str]:
    if not isinstance(raw, dict):
        return [prefix.rstrip(".")]
    keys = []
    for name, value in raw.items():
        keys += _keys_set(value, f"{prefix}{name}.")
    return keys


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


def test_the_readme_table_is_the_declarations() -> None:
    readme = Path(__file__).resolve().parents[1] / "README.md"
    assert with_reference(readme.read_text()) == readme.read_text(), (
        "stale: python -m scripts.gen_config_reference"
    )


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
