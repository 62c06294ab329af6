"""A parsed document read along the declarations: values, defaults, regions, and every problem
as one line naming the key. ENV and FULL are the documents other config tests start from too."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from spproxy.config import DEFAULT_LWA_ENDPOINT, ConfigError, Secret
from spproxy.configread import parse_config

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


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(yaml.safe_load(text), env if env is not None else ENV)
    return caught.value.problems


def test_full_config_resolves_variables_regions_and_defaults() -> None:
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
            [
                "lwa: required section is missing",
                "accounts: must name at least 1 (or configure account_store:)",
            ],
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


def test_clients_and_audit_log(tmp_path: Path) -> None:
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


MINIMAL = """
lwa: {client_id: id, client_secret: secret}
accounts: {main: {refresh_token: Atzr|x, region: na}}
"""


@pytest.mark.parametrize(
    ("state", "problem"),
    [
        ("{url: 'redis://r:6379/0', key: c2hvcnQ=}", "state.key: must decode to 32 bytes, not 5"),
        ("{url: 'redis://r:6379/0', key: '%%%'}", "state.key: is not base64"),
        (
            "{url: 'redis://:hunter2@r:6379/0', key: " + "A" * 43 + "=}",
            "state.url: must look like redis://host:6379/0, rediss://host:6380/0 or unix:///path",
        ),
        ("{url: 'http://r:6379', key: " + "A" * 43 + "=}", "state.url: must look like"),
        ("{url: 'redis://r:6379/0'}", "state.key: required (or key_file)"),
        (
            "{url: 'redis://r', key: " + "A" * 43 + "=, cluster: true, sentinel_service: m}",
            "state: set cluster or sentinel_service, not both",
        ),
        ("{url: 'redis://r', key: " + "A" * 43 + "=, local_share: 0}", "state.local_share"),
    ],
)
def test_a_state_section_that_cannot_work_is_one_line_naming_the_key(
    state: str, problem: str
) -> None:
    (found,) = problems(MINIMAL + f"state: {state}\n")
    assert found.startswith(problem)
    assert "hunter2" not in found  # a password in a URL is refused, and never repeated


def test_a_state_section_reads_with_its_defaults() -> None:
    config = parse_config(
        yaml.safe_load(MINIMAL + "state: {url: 'redis://r:6379/0', key: " + "A" * 43 + "=}"), ENV
    )
    assert config.state is not None
    assert (config.state.local_share, config.state.timeout_s, config.state.lock_timeout_s) == (
        0.5,
        0.5,
        10.0,
    )
    assert config.state.namespace is None and config.state.password is None
    assert parse_config(yaml.safe_load(MINIMAL), ENV).state is None  # memory: the default


def test_a_selling_partner_id_names_one_account_only() -> None:
    text = """
lwa: {client_id: a, client_secret: b}
accounts:
  main: {refresh_token: r, region: na, selling_partner_id: A1SELLER}
  again: {refresh_token: s, region: eu, selling_partner_id: A1SELLER}
  self: {refresh_token: t, region: fe, selling_partner_id: self}
  shadow: {refresh_token: u, region: fe, selling_partner_id: main}
  odd: {refresh_token: v, region: fe, selling_partner_id: "A1 SELLER"}
"""
    assert problems(text) == [
        "accounts.odd.selling_partner_id: must look like A2EXAMPLESELLER (letters, digits, _ . -)",
        "accounts.again.selling_partner_id: is the same as account main's",
        "accounts.shadow.selling_partner_id: is the name of account main",
    ]


STORE_KEY = "A" * 43 + "="


@pytest.mark.parametrize(
    ("store", "problem"),
    [
        ("{url: 'sqlite:///a.db', key: c2hvcnQ=}", "account_store.key: must decode to 32 bytes"),
        ("{url: 'sqlite:///a.db'}", "account_store.key: required (or key_file)"),
        (
            "{url: 'postgresql://spproxy:hunter2@db/spproxy', key: " + STORE_KEY + "}",
            "account_store.url: must look like sqlite:///accounts.db or postgresql://",
        ),
        ("{url: 'postgresql://db', key: " + STORE_KEY + "}", "account_store.url: must look like"),
        ("{url: 'mysql://db/x', key: " + STORE_KEY + "}", "account_store.url: must look like"),
        (
            "{url: 'sqlite:///a.db', key: " + STORE_KEY + ", password: p}",
            "account_store.password: is for PostgreSQL, not a SQLite file",
        ),
        ("{url: 'sqlite:///a.db', key: " + STORE_KEY + ", poll_s: 0}", "account_store.poll_s"),
    ],
)
def test_an_account_store_that_cannot_work_is_one_line_naming_the_key(
    store: str, problem: str
) -> None:
    (found,) = problems(MINIMAL + f"account_store: {store}\n")
    assert found.startswith(problem)
    assert "hunter2" not in found


def test_an_account_store_reads_with_its_file_beside_the_config(tmp_path: Path) -> None:
    def store_url(url: str) -> str:
        text = MINIMAL + f"account_store: {{url: '{url}', key: {STORE_KEY}}}"
        config = parse_config(yaml.safe_load(text), ENV, base_dir=tmp_path)
        assert config.account_store is not None
        assert (config.account_store.poll_s, config.account_store.timeout_s) == (1.0, 5.0)
        return config.account_store.url

    assert store_url("sqlite:///state/accounts.db") == f"sqlite:///{tmp_path}/state/accounts.db"
    assert store_url("sqlite:////var/lib/spproxy/a.db") == "sqlite:////var/lib/spproxy/a.db"
    postgres = "postgresql://spproxy@db:5432/spproxy?ssl=verify-full"
    assert store_url(postgres) == postgres
    assert parse_config(yaml.safe_load(MINIMAL), ENV).account_store is None  # none: the default


def test_with_an_account_store_the_file_may_name_no_account_and_grant_stored_ones() -> None:
    text = f"""
lwa: {{client_id: id, client_secret: secret}}
account_store: {{url: 'sqlite:///a.db', key: {STORE_KEY}}}
clients: {{onboarded: {{key: a-client-key-0123456789, accounts: [acme]}}}}
"""
    config = parse_config(yaml.safe_load(text), ENV)
    assert dict(config.accounts) == {} and config.clients["onboarded"].accounts == ("acme",)
    no_store = text.replace(f"account_store: {{url: 'sqlite:///a.db', key: {STORE_KEY}}}\n", "")
    assert problems(no_store) == [
        "accounts: must name at least 1 (or configure account_store:)",
        "clients.onboarded.accounts: names no configured account: acme",
    ]
