"""Configuration: a YAML file or, for a single account, environment variables alone.

Every key is declared once, below, as a field of a frozen dataclass: its name, type, default,
bounds, choices and secrecy in `setting(...)`, its meaning in `doc`. The reader, the unknown-key
check and the README's reference table (`reference()`) all follow from those declarations.

Every problem is reported as one line naming the key (and the missing variable or file), all at
once, so an operator fixes a config in one pass. Secrets are wrapped in `Secret`, whose repr is
masked, so a config object can never print one by accident; each secret key also has a `*_file`
variant that reads it from a file (Docker and Kubernetes secrets).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeGuard, Union, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

import yaml

DEFAULT_CONFIG_FILE = "spproxy.yaml"
DEFAULT_LWA_ENDPOINT = "https://api.amazon.com/auth/o2/token"
DEFAULT_STS_ENDPOINT = "https://sts.amazonaws.com"
DATA_ELEMENTS = ("buyerInfo", "shippingAddress", "buyerTaxInformation")
RESTRICTED_FALLBACKS = ("error", "lwa")
# Amazon's format: "AppName/Version (Language=...; Platform=...)"; the app name may contain
# spaces ("My Selling Tool/2.0 (Language=Java/1.8.0.221; Platform=Windows/10)").
USER_AGENT_SHAPE = re.compile(r"[^/()]*[^\s/()]/[^\s/]+ \(Language=[^)]*\).*", re.DOTALL)
ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
ROLE_ARN = re.compile(r"arn:aws[\w-]*:iam::\d{12}:role/.+")
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
UNSET = object()  # what a value with an unset ${VAR} expands to (already reported)
REQUIRED: Any = dataclasses.MISSING
# libyaml's loader when PyYAML has it: ten times faster than the pure-Python one (10,000
# accounts: 0.6 s instead of 5.4 s).
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Region:
    endpoint: str
    sandbox_endpoint: str
    aws_region: str  # SigV4 signing region


# Source: SP-API docs, "SP-API endpoints".
REGIONS: Mapping[str, Region] = MappingProxyType(
    {
        "na": Region(
            "https://sellingpartnerapi-na.amazon.com",
            "https://sandbox.sellingpartnerapi-na.amazon.com",
            "us-east-1",
        ),
        "eu": Region(
            "https://sellingpartnerapi-eu.amazon.com",
            "https://sandbox.sellingpartnerapi-eu.amazon.com",
            "eu-west-1",
        ),
        "fe": Region(
            "https://sellingpartnerapi-fe.amazon.com",
            "https://sandbox.sellingpartnerapi-fe.amazon.com",
            "us-west-2",
        ),
    }
)


class Secret:
    """A secret string that does not show itself in repr, str or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def setting(
    default: Any = REQUIRED,
    doc: str = "",
    *,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] | None = None,
    url: str | None = None,  # "host": scheme://host[:port]; "any": a path may follow
    pattern: tuple[re.Pattern[str], str] | None = None,  # (regex, what it must look like)
    secret: bool = False,  # also readable from NAME_file; str fields only (client ids)
    path: bool = False,  # a file: relative to the config file's folder
    derived: bool = False,  # not a key: the reader fills it in
    factory: Any = None,  # a default made fresh for each object (a mapping)
) -> Any:
    """A config key: its default and rules, and what it means (for the reference table)."""
    rules = {
        "doc": doc,
        "low": low,
        "high": high,
        "choices": choices,
        "url": url,
        "pattern": pattern,
        "secret": secret,
        "path": path,
        "derived": derived,
    }
    if factory is not None:
        return field(default_factory=factory, metadata=rules)
    return field(default=default, metadata=rules)


@dataclass(frozen=True)
class Listen:
    host: str = setting("127.0.0.1", "address to listen on; 0.0.0.0 only inside a container")
    port: int = setting(8000, "port; 0 takes a free one and prints it", low=0, high=65535)
    header_timeout_s: float = setting(
        10.0, "a request's headers must be in this long after its first byte, else 408", low=0.1
    )
    body_timeout_s: float = setting(
        60.0, "a request's whole body must be in this long after its headers, else 408", low=0.1
    )
    tls_cert_file: str | None = setting(
        None, "PEM certificate (chain) to serve HTTPS with; with tls_key_file", path=True
    )
    tls_key_file: str | None = setting(None, "PEM private key of tls_cert_file", path=True)
    tls_client_ca_file: str | None = setting(
        None, "PEM CA(s): clients must present a certificate it signed (mutual TLS)", path=True
    )


@dataclass(frozen=True)
class LwaConfig:
    client_id: str = setting(doc="your app's LWA client id", secret=True)
    client_secret: Secret = setting(doc="your app's LWA client secret (rotate every 180 days)")
    endpoint: str = setting(
        DEFAULT_LWA_ENDPOINT, "LWA's token URL (tests, the emulator)", url="any"
    )


@dataclass(frozen=True)
class AwsConfig:
    access_key_id: Secret = setting(doc="AWS access key id: SigV4 signing on")
    secret_access_key: Secret = setting(doc="its secret")
    session_token: Secret | None = setting(None, "for temporary keys")
    role_arn: str | None = setting(
        None,
        "an IAM role to assume through STS, refreshed before it expires",
        pattern=(ROLE_ARN, "arn:aws:iam::123456789012:role/NAME"),
    )
    sts_endpoint: str = setting(DEFAULT_STS_ENDPOINT, "STS's URL", url="host")
    sts_region: str = setting("us-east-1", "the STS endpoint's signing region")


@dataclass(frozen=True)
class Account:
    name: str = setting(derived=True)
    refresh_token: Secret = setting(doc="the seller's LWA refresh token")
    region: str = setting(doc="the seller's SP-API region", choices=tuple(REGIONS))
    endpoint: str = setting(
        "", "SP-API endpoint; default: the region's (sandbox or not)", url="host"
    )
    aws_region: str = setting("", derived=True)  # SigV4 signing region, from the region
    sandbox: bool = setting(
        False,
        "Amazon's sandbox: its hosts, its plan (5/s burst 15), restricted calls with the LWA "
        "token (sandbox-lwa)",
    )
    data_elements: tuple[str, ...] = setting(
        ("buyerInfo", "shippingAddress"),
        "the PII Orders getOrders/getOrder/getOrderItems release",
        choices=DATA_ELEMENTS,
    )
    restricted_fallback: str = setting(
        "error",
        "a refused RDT: error (502), or lwa (the LWA token, no PII)",
        choices=RESTRICTED_FALLBACKS,
    )


@dataclass(frozen=True)
class UpstreamConfig:
    timeout_s: float = setting(
        30.0, "connecting, and each wait for Amazon's bytes; then 504", low=0.001
    )
    max_body_bytes: int = setting(10 * 1024 * 1024, "larger request bodies get 413", low=0)
    pacing: bool = setting(True, "wait for each operation's rate-limit slot instead of a 429")
    queue_timeout_s: float = setting(30.0, "longest wait for a slot; then a proxy-made 429", low=0)
    retries: int = setting(
        3, "retries after the first attempt (429, 5xx, connection)", low=0, high=10
    )
    backoff_s: float = setting(0.5, "first retry delay; doubles each time, with jitter", low=0)
    max_backoff_s: float = setting(20.0, "longest delay; a longer Retry-After is relayed", low=0)
    proxy: str | None = setting(
        None,
        "outbound HTTP(S) proxy for LWA, Tokens, STS and SP-API, http://[user:pass@]host:port",
        url="host",
    )
    trust_env: bool = setting(
        False, "use HTTP(S)_PROXY / NO_PROXY from the environment (otherwise ignored)"
    )


@dataclass(frozen=True)
class Client:
    """A local client of spproxy, known by its key, and what it may do."""

    name: str = setting(derived=True)
    key: Secret = setting(doc="the client's key, 16 characters or more, sent as x-spproxy-key")
    accounts: tuple[str, ...] | None = setting(None, "accounts it may act for (default: all)")
    operations: tuple[str, ...] = setting(("*",), "operation-name globs it may call")
    pii: bool = setting(False, "may it receive buyer PII (and call the Tokens API)")
    data_elements: tuple[str, ...] | None = setting(
        None, "narrows the PII of Orders operations (default: the account's)", choices=DATA_ELEMENTS
    )


@dataclass(frozen=True)
class AuditLogConfig:
    path: str = setting(
        doc="file for one JSON line per restricted call (a string alone: this)", path=True
    )
    rotate: str = setting("daily", "when files rotate (UTC)", choices=("daily", "hourly"))
    keep_days: int = setting(90, "days of files kept (Amazon: 90)", low=1)


@dataclass(frozen=True)
class Limits:
    """How many entries each structure keyed by something clients choose may hold."""

    document_rdts: int = setting(1_000, "RDTs minted for one report document each", low=1)
    report_documents: int = setting(100_000, "report document types learned (24 h)", low=1)
    issued_tokens: int = setting(100_000, "LWA placeholders and client-minted RDTs (1 h)", low=1)


@dataclass(frozen=True, kw_only=True)
class Config:
    listen: Listen = setting(Listen())
    lwa: LwaConfig = setting(doc="your app's Login with Amazon credentials")
    aws: AwsConfig | None = setting(None, "optional: SigV4-sign every call")
    accounts: Mapping[str, Account] = setting(doc="one per seller; the first is the default", low=1)
    upstream: UpstreamConfig = setting(UpstreamConfig())
    user_agent: str | None = setting(
        None,
        "replaces spproxy's own; Amazon's format, 500 characters at most",
        high=500,  # Amazon's limit
        pattern=(USER_AGENT_SHAPE, "'AppName/1.0 (Language=Python/3.11)' (Amazon's format)"),
    )
    clients: Mapping[str, Client] = setting(
        doc="need-to-know: keys and grants (none: open to the port)",
        factory=lambda: MappingProxyType({}),
    )
    audit_log: AuditLogConfig | None = setting(None, "optional: the audit log")
    limits: Limits = setting(Limits())
    readiness: str = setting(
        "default",
        "when /_spproxy/ready says 200: the default account holds a token, or all, or any",
        choices=("default", "all", "any"),
    )
    source: str = setting("<memory>", derived=True)  # where it came from, for messages

    @property
    def default_account(self) -> Account:
        return next(iter(self.accounts.values()))


def redact_url(url: str) -> str:
    """A URL as status and logs show it: any user or password in it masked."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()


def is_loopback(address: str | None) -> bool:
    """A listen host or a peer address that only this machine can use."""
    if address == "localhost":
        return True
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class ConfigError(Exception):
    """An unusable configuration; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# --- loading ----------------------------------------------------------------------------------


def load_config(path: str | None, env: Mapping[str, str]) -> Config:
    """Read `path`, else $SPPROXY_CONFIG, else ./spproxy.yaml, else the SPAPI_* variables."""
    chosen = path or env.get("SPPROXY_CONFIG")
    if chosen is None and Path(DEFAULT_CONFIG_FILE).is_file():
        chosen = DEFAULT_CONFIG_FILE
    if chosen is None:
        return parse_config(_raw_from_env(env), env, source="environment")
    try:
        raw = yaml.load(Path(chosen).read_text(), Loader=YAML_LOADER)  # noqa: S506 - a safe loader
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


def parse_config(
    raw: object, env: Mapping[str, str], *, source: str = "<memory>", base_dir: Path = Path()
) -> Config:
    """Validate a parsed YAML document; raise ConfigError listing every problem."""
    reader = _Reader(env, base_dir)
    values = reader.section(Config, raw if raw is not None else {}, "", partial=True)
    if values is not None:
        reader.check_config(values)
    if reader.problems or values is None:
        raise ConfigError(reader.problems or ["the configuration is empty"])
    return Config(**values, source=source)


# --- the reader, driven by the declarations ---------------------------------------------------


class _Reader:
    """Walks the raw document along the dataclasses, expanding ${VAR}s and collecting one line
    per problem. A section or key with a problem reads as None; the caller stops at the end."""

    def __init__(self, env: Mapping[str, str], base_dir: Path) -> None:
        self.env = env
        self.base_dir = base_dir
        self.problems: list[str] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{key}: {message}")

    def section(
        self, cls: type[Any], raw: object, key: str, *, partial: bool = False
    ) -> dict[str, Any] | None:
        """The constructor arguments of `cls` from a mapping; None after a problem, unless
        `partial` (what could be read, for checks across keys)."""
        if not isinstance(raw, dict):
            self.problem(key or "config", "must be a mapping of keys to values")
            return None
        fields = [f for f in dataclasses.fields(cls) if not f.metadata.get("derived")]
        allowed = {f.name for f in fields}
        files = {f"{f.name}_file" for f in fields if _is_secret(f, cls)}
        for name in raw:
            if name not in allowed and name not in files:
                where = f"{key}.{name}" if key else str(name)
                self.problem(where, f"unknown key (expected one of {', '.join(sorted(allowed))})")
        hints = _hints(cls)
        values: dict[str, Any] = {}
        complete = True
        for spec in fields:
            where = f"{key}.{spec.name}" if key else spec.name
            value = self.value(spec, hints[spec.name], raw, where, cls)
            if value is UNSET:
                complete = False
            elif value is not dataclasses.MISSING:
                values[spec.name] = value
        return values if complete or partial else None

    def value(
        self, spec: dataclasses.Field[Any], hint: Any, raw: dict[str, Any], key: str, cls: type
    ) -> Any:
        """The field's value; MISSING to take the default; UNSET after a problem."""
        name = spec.name
        required = _required(spec)
        if _is_secret(spec, cls):
            secret = self.secret(raw, name, key, required)
            if secret is UNSET or secret is None:
                return UNSET if (secret is UNSET or required) else dataclasses.MISSING
            return secret.reveal() if _strip_optional(hint) is str else secret
        if raw.get(name) is None:
            if required:
                choices = spec.metadata.get("choices")
                hint_text = f" (one of {', '.join(choices)})" if choices else ""
                kind = _strip_optional(hint)
                section = _is_section(kind) or get_origin(kind) is Mapping
                self.problem(
                    key, "required section is missing" if section else f"required{hint_text}"
                )
                return UNSET
            return dataclasses.MISSING
        return self.typed(spec, _strip_optional(hint), raw[name], key)

    def typed(self, spec: dataclasses.Field[Any], kind: Any, raw: object, key: str) -> Any:
        rules = spec.metadata
        if _is_section(kind):
            if kind is AuditLogConfig and isinstance(raw, str):
                raw = {"path": raw}  # `audit_log: PATH` alone
            values = self.section(kind, raw, key)
            if values is None:
                return UNSET
            return kind(**values)
        if get_origin(kind) is Mapping:
            return self.named(get_args(kind)[1], raw, key, rules.get("low"))
        if get_origin(kind) is tuple:
            return self.names(raw, key, rules.get("choices"))
        expanded = self.expand(raw, key)
        if expanded is UNSET:
            return UNSET
        if kind is bool:
            return self.boolean(expanded, key)
        if kind in (int, float):
            return self.number(expanded, key, kind, rules.get("low"), rules.get("high"))
        return self.text(expanded, key, rules)

    def named(self, cls: type[Any], raw: object, key: str, fewest: float | None) -> Any:
        """accounts: / clients: — a mapping of names to sections of `cls`."""
        if not isinstance(raw, dict):
            self.problem(key, "must be a mapping of keys to values")
            return UNSET
        if fewest is not None and len(raw) < fewest:
            self.problem(key, f"must name at least {fewest:g}")
            return UNSET
        entries = {}
        for name, body in raw.items():
            where = f"{key}.{name}"
            if not isinstance(name, str) or not ACCOUNT_NAME.match(name):
                self.problem(where, "names may use letters, digits, '_', '.' and '-'")
                continue
            if body is None:
                self.problem(where, "required section is missing")
                continue
            values = self.section(cls, body, where)
            if values is not None and cls is Account:
                values = self.account(values, where)
            if values is not None:
                entries[name] = cls(name=name, **values)
        # The entries read, even if some could not be: their problems are reported already,
        # and checks across entries (clients' keys, grants) still see the good ones.
        return MappingProxyType(entries)

    def account(self, values: dict[str, Any], key: str) -> dict[str, Any] | None:
        """The endpoint and signing region that follow from the region (and sandbox)."""
        region = REGIONS[values["region"]]
        if not values.get("endpoint"):
            sandbox = values.get("sandbox", False)
            values["endpoint"] = region.sandbox_endpoint if sandbox else region.endpoint
        values["aws_region"] = region.aws_region
        return values

    def check_config(self, values: dict[str, Any]) -> None:
        """What no single key can say: TLS files in pairs, clients' keys and grants."""
        listen = values.get("listen")
        if listen is not None and (listen.tls_cert_file is None) != (listen.tls_key_file is None):
            self.problem("listen", "set tls_cert_file and tls_key_file together")
        if listen is not None and listen.tls_client_ca_file and not listen.tls_cert_file:
            self.problem("listen.tls_client_ca_file", "needs tls_cert_file and tls_key_file")
        accounts = values.get("accounts", {})
        keys: list[Secret] = []
        for client in values.get("clients", {}).values():
            key = f"clients.{client.name}"
            if len(client.key.reveal()) < 16:
                self.problem(f"{key}.key", "must be at least 16 characters (use a random one)")
            if client.key in keys:
                self.problem(f"{key}.key", "is the same as another client's key")
            keys.append(client.key)
            for account in client.accounts or ():
                if account not in accounts:
                    self.problem(f"{key}.accounts", f"names no configured account: {account}")

    # values

    def expand(self, value: object, key: str) -> object:
        """Replace ${VAR} and ${VAR:-default} in a string value from the environment.

        A variable that is not set is reported here, and `UNSET` returned, so that callers
        do not report the same key again.
        """
        if not isinstance(value, str):
            return value
        missing = []

        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in self.env:
                return self.env[name]
            if default is None:
                missing.append(name)
            return default or ""

        expanded = VARIABLE.sub(substitute, value)
        for name in missing:
            self.problem(key, f"environment variable {name} is not set")
        return UNSET if missing else expanded

    def text(self, value: object, key: str, rules: Mapping[str, Any]) -> Any:
        if not isinstance(value, str) or not value:
            self.problem(key, "must be a non-empty string")
            return UNSET
        longest = rules.get("high")
        if longest is not None and len(value) > longest:
            self.problem(key, f"must be at most {longest:g} characters")
            return UNSET
        choices = rules.get("choices")
        if choices and value not in choices:
            self.problem(key, f"must be one of {', '.join(choices)}, got {value!r}")
            return UNSET
        pattern = rules.get("pattern")
        if pattern and not pattern[0].fullmatch(value):
            self.problem(key, f"must look like {pattern[1]}")
            return UNSET
        if rules.get("url"):
            return self.url(value, key, path_allowed=rules["url"] == "any")
        if rules.get("path"):
            return str(self.base_dir / value)
        return value

    def url(self, value: str, key: str, *, path_allowed: bool) -> Any:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.problem(key, f"must be an http(s) URL, got {value!r}")
            return UNSET
        if path_allowed:
            return value
        if parts.path not in ("", "/"):
            self.problem(key, "must be scheme://host[:port] without a path")
            return UNSET
        return f"{parts.scheme}://{parts.netloc}"

    def secret(self, raw: dict[str, Any], name: str, key: str, required: bool) -> Secret | Any:
        """`name:` holds the secret itself, `name_file:` a file holding it (Docker secrets)."""
        file_key = f"{key}_file"
        if name in raw and f"{name}_file" in raw:
            self.problem(key, f"set {name} or {name}_file, not both")
            return UNSET
        if raw.get(f"{name}_file") is not None:
            path = self.expand(raw[f"{name}_file"], file_key)
            if path is UNSET:
                return UNSET
            if not isinstance(path, str) or not path:
                self.problem(file_key, "must be a non-empty string")
                return UNSET
            try:
                content = (self.base_dir / path).read_text().strip()
            except OSError as exc:
                self.problem(file_key, f"cannot read {path}: {exc.strerror or exc}")
                return UNSET
            if not content:
                self.problem(file_key, f"{path} is empty")
                return UNSET
            return Secret(content)
        if raw.get(name) is None:
            if required:
                self.problem(key, f"required (or {name}_file)")
                return UNSET
            return None
        value = self.expand(raw[name], key)
        if value is UNSET:
            return UNSET
        if not isinstance(value, str) or not value:
            self.problem(key, "must be a non-empty string")
            return UNSET
        return Secret(value)

    def number(
        self, value: object, key: str, kind: type, low: float | None, high: float | None
    ) -> Any:
        try:
            if isinstance(value, bool):
                raise ValueError
            number = kind(str(value))
        except ValueError:
            self.problem(key, f"must be a number, got {value!r}")
            return UNSET
        if (low is not None and number < low) or (high is not None and number > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            self.problem(key, f"must be {bound}")
            return UNSET
        return number

    def boolean(self, value: object, key: str) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        self.problem(key, "must be true or false")
        return UNSET

    def names(self, value: object, key: str, choices: tuple[str, ...] | None) -> Any:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            allowed = f" of {', '.join(choices)}" if choices else " of names"
            self.problem(key, f"must be a list{allowed}")
            return UNSET
        unknown = [v for v in value if choices and v not in choices]
        if unknown:
            self.problem(key, f"unknown {', '.join(unknown)} (allowed: {', '.join(choices or ())})")
            return UNSET
        return tuple(value)


def _is_section(kind: Any) -> TypeGuard[type[Any]]:
    return isinstance(kind, type) and dataclasses.is_dataclass(kind)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The dataclass's field types, resolved once (a file may hold thousands of accounts)."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = get_type_hints(cls)
    return hints


def _required(spec: dataclasses.Field[Any]) -> bool:
    return spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING


def _is_secret(spec: dataclasses.Field[Any], cls: type) -> bool:
    return bool(spec.metadata.get("secret")) or _strip_optional(_hints(cls)[spec.name]) is Secret


def _strip_optional(hint: Any) -> Any:
    """`X | None` -> X."""
    if get_origin(hint) in (Union, types.UnionType):
        args = [arg for arg in get_args(hint) if arg is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint


# --- the reference table (README) -------------------------------------------------------------


def reference() -> str:
    """The README's table of every key, from the declarations above."""
    rows = ["| key | type | default | what |", "|---|---|---|---|"]
    for key, spec, kind, cls in _walk(Config, ""):
        doc = spec.metadata.get("doc", "")
        rows.append(f"| `{key}` | {_type_name(spec, kind, cls)} | {_default(spec)} | {doc} |")
    return "\n".join(rows) + "\n"


def declared_keys() -> list[str]:
    """Every key a file may set (`accounts.NAME.region`, ...), in declaration order."""
    return [key for key, *_ in _walk(Config, "")]


_NAMED = {"accounts": "NAME", "clients": "NAME"}


def _walk(
    cls: type[Any], prefix: str
) -> Iterator[tuple[str, dataclasses.Field[Any], Any, type[Any]]]:
    hints = _hints(cls)
    for spec in dataclasses.fields(cls):
        if spec.metadata.get("derived"):
            continue
        key = f"{prefix}{spec.name}"
        kind = _strip_optional(hints[spec.name])
        if _is_section(kind):
            yield from _walk(kind, f"{key}.")
        elif get_origin(kind) is Mapping:
            yield from _walk(get_args(kind)[1], f"{key}.{_NAMED[spec.name]}.")
        else:
            yield key, spec, kind, cls


def _type_name(spec: dataclasses.Field[Any], kind: Any, cls: type) -> str:
    rules = spec.metadata
    if _is_secret(spec, cls):
        what = "string" if kind is str else "secret"  # a client id may come from a file too
        return f"{what} (or `{spec.name}_file`)"
    if rules.get("choices") and get_origin(kind) is tuple:
        return "list of " + " \\| ".join(rules["choices"])
    if rules.get("choices"):
        return " \\| ".join(rules["choices"])
    if get_origin(kind) is tuple:
        return "list of strings"
    if rules.get("url"):
        return "URL"
    names = {
        bool: "true \\| false",
        int: "integer",
        float: "seconds" if spec.name.endswith("_s") else "number",
    }
    bounds = ""
    if rules.get("low") is not None:
        bounds = (
            f" ≥ {rules['low']:g}"
            if rules.get("high") is None
            else f" {rules['low']:g}-{rules['high']:g}"
        )
    return names.get(kind, "string") + bounds


def _default(spec: dataclasses.Field[Any]) -> str:
    if _required(spec):
        return "required"
    value = spec.default
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return "`[" + ", ".join(value) + "]`"
    return f"`{value}`"
