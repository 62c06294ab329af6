"""Path templates as a trie of segments: literal segments win over `{variables}`, backtracking.

Matching costs the depth of the path, not the number of templates. A leaf with no SP-API
knowledge: the proxy's operation table and the emulator's router both index by it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class _Node(Generic[T]):
    literals: dict[str, _Node[T]] = field(default_factory=dict)
    variable: _Node[T] | None = None
    values: dict[str, T] = field(default_factory=dict)  # by method


class PathIndex(Generic[T]):
    def __init__(self) -> None:
        self._root: _Node[T] = _Node()

    def add(self, method: str, template: str, value: T) -> None:
        node = self._root
        for segment in template.split("/")[1:]:
            if segment.startswith("{"):
                node.variable = node.variable or _Node()
                node = node.variable
            else:
                node = node.literals.setdefault(segment, _Node())
        node.values[method] = value

    def match(self, method: str, path: str) -> tuple[T, list[str]] | None:
        """The value for a path (still percent-encoded), and its variable segments in order."""
        variables: list[str] = []
        value = _match(self._root, path.split("/")[1:], method, variables)
        return None if value is None else (value, variables)


def _match(node: _Node[T], segments: list[str], method: str, variables: list[str]) -> T | None:
    if not segments:
        return node.values.get(method)
    head, rest = segments[0], segments[1:]
    literal = node.literals.get(head)
    if literal is not None:
        found = _match(literal, rest, method, variables)
        if found is not None:
            return found
    if node.variable is not None and head:  # an empty segment is no {id}
        variables.append(head)
        found = _match(node.variable, rest, method, variables)
        if found is not None:
            return found
        variables.pop()
    return None
