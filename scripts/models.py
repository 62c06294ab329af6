"""What the generators share: walking Amazon's models, and writing a reviewable data file.

Each generator turns every operation of every model into one JSON row; the file holds one row a
line, sorted by path and method, so a change in the models shows up as a readable diff.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODELS = ROOT.parent / "shared" / "spapi-models" / "models"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head")

JsonObject = dict[str, Any]


class ModelError(ValueError):
    """Something a model states that a generator cannot read: the data file would be wrong."""


def operations(
    models: Path,
) -> Iterator[tuple[str, JsonObject, str, JsonObject, str, JsonObject]]:
    """(model file, model, path, path item, METHOD, operation) for every operation."""
    for model_path in sorted(models.glob("**/*.json")):
        model = json.loads(model_path.read_text())
        name = model_path.relative_to(models).as_posix()
        for path, item in model["paths"].items():
            for method in HTTP_METHODS:
                if method in item:
                    yield name, model, path, item, method.upper(), item[method]


def render(rows: list[JsonObject], source: str, *, sort_keys: bool = False) -> str:
    rows = sorted(rows, key=lambda row: (row["path"], row["method"]))
    body = ",\n".join("  " + json.dumps(row, sort_keys=sort_keys) for row in rows)
    return f'{{"source": {json.dumps(source)},\n "operations": [\n{body}\n]}}\n'


def main(doc: str, output: Path, generate: Callable[[Path], str], script: str) -> int:
    """The generators' command line: write `output`, or with --check, fail if it is stale."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS)
    parser.add_argument("--check", action="store_true", help="fail if the shipped file is stale")
    args = parser.parse_args()
    try:
        text = generate(args.models)
    except ModelError as error:  # neither written nor passed as up to date: the models say more
        print(f"{script}: {error}", file=sys.stderr)
        return 1
    if args.check:
        if output.read_text() != text:
            print(f"{output} is stale: run python -m scripts.{script}", file=sys.stderr)
            return 1
        return 0
    output.write_text(text)
    count = len(json.loads(text)["operations"])
    print(f"wrote {output.relative_to(ROOT)} ({count} operations)")
    return 0
