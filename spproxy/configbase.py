"""How a config key is declared: `setting(...)` (its default, rules and meaning) and `Secret`
(a value whose repr is masked). The sections themselves are in `config` and `configstorage`."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import field
from typing import Any

REQUIRED: Any = dataclasses.MISSING


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
