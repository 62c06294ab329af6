"""The declarations read back: a section's keys, each key's type, and whether it is required or a
secret. The reader (`configread`) and the reference table (`configref`) both go by these."""

from __future__ import annotations

import dataclasses
import types
from typing import Any, TypeGuard, Union, get_args, get_origin, get_type_hints

from spproxy.config import Secret


def section_keys(cls: type[Any]) -> list[dataclasses.Field[Any]]:
    """The keys a section declares: its fields but those the reader fills in (`derived`)."""
    return [spec for spec in dataclasses.fields(cls) if not spec.metadata.get("derived")]


def is_section(kind: Any) -> TypeGuard[type[Any]]:
    """A nested section (a dataclass), as opposed to a single value."""
    return isinstance(kind, type) and dataclasses.is_dataclass(kind)


_HINTS: dict[type, dict[str, Any]] = {}


def hints(cls: type) -> dict[str, Any]:
    """The dataclass's field types, resolved once (a file may hold thousands of accounts)."""
    found = _HINTS.get(cls)
    if found is None:
        found = _HINTS[cls] = get_type_hints(cls)
    return found


def is_required(spec: dataclasses.Field[Any]) -> bool:
    return spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING


def is_secret(spec: dataclasses.Field[Any], cls: type) -> bool:
    """A `Secret`, or a string declared secret (a client id): `NAME_file` may hold it."""
    return bool(spec.metadata.get("secret")) or strip_optional(hints(cls)[spec.name]) is Secret


def strip_optional(hint: Any) -> Any:
    """`X | None` -> X."""
    if get_origin(hint) in (Union, types.UnionType):
        args = [arg for arg in get_args(hint) if arg is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint


@dataclasses.dataclass(frozen=True, slots=True)
class Key:
    """A key as the reader goes by it."""

    spec: dataclasses.Field[Any]
    kind: Any  # its type, `X | None` read as X
    required: bool
    secret: bool  # also readable from NAME_file
    section: bool  # a nested section (a dataclass)
    origin: Any  # Mapping, tuple, ...: get_origin(kind)


@dataclasses.dataclass(frozen=True, slots=True)
class Section:
    """A section's keys, worked out once per class (a file may hold thousands of accounts)."""

    keys: tuple[Key, ...]
    accepted: frozenset[str]  # the keys' names, and NAME_file for each secret
    expected: str  # the keys' names, for the unknown-key message


_SECTIONS: dict[type, Section] = {}


def keys_of(cls: type[Any]) -> Section:
    found = _SECTIONS.get(cls)
    if found is None:
        keys = tuple(_key(spec, cls) for spec in section_keys(cls))
        names = sorted(key.spec.name for key in keys)
        files = {f"{key.spec.name}_file" for key in keys if key.secret}
        found = _SECTIONS[cls] = Section(keys, frozenset(names) | files, ", ".join(names))
    return found


def _key(spec: dataclasses.Field[Any], cls: type) -> Key:
    kind = strip_optional(hints(cls)[spec.name])
    secret = is_secret(spec, cls)
    return Key(spec, kind, is_required(spec), secret, is_section(kind), get_origin(kind))
