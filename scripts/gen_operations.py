"""Generate spproxy/data/operations.json from Amazon's official SP-API models.

Every operation of every model: method, path template, operationId, API title and version, and
the usage plan (rate per second, burst) that the operation's description states in a table
(null where the model states none). spproxy's operation table (`spproxy/operations.py`) reads
this file; the restricted and grantless rows there are checked against it by the tests.

    python -m scripts.gen_operations [--models ../shared/spapi-models/models] [--check]

`--check` exits 1 if the shipped file differs from what the models give.
"""

from __future__ import annotations

import re
from pathlib import Path

from scripts.models import JsonObject, main, operations, render

OUTPUT = Path(__file__).resolve().parent.parent / "spproxy" / "data" / "operations.json"
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


def generate(models: Path) -> str:
    rows: list[JsonObject] = []
    for name, model, path, _item, method, operation in operations(models):
        rate, burst = usage_plan(operation.get("description", ""))
        rows.append(
            {
                "method": method,
                "path": path,
                "operation": operation["operationId"],
                "api": TITLE_PREFIX.sub("", model["info"]["title"]).strip().rstrip("."),
                "version": model["info"]["version"],
                "rate": rate,
                "burst": burst,
                "model": name,
            }
        )
    return render(rows, "amzn/selling-partner-api-models (Apache-2.0), see NOTICE", sort_keys=True)


if __name__ == "__main__":
    raise SystemExit(main(__doc__ or "", OUTPUT, generate, "gen_operations"))
