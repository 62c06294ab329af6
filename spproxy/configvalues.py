"""One value of a config document: `${VAR}` expansion, then its kind's checks (strings, URLs,
numbers, booleans, lists of names, secrets and their `*_file`), each problem one line naming the
key. The document reader (`configread`) is built on this."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from spproxy.config import Secret

VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
UNSET = object()  # what a value with a problem reads as (already reported)


class ValueReader:
    """Reads single values, expanding ${VAR}s from `env` and reading files relative to `base_dir`;
    collects one line per problem in `problems`. A value with a problem reads as `UNSET`."""

    def __init__(self, env: Mapping[str, str], base_dir: Path) -> None:
        self.env = env
        self.base_dir = base_dir
        self.problems: list[str] = []
        # Each URL checked once, and one copy kept: thousands of accounts share an endpoint.
        self._urls: dict[tuple[str, bool], str] = {}

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{key}: {message}")

    def expand(self, value: object, key: str) -> object:
        """Replace ${VAR} and ${VAR:-default} in a string value from the environment.

        A variable that is not set is reported here, and `UNSET` returned, so that callers
        do not report the same key again.
        """
        if not isinstance(value, str) or "${" not in value:
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
        return choices[choices.index(value)] if choices else value  # one copy for all accounts

    def url(self, value: str, key: str, *, path_allowed: bool) -> Any:
        checked = self._urls.get((value, path_allowed))
        if checked is not None:
            return checked
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.problem(key, f"must be an http(s) URL, got {value!r}")
            return UNSET
        if parts.path not in ("", "/") and not path_allowed:
            self.problem(key, "must be scheme://host[:port] without a path")
            return UNSET
        checked = value if path_allowed else f"{parts.scheme}://{parts.netloc}"
        self._urls[value, path_allowed] = checked
        return checked

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
