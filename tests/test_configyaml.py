from __future__ import annotations

from typing import Any

import pytest
import yaml

from spproxy.configyaml import YAML_LOADER, load_yaml

# Read from the events alone: what yaml.load makes of them, without yaml.load.
COMMON = [
    "",
    "# only a comment\n",
    "a: 1\n",
    "listen: {port: 8000}\naccounts:\n  main: {refresh_token: 'Atzr|x', region: na}\n",
    "a: [1, 2.5, true, null, ~, yes, off, 0x1f, 0o17, 1_000, .inf, -.nan, 2026-11-26, x]\n",
    "a: '1'\nb: \"true\"\nc: |\n  two\n  lines\nd: >\n  folded\n  text\n",
    "a: !!str 1\nb: !!int '7'\nc: !!float '2'\nd: !!binary aGVsbG8=\ne: !!bool 'yes'\n",
    "t: 2026-11-26 16:42:51.5+01:00\nn: !!null ''\ne: \n",
    "base: &b {region: na, sandbox: true}\nx: {<<: *b, region: eu}\n",
    "base: &b {region: na}\nmore: &m {sandbox: true}\nx: {<<: *b, <<: *m, name: x}\n",
    "x: {<<: {region: na}, region: fe}\n",
    "a: &v [1, [2, {k: v}]]\nb: *v\nc: &s text\nd: *s\n",
    "1: int key\n2.5: float key\nnull: null key\ntrue: bool key\n",
    "!!map {a: !!seq [1]}\n",
    "- just\n- a list\n",
    "plain scalar\n",
    "? complex\n: value\n",
    "a: {b: {c: {d: {e: [[[]]]}}}}\n",
    "--- {a: 1}\n...\n",
    "---\n",
    "a: 1\nb: 2\na: 3\n",
    "b: &b {x: 1}\nm: &m {<<: *b, y: 2}\nz: {<<: *m, w: 3}\n",
    "accounts:\n  main: {refresh_token: r, region: na}\n  main: {refresh_token: s, region: eu}\n",
]
# Rarer, refused or ambiguous: read by yaml.load itself, with its answer or its error.
RARE = [
    "a: !!set {x, y}\n",
    "a: !!omap [{x: 1}, {y: 2}]\n",
    "a: !!pairs [{x: 1}, {x: 2}]\n",
    "a: !custom x\n",
    "a: !!python/name:os.system x\n",
    "a: *nowhere\n",
    "a: &x [*x]\n",
    "a: &x 1\nb: &x 2\n",
    "= : value tag as a key\n",
    "a: =\n",
    "? [unhashable]\n: key\n",
    "? {unhashable: 1}\n: key\n",
    "base: &b {a: 1}\nother: &o {a: 2}\nx: {<<: [*b, *o]}\n",
    "base: &b {ab: 1}\nother: &o {ab: 2}\nx: {<<: *b, <<: *o}\n",
    "base: &b {a: 1, a: 2}\nx: {<<: *b}\n",
    "base: &b {a: 1}\nover: &o {<<: *b, a: 2}\nx: {<<: *o}\n",
    "x: {<<: [1, 2]}\n",
    "x: {<<: 3}\n",
    "x: {&k <<: {a: 1}}\n",
    "a: 1\n---\nb: 2\n",
    "a: !!int x\n",
    "a: !!timestamp nope\n",
    "a: !!binary '%%%'\n",
    "a: [1, 2\n",
    "a: b: c\n",
    "\ta: tab\n",
    "a: 'unterminated\n",
]


def _outcome(text: str, read: Any) -> tuple[str, str]:
    """The value's repr (1 is not 1.0 is not True; a recursive list compares), or the error."""
    try:
        return "value", repr(read(text))
    except Exception as error:  # PyYAML raises ValueError for `!!int x`
        return type(error).__name__, str(error)


@pytest.mark.parametrize("text", COMMON + RARE)
def test_reads_what_yaml_load_reads_or_raises_its_error(text: str) -> None:
    expected = _outcome(text, lambda t: yaml.load(t, Loader=YAML_LOADER))  # noqa: S506
    assert _outcome(text, load_yaml) == expected


@pytest.mark.parametrize("text", COMMON)
def test_the_common_documents_need_no_node_graph(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def composing(*_: object, **__: object) -> None:
        raise AssertionError("yaml.load was called")

    monkeypatch.setattr(yaml, "load", composing)
    load_yaml(text)


def test_aliases_share_one_value_as_yaml_load_does() -> None:
    read = load_yaml("a: &v [1]\nb: *v\n")
    assert read["a"] is read["b"]


def test_merged_keys_come_first_and_the_mappings_own_keys_win() -> None:
    read = load_yaml("b: &b {region: na, sandbox: true}\nx: {name: x, <<: *b, region: eu}\n")
    assert list(read["x"].items()) == [("region", "eu"), ("sandbox", True), ("name", "x")]


def test_a_config_of_many_accounts_is_read_from_events() -> None:
    lines = ["accounts:"] + [f"  a{i}: {{refresh_token: t{i}, region: na}}" for i in range(500)]
    text = "\n".join(lines)
    assert load_yaml(text) == yaml.load(text, Loader=YAML_LOADER)  # noqa: S506
