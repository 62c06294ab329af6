"""Restricted resources as the Tokens API reads them (Amazon's Tokens API use-case guide).

A restricted resource is an HTTP method and a path naming a restricted operation. The path is
specific (`/orders/v0/orders/902-1845936-5435065`) or generic: a placeholder in braces where the
operation's template has one (`/orders/v0/orders/{orderId}`; Amazon accepts any name in the
braces). A generic resource covers every request whose path fills its placeholders; a specific
one covers that path only. Paths are compared segment by segment, percent-decoded.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote

from spproxy.emulator.credentials import RestrictedResource
from spproxy.emulator.operations import Operation

# The kinds of PII the Tokens API knows (CreateRestrictedDataTokenRequest.dataElements).
DATA_ELEMENTS = frozenset({"buyerInfo", "shippingAddress", "buyerTaxInformation"})


def segments(path: str) -> list[str]:
    return [unquote(segment) for segment in path.split("/")]


def is_placeholder(segment: str) -> bool:
    inner = segment[1:-1]
    return segment[:1] == "{" and segment[-1:] == "}" and bool(inner) and "{" not in inner


def is_generic(path: str) -> bool:
    return any(is_placeholder(segment) for segment in segments(path))


def operation_named(operations: Iterable[Operation], method: str, path: str) -> Operation | None:
    """The operation a restricted resource names, by its specific or generic path."""
    wanted = segments(path)
    named = [
        operation
        for operation in operations
        if operation.method == method and _fills(segments(operation.path), wanted)
    ]
    # Where templates overlap, the one with the most literal segments is meant, as in routing.
    return min(named, key=lambda op: sum(map(is_placeholder, segments(op.path))), default=None)


def _fills(template: list[str], path: list[str]) -> bool:
    if len(template) != len(path):
        return False
    for expected, given in zip(template, path, strict=True):
        if is_placeholder(expected):
            if not given or (not is_placeholder(given) and ("{" in given or "}" in given)):
                return False
        elif given != expected:
            return False
    return True


def covering(
    resources: Iterable[RestrictedResource], method: str, path: str
) -> list[RestrictedResource]:
    """The resources of an RDT that grant a request for `method path` (a concrete path)."""
    wanted = segments(path)
    return [
        resource
        for resource in resources
        if resource.method == method and _covers(segments(resource.path), wanted)
    ]


def _covers(granted: list[str], path: list[str]) -> bool:
    return len(granted) == len(path) and all(
        mine == theirs or (is_placeholder(mine) and bool(theirs))
        for mine, theirs in zip(granted, path, strict=True)
    )
