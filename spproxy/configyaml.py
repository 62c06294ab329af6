"""A YAML document read straight from libyaml's events, without PyYAML's node graph.

`yaml.load` composes the whole document into nodes (each with two marks) before it constructs a
single value: for 10,000 accounts some 28 MiB, which the allocator keeps after they are freed, and
most of the load's time. Here each event becomes its value at once, through PyYAML's own resolver
and scalar constructors, so the result is what `yaml.load` gives (`test_configyaml` compares).
Anything less common than mappings, sequences, scalars, anchors, aliases and merge keys (`<<`),
and any error, is read again by `yaml.load` itself: its answer, or its exact error, is the one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

# libyaml's loader when PyYAML has it: ten times faster than the pure-Python one.
YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"
_STR, _MERGE, _SEQ, _MAP = (f"{_TAG}{kind}" for kind in ("str", "merge", "seq", "map"))
# The scalars a safe load constructs; any other tag goes to yaml.load (and its error).
_SCALARS: dict[str, Callable[[Any, yaml.ScalarNode], Any]] = {
    f"{_TAG}{kind}": yaml.SafeLoader.yaml_constructors[f"{_TAG}{kind}"]
    for kind in ("null", "bool", "int", "float", "binary", "timestamp", "str")
}


class _Unusual(Exception):
    """Not in the common subset: yaml.load reads the document instead."""


def load_yaml(text: str) -> Any:
    """What `yaml.load(text, Loader=YAML_LOADER)` returns, or raises."""
    loader = _EventLoader(text)
    try:
        with contextlib.suppress(Exception):  # _Unusual, or an error: yaml.load's says where
            return loader.single_document()
    finally:
        loader.dispose()
    return yaml.load(text, Loader=YAML_LOADER)  # noqa: S506 - a safe loader


class _EventLoader(YAML_LOADER):  # type: ignore[misc]  # a base chosen at run time
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._anchors: dict[str, Any] = {}
        # Mappings with a key twice: PyYAML's merge dedups by key object, not value (6.0.3 on)
        self._repeating: set[int] = set()

    def single_document(self) -> Any:
        self.get_event()  # the stream's start
        if self._next() is not yaml.DocumentStartEvent:
            return None  # an empty stream: yaml.load says None
        self.get_event()
        value = self._value()
        self.get_event()  # the document's end
        if self._next() is not yaml.StreamEndEvent:
            raise _Unusual  # several documents: yaml.load says which is wrong
        return value

    def _next(self) -> type[Event]:
        return type(self.peek_event())

    def _value(self) -> Any:
        event = self.get_event()
        kind = type(event)
        if kind is AliasEvent:
            if event.anchor not in self._anchors:
                raise _Unusual  # undefined, or an alias inside its own anchor's value
            return self._anchors[event.anchor]
        if event.anchor is not None and event.anchor in self._anchors:
            raise _Unusual  # a duplicate anchor
        if kind is ScalarEvent:
            value = self._scalar(event, self._tag(event))
        elif kind is SequenceStartEvent:
            value = self._sequence(event)
        elif kind is MappingStartEvent:
            value = self._mapping(event)
        else:
            raise _Unusual
        if event.anchor is not None:
            self._anchors[event.anchor] = value
        return value

    def _tag(self, event: ScalarEvent) -> str:
        """The scalar's tag: as written, else the resolver's (the composer's rule)."""
        if event.tag is None or event.tag == "!":
            return str(self.resolve(yaml.ScalarNode, event.value, event.implicit))
        return str(event.tag)

    def _scalar(self, event: ScalarEvent, tag: str) -> Any:
        if tag == _STR:
            return event.value  # what construct_yaml_str returns, without a node
        construct = _SCALARS.get(tag)
        if construct is None:
            raise _Unusual  # another tag: a constructor error, or one yaml.load knows
        # no marks: an error here sends the document to yaml.load, which says where
        return construct(self, yaml.ScalarNode(tag, event.value, style=event.style))

    def _merges(self, event: Event) -> bool:
        """A merge key (`<<`), anchored to nothing."""
        return type(event) is ScalarEvent and event.anchor is None and self._tag(event) == _MERGE

    def _collection(self, event: CollectionStartEvent, default_tag: str) -> None:
        if event.tag not in (None, "!", default_tag):
            raise _Unusual  # !!set, !!omap, !!pairs, ...

    def _sequence(self, event: SequenceStartEvent) -> list[Any]:
        self._collection(event, _SEQ)
        items = []
        while self._next() is not SequenceEndEvent:
            items.append(self._value())
        self.get_event()
        return items

    def _mapping(self, event: MappingStartEvent) -> dict[Any, Any]:
        """Its pairs in order, after those its merge keys (`<<`) bring: SafeConstructor's rule
        where that rule is the same in every PyYAML 6 (one mapping per `<<`, none repeating a
        key another brings); otherwise yaml.load's."""
        self._collection(event, _MAP)
        merged: list[tuple[Any, Any]] = []
        pairs: list[tuple[Any, Any]] = []
        while self._next() is not MappingEndEvent:
            key_event = self.peek_event()
            if self._merges(key_event):
                self.get_event()
                source = self._value()
                if not isinstance(source, dict) or id(source) in self._repeating:
                    raise _Unusual  # a list of mappings, or not one: yaml.load's rule
                merged += source.items()
                continue
            key = self._value()
            try:
                hash(key)
            except TypeError:
                raise _Unusual from None  # an unhashable key: yaml.load's error
            pairs.append((key, self._value()))
        self.get_event()
        if len({key for key, _ in merged}) != len(merged):
            raise _Unusual  # two merged mappings bring the same key
        mapping = dict(merged + pairs)
        if len(mapping) != len(merged) + len(pairs):
            self._repeating.add(id(mapping))
        return mapping
