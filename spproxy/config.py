"""Configuration: a YAML file or, for a single account, environment variables alone.

Every problem is reported as one line naming the key (and the missing variable or file), all at
once, so an operator fixes a config in one pass. Secrets are wrapped in `Secret`, whose repr is
masked, so a config object can never print one by accident.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import yaml

DEFAULT_CONFIG_FILE = "spproxy.yaml"
DEFAULT_LWA_ENDPOINT = "https://api.amazon.com/auth/o2/token"
DEFAULT_STS_ENDPOINT = "https://sts.amazonaws.com"
DATA_ELEMENTS = ("buyerInfo", "shippingAddress", "buyerTaxInformation")
RESTRICTED_FALLBACKS = ("error", "lwa")
USER_AGENT_SHAPE = re.compile(r"^[^\s/]+/[^\s/]+ \(Language=[^)]*\)")
ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
UNSET = object()  # what a value with an unset ${VAR} expands to (already reported)
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


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


@dataclass(frozen=True)
class Listen:
    host: str = "127.0.0.1"
    port: int = 8000
    header_timeout_s: float = 10.0  # a request's headers, from its first byte (then 408)
    body_timeout_s: float = 60.0  # a request's whole body, once its headers are in (then 408)


@dataclass(frozen=True)
class LwaConfig:
    client_id: str
    client_secret: Secret
    endpoint: str = DEFAULT_LWA_ENDPOINT


@dataclass(frozen=True)
class AwsConfig:
    access_key_id: Secret
    secret_access_key: Secret
    session_token: Secret | None = None
    role_arn: str | None = None
    sts_endpoint: str = DEFAULT_STS_ENDPOINT
    sts_region: str = "us-east-1"


@dataclass(frozen=True)
class Account:
    name: str
    refresh_token: Secret
    region: str
    endpoint: str  # scheme://host[:port], no path
    aws_region: str
    sandbox: bool = False
    data_elements: tuple[str, ...] = ("buyerInfo", "shippingAddress")
    restricted_fallback: str = "error"  # a refused RDT mint: "error" (502) or "lwa" (no PII)


@dataclass(frozen=True)
class UpstreamConfig:
    timeout_s: float = 30.0
    max_body_bytes: int = 10 * 1024 * 1024
    pacing: bool = True  # wait for each operation's rate-limit slot
    queue_timeout_s: float = 30.0  # longest wait for a slot; beyond: a proxy-made 429
    retries: int = 3  # retries after the first attempt (429, 5xx, connection errors)
    backoff_s: float = 0.5  # first retry delay; doubles each time, with jitter
    max_backoff_s: float = 20.0  # longest delay, Retry-After included


@dataclass(frozen=True)
class Client:
    """A local client of spproxy, known by its key, and what it may do."""

    name: str
    key: Secret
    accounts: tuple[str, ...] | None = None  # None: every account
    operations: tuple[str, ...] = ("*",)  # operation-name globs
    pii: bool = False  # may it receive buyer PII at all?
    data_elements: tuple[str, ...] | None = None  # narrows Orders PII; None: the account's


@dataclass(frozen=True)
class AuditLogConfig:
    path: str
    rotate: str = "daily"  # daily | hourly
    keep_days: int = 90  # Amazon's Data Protection Policy: keep access logs 90 days


@dataclass(frozen=True)
class Limits:
    """How many entries each structure keyed by something clients choose may hold."""

    document_rdts: int = 1_000  # RDTs for one report document each (least recently used go)
    report_documents: int = 100_000  # report document id -> restricted type, learned (24 h)
    issued_tokens: int = 100_000  # LWA placeholders and client-minted RDTs handed out (1 h)


@dataclass(frozen=True)
class Config:
    lwa: LwaConfig
    accounts: Mapping[str, Account]  # in file order; the first is the default
    listen: Listen = Listen()
    aws: AwsConfig | None = None
    upstream: UpstreamConfig = UpstreamConfig()
    user_agent: str | None = None
    source: str = "<memory>"  # where it came from, for messages
    clients: Mapping[str, Client] = field(
        default_factory=lambda: MappingProxyType({})
    )  # empty: open
    audit_log: AuditLogConfig | None = None
    limits: Limits = Limits()

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


def load_config(path: str | None, env: Mapping[str, str]) -> Config:
    """Read `path`, else $SPPROXY_CONFIG, else ./spproxy.yaml, else the SPAPI_* variables."""
    chosen = path or env.get("SPPROXY_CONFIG")
    if chosen is None and Path(DEFAULT_CONFIG_FILE).is_file():
        chosen = DEFAULT_CONFIG_FILE
    if chosen is None:
        return parse_config(_raw_from_env(env), env, source="environment")
    try:
        raw = yaml.safe_load(Path(chosen).read_text())
    except OSError as exc:
        raise ConfigError([f"config file {chosen}: {exc.strerror or exc}"]) from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where is not None else ""
        raise ConfigError([f"config file {chosen}:{line} is not valid YAML"]) from None
    return parse_config(raw, env, source=chosen, base_dir=Path(chosen).parent)


def _raw_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The single-account config that the SPAPI_* / AWS_* variables describe."""
    if not any(name in env for name in ("SPAPI_CLIENT_ID", "SPAPI_REFRESH_TOKEN")):
        raise ConfigError(
            [
                "no configuration: pass --config PATH, set SPPROXY_CONFIG, create ./spproxy.yaml, "
                "or set SPAPI_CLIENT_ID, SPAPI_CLIENT_SECRET, SPAPI_REFRESH_TOKEN and SPAPI_REGION"
            ]
        )
    account: dict[str, Any] = {
        "refresh_token": "${SPAPI_REFRESH_TOKEN}",
        "region": "${SPAPI_REGION}",
        "sandbox": "${SPAPI_SANDBOX:-false}",
    }
    if "SPAPI_ENDPOINT" in env:
        account["endpoint"] = "${SPAPI_ENDPOINT}"
    raw: dict[str, Any] = {
        "lwa": {
            "client_id": "${SPAPI_CLIENT_ID}",
            "client_secret": "${SPAPI_CLIENT_SECRET}",
            "endpoint": "${SPAPI_LWA_ENDPOINT:-" + DEFAULT_LWA_ENDPOINT + "}",
        },
        "accounts": {"default": account},
    }
    if "AWS_ACCESS_KEY_ID" in env or "AWS_SECRET_ACCESS_KEY" in env:
        aws = {
            "access_key_id": "${AWS_ACCESS_KEY_ID}",
            "secret_access_key": "${AWS_SECRET_ACCESS_KEY}",
        }
        for key, variable in (("session_token", "AWS_SESSION_TOKEN"), ("role_arn", "AWS_ROLE_ARN")):
            if variable in env:
                aws[key] = "${" + variable + "}"
        raw["aws"] = aws
    return raw


def parse_config(
    raw: object, env: Mapping[str, str], *, source: str = "<memory>", base_dir: Path = Path()
) -> Config:
    """Validate a parsed YAML document; raise ConfigError listing every problem."""
    reader = _Reader(env, base_dir)
    config = reader.config(raw, source)
    if reader.problems or config is None:
        raise ConfigError(reader.problems or ["the configuration is empty"])
    return config


T = TypeVar("T")


class _Reader:
    """Walks the raw document, expanding ${VAR}s and collecting one line per problem."""

    def __init__(self, env: Mapping[str, str], base_dir: Path) -> None:
        self.env = env
        self.base_dir = base_dir
        self.problems: list[str] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{key}: {message}")

    def config(self, raw: object, source: str) -> Config | None:
        doc = self.section(raw, "", required=True)
        if doc is None:
            return None
        self.known_keys(
            doc,
            "",
            {
                "listen",
                "lwa",
                "aws",
                "accounts",
                "upstream",
                "user_agent",
                "clients",
                "audit_log",
                "limits",
            },
        )
        listen = self.listen(self.section(doc.get("listen"), "listen"))
        lwa = self.lwa(self.section(doc.get("lwa"), "lwa", required=True))
        aws = self.aws(self.section(doc.get("aws"), "aws"))
        accounts = self.accounts(self.section(doc.get("accounts"), "accounts", required=True))
        upstream = self.upstream(self.section(doc.get("upstream"), "upstream"))
        user_agent = self.user_agent(doc.get("user_agent"))
        clients = self.clients(self.section(doc.get("clients"), "clients"), accounts or {})
        audit_log = self.audit_log(doc.get("audit_log"))
        limits = self.limits(self.section(doc.get("limits"), "limits"))
        if lwa is None or accounts is None:
            return None
        return Config(
            lwa, accounts, listen, aws, upstream, user_agent, source, clients, audit_log, limits
        )

    # sections

    def listen(self, raw: dict[str, Any] | None) -> Listen:
        raw = raw or {}
        self.known_keys(raw, "listen", set(Listen.__dataclass_fields__))
        return Listen(
            host=self.string(raw, "listen", "host", default=Listen.host),
            port=self.number(raw, "listen", "port", int, default=Listen.port, low=1, high=65535),
            header_timeout_s=self.number(
                raw, "listen", "header_timeout_s", float, default=Listen.header_timeout_s, low=0.1
            ),
            body_timeout_s=self.number(
                raw, "listen", "body_timeout_s", float, default=Listen.body_timeout_s, low=0.1
            ),
        )

    def limits(self, raw: dict[str, Any] | None) -> Limits:
        raw = raw or {}
        self.known_keys(raw, "limits", set(Limits.__dataclass_fields__))
        defaults = Limits()
        return Limits(
            **{
                name: self.number(raw, "limits", name, int, default=getattr(defaults, name), low=1)
                for name in Limits.__dataclass_fields__
            }
        )

    def lwa(self, raw: dict[str, Any] | None) -> LwaConfig | None:
        if raw is None:
            return None
        self.known_keys(raw, "lwa", {"client_id", "client_secret", "endpoint"}, secrets=True)
        client_id = self.secret(raw, "lwa", "client_id")
        client_secret = self.secret(raw, "lwa", "client_secret")
        endpoint = self.url(raw, "lwa", "endpoint", DEFAULT_LWA_ENDPOINT, path_allowed=True)
        if client_id is None or client_secret is None:
            return None
        return LwaConfig(client_id.reveal(), client_secret, endpoint)

    def aws(self, raw: dict[str, Any] | None) -> AwsConfig | None:
        if raw is None:
            return None
        keys = {"access_key_id", "secret_access_key", "session_token", "role_arn"}
        self.known_keys(raw, "aws", keys | {"sts_endpoint", "sts_region"}, secrets=True)
        access_key_id = self.secret(raw, "aws", "access_key_id")
        secret_access_key = self.secret(raw, "aws", "secret_access_key")
        session_token = self.secret(raw, "aws", "session_token", required=False)
        role_arn = self.string(raw, "aws", "role_arn", default=None)
        if role_arn is not None and not re.fullmatch(
            r"arn:aws[\w-]*:iam::\d{12}:role/.+", role_arn
        ):
            self.problem("aws.role_arn", "must look like arn:aws:iam::123456789012:role/NAME")
        if access_key_id is None or secret_access_key is None:
            return None
        return AwsConfig(
            access_key_id,
            secret_access_key,
            session_token,
            role_arn,
            self.url(raw, "aws", "sts_endpoint", DEFAULT_STS_ENDPOINT),
            self.string(raw, "aws", "sts_region", default="us-east-1"),
        )

    def accounts(self, raw: dict[str, Any] | None) -> Mapping[str, Account] | None:
        if raw is None:
            return None
        if not raw:
            self.problem("accounts", "name at least one account")
            return None
        accounts = {}
        for name, body in raw.items():
            key = f"accounts.{name}"
            if not isinstance(name, str) or not ACCOUNT_NAME.match(name):
                self.problem(key, "account names may use letters, digits, '_', '.' and '-'")
                continue
            account = self.account(name, self.section(body, key, required=True))
            if account is not None:
                accounts[name] = account
        return MappingProxyType(accounts) if len(accounts) == len(raw) else None

    def account(self, name: str, raw: dict[str, Any] | None) -> Account | None:
        if raw is None:
            return None
        key = f"accounts.{name}"
        self.known_keys(
            raw,
            key,
            {
                "refresh_token",
                "region",
                "sandbox",
                "endpoint",
                "data_elements",
                "restricted_fallback",
            },
            secrets=True,
        )
        refresh_token = self.secret(raw, key, "refresh_token")
        region_name = self.string(raw, key, "region", default=None)
        sandbox = self.boolean(raw, key, "sandbox", default=False)
        data_elements = self.data_elements(raw, key)
        fallback = self.string(raw, key, "restricted_fallback", default="error")
        if fallback not in RESTRICTED_FALLBACKS:
            self.problem(f"{key}.restricted_fallback", "must be error or lwa")
        if region_name is None:
            if raw.get("region") is None:
                self.problem(f"{key}.region", f"required (one of {', '.join(REGIONS)})")
            return None
        region = REGIONS.get(region_name)
        if region is None:
            self.problem(
                f"{key}.region", f"unknown region {region_name!r} (one of {', '.join(REGIONS)})"
            )
            return None
        default = region.sandbox_endpoint if sandbox else region.endpoint
        endpoint = self.url(raw, key, "endpoint", default)
        if refresh_token is None:
            return None
        return Account(
            name,
            refresh_token,
            region_name,
            endpoint,
            region.aws_region,
            sandbox,
            data_elements,
            fallback,
        )

    def clients(
        self, raw: dict[str, Any] | None, accounts: Mapping[str, Account]
    ) -> Mapping[str, Client]:
        clients: dict[str, Client] = {}
        for name, body in (raw or {}).items():
            key = f"clients.{name}"
            section = self.section(body, key, required=True)
            if section is None:
                continue
            self.known_keys(
                section,
                key,
                {"key", "accounts", "operations", "pii", "data_elements"},
                secrets=True,
            )
            secret = self.secret(section, key, "key")
            if secret is not None and len(secret.reveal()) < 16:
                self.problem(f"{key}.key", "must be at least 16 characters (use a random one)")
            if secret is not None and any(c.key == secret for c in clients.values()):
                self.problem(f"{key}.key", "is the same as another client's key")
            grants = self.names(section, key, "accounts")
            for account in grants or ():
                if account not in accounts:
                    self.problem(f"{key}.accounts", f"names no configured account: {account}")
            elements = None
            if "data_elements" in section:
                elements = self.data_elements(section, key)
            if secret is not None:
                clients[name] = Client(
                    name,
                    secret,
                    grants,
                    self.names(section, key, "operations") or ("*",),
                    self.boolean(section, key, "pii", default=False),
                    elements,
                )
        return MappingProxyType(clients)

    def names(self, raw: dict[str, Any], section: str, name: str) -> tuple[str, ...] | None:
        value = raw.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.problem(f"{section}.{name}", "must be a list of names")
            return None
        return tuple(value)

    def audit_log(self, raw: object) -> AuditLogConfig | None:
        """`audit_log: PATH`, or a mapping with path, rotate and keep_days."""
        if raw is None:
            return None
        section = {"path": raw} if isinstance(raw, str) else self.section(raw, "audit_log")
        if section is None:
            return None
        self.known_keys(section, "audit_log", {"path", "rotate", "keep_days"})
        path = self.string(section, "audit_log", "path", default=None)
        rotate = self.string(section, "audit_log", "rotate", default="daily")
        if rotate not in ("daily", "hourly"):
            self.problem("audit_log.rotate", "must be daily or hourly")
        keep_days = self.number(section, "audit_log", "keep_days", int, default=90, low=1)
        if path is None:
            self.problem("audit_log.path", "required: the file to write the audit log to")
            return None
        return AuditLogConfig(str(self.base_dir / path), rotate, keep_days)

    def data_elements(self, raw: dict[str, Any], key: str) -> tuple[str, ...]:
        value = raw.get("data_elements", list(Account.data_elements))
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(f"{key}.data_elements", f"must be a list of {', '.join(DATA_ELEMENTS)}")
            return Account.data_elements
        unknown = [v for v in value if v not in DATA_ELEMENTS]
        if unknown:
            self.problem(
                f"{key}.data_elements",
                f"unknown {', '.join(unknown)} (allowed: {', '.join(DATA_ELEMENTS)})",
            )
        return tuple(v for v in value if v in DATA_ELEMENTS)

    def upstream(self, raw: dict[str, Any] | None) -> UpstreamConfig:
        raw = raw or {}
        defaults = UpstreamConfig()
        self.known_keys(raw, "upstream", set(UpstreamConfig.__dataclass_fields__))

        def seconds(name: str, low: float = 0.001) -> float:
            default: float = getattr(defaults, name)
            return self.number(raw, "upstream", name, float, default=default, low=low)

        return UpstreamConfig(
            timeout_s=seconds("timeout_s"),
            max_body_bytes=self.number(
                raw, "upstream", "max_body_bytes", int, default=defaults.max_body_bytes, low=0
            ),
            pacing=self.boolean(raw, "upstream", "pacing", default=defaults.pacing),
            queue_timeout_s=seconds("queue_timeout_s", low=0),
            retries=self.number(
                raw, "upstream", "retries", int, default=defaults.retries, low=0, high=10
            ),
            backoff_s=seconds("backoff_s", low=0),
            max_backoff_s=seconds("max_backoff_s", low=0),
        )

    def user_agent(self, raw: object) -> str | None:
        if raw is None:
            return None
        value = self.expand(raw, "user_agent")
        if value is UNSET:
            return None
        if not isinstance(value, str):
            self.problem("user_agent", "must be a string")
            return None
        if len(value) > 500:
            self.problem("user_agent", "must be at most 500 characters (Amazon's limit)")
        elif not USER_AGENT_SHAPE.match(value):
            self.problem(
                "user_agent",
                "must look like 'AppName/1.0 (Language=Python/3.11)' (Amazon's format)",
            )
        return value

    # values

    def section(self, raw: object, key: str, *, required: bool = False) -> dict[str, Any] | None:
        if raw is None:
            if required:
                self.problem(key or "config", "required section is missing")
            return None
        if not isinstance(raw, dict):
            self.problem(key or "config", "must be a mapping of keys to values")
            return None
        return raw

    def known_keys(
        self, raw: dict[str, Any], key: str, allowed: set[str], *, secrets: bool = False
    ) -> None:
        for name in raw:
            bare = name[: -len("_file")] if secrets and str(name).endswith("_file") else name
            if bare not in allowed:
                where = f"{key}.{name}" if key else str(name)
                self.problem(where, f"unknown key (expected one of {', '.join(sorted(allowed))})")

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

    def string(self, raw: dict[str, Any], section: str, name: str, *, default: T) -> str | T:
        key = f"{section}.{name}"
        if name not in raw or raw[name] is None:
            return default
        value = self.expand(raw[name], key)
        if value is UNSET:
            return default
        if not isinstance(value, str) or not value:
            self.problem(key, "must be a non-empty string")
            return default
        return value

    def secret(
        self, raw: dict[str, Any], section: str, name: str, *, required: bool = True
    ) -> Secret | None:
        """`name:` holds the secret itself, `name_file:` a file holding it (Docker secrets)."""
        key, file_key = f"{section}.{name}", f"{section}.{name}_file"
        if name in raw and f"{name}_file" in raw:
            self.problem(key, f"set {name} or {name}_file, not both")
            return None
        if f"{name}_file" in raw:
            path = self.string(raw, section, f"{name}_file", default=None)
            if path is None:
                return None
            try:
                content = (self.base_dir / path).read_text().strip()
            except OSError as exc:
                self.problem(file_key, f"cannot read {path}: {exc.strerror or exc}")
                return None
            if not content:
                self.problem(file_key, f"{path} is empty")
                return None
            return Secret(content)
        value = self.string(raw, section, name, default=None)
        if value is None:
            if required and raw.get(name) is None:
                self.problem(key, f"required (or {name}_file)")
            return None
        return Secret(value)

    def number(
        self,
        raw: dict[str, Any],
        section: str,
        name: str,
        kind: Callable[[str], T],
        *,
        default: T,
        low: float,
        high: float | None = None,
    ) -> T:
        key = f"{section}.{name}"
        if name not in raw:
            return default
        text = self.expand(raw[name], key)
        if text is UNSET:
            return default
        try:
            if isinstance(text, bool):
                raise ValueError
            value = kind(str(text))
        except ValueError:
            self.problem(key, f"must be a number, got {text!r}")
            return default
        if not isinstance(value, int | float) or value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            self.problem(key, f"must be {bound}")
            return default
        return value

    def boolean(self, raw: dict[str, Any], section: str, name: str, *, default: bool) -> bool:
        key = f"{section}.{name}"
        value = self.expand(raw.get(name, default), key)
        if isinstance(value, bool) or value is UNSET:
            return default if value is UNSET else bool(value)
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        self.problem(key, "must be true or false")
        return default

    def url(
        self,
        raw: dict[str, Any],
        section: str,
        name: str,
        default: str,
        *,
        path_allowed: bool = False,
    ) -> str:
        value = self.string(raw, section, name, default=default)
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.problem(f"{section}.{name}", f"must be an http(s) URL, got {value!r}")
            return default
        if not path_allowed and parts.path not in ("", "/"):
            self.problem(f"{section}.{name}", "must be scheme://host[:port] without a path")
            return default
        return value if path_allowed else f"{parts.scheme}://{parts.netloc}"
