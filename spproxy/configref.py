"""The README's table of every config key, and the list of them, from the declarations."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any, get_args, get_origin

from spproxy.config import Config
from spproxy.configkeys import (
    hints,
    is_required,
    is_secret,
    is_section,
    section_keys,
    strip_optional,
)


def reference() -> str:
    """The README's table of every key, from the declarations in `spproxy.config`."""
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
    field_types = hints(cls)
    for spec in section_keys(cls):
        key = f"{prefix}{spec.name}"
        kind = strip_optional(field_types[spec.name])
        if is_section(kind):
            yield from _walk(kind, f"{key}.")
        elif get_origin(kind) is Mapping:
            yield from _walk(get_args(kind)[1], f"{key}.{_NAMED[spec.name]}.")
        else:
            yield key, spec, kind, cls


def _type_name(spec: dataclasses.Field[Any], kind: Any, cls: type) -> str:
    rules = spec.metadata
    if is_secret(spec, cls):
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
    if is_required(spec):
        return "required"
    value = spec.default
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return "`[" + ", ".join(value) + "]`"
    return f"`{value}`"
