"""Generate spproxy/data/operations.json from Amazon's official SP-API models.

Every operation of every model: method, path template, operationId, API title and version, and
the usage plan (rate per second, burst) that the operation's description states in a table
(null where the model states none). spproxy's operation table (`spproxy/operations.py`) reads
this file; the restricted and grantless rows there are checked against it by the tests.

    python scripts/gen_operations.py [--models ../shared/spapi-models/models] [--check]

`--check` exits 1 if the shipped file differs from what the models give.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "spproxy" / "data" / "operations.json"
DEFAULT_MODELS = ROOT.parent / "shared" / "spapi-models" / "models"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head")
USAGE_PLAN = re.compile(
    r"\|\s*Rate \(requests per second\)\s*\|\s*Burst\s*\|\s*\n"
    r"\s*\|[-\s|]+\|\s*\n"
    r"\s*\|\s*([0-9.]+)\s*\|\s*([0-9]+)\s*\|"
)
TITLE_PREFIX = re.compile(r"^(the )?Selling Partner APIs? for (the )?", re.IGNORECASE)


def usage_plan(description: str) -> tuple[float | None, int | None]:
    match = USAGE_PLAN.search(description)
    if match is None:
        return None, None
    return float(match.group(1)), int(match.group(2))


def operations_of(model_path: Path, models: Path) -> list[dict[str, Any]]:
    model = json.loads(model_path.read_text())
    api = TITLE_PREFIX.sub("", model["info"]["title"]).strip().rstrip(".")
    rows = []
    for path, item in model["paths"].items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            rate, burst = usage_plan(operation.get("description", ""))
            rows.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "operation": operation["operationId"],
                    "api": api,
                    "version": model["info"]["version"],
                    "rate": rate,
                    "burst": burst,
                    "model": model_path.relative_to(models).as_posix(),
                }
            )
    return rows


def generate(models: Path) -> str:
    rows = [row for path in sorted(models.glob("**/*.json")) for row in operations_of(path, models)]
    rows.sort(key=lambda row: (row["path"], row["method"]))
    body = ",\n".join("  " + json.dumps(row, sort_keys=True) for row in rows)
    source = "amzn/selling-partner-api-models (Apache-2.0), see NOTICE"
    return f'{{"source": {json.dumps(source)},\n "operations": [\n{body}\n]}}\n'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS)
    parser.add_argument("--check", action="store_true", help="fail if the shipped file is stale")
    args = parser.parse_args()
    text = generate(args.models)
    if args.check:
        if OUTPUT.read_text() != text:
            print(f"{OUTPUT} is stale: run python scripts/gen_operations.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({text.count(chr(10)) - 3} operations)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
