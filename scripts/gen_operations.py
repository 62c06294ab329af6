"""Generate spproxy/data/operations.json from Amazon's official SP-API models.

Every operation of every model: method, path template, operationId, API title and version, and
the usage plan (rate per second, burst) that the operation's description states in a table
(null where the model states none). spproxy's operation table (`spproxy/operations.py`) reads
this file; the restricted and grantless rows there are checked against it by the tests.

The models state a plan as a Markdown table in the operation's description, in these forms:
- `| Rate (requests per second) | Burst |` and one row of figures: the plan;
- `| Plan type | Rate (requests per second) | Burst |`, one row per plan type: the `Default` row
  is the plan (the `Selling partner specific` row says `Variable`: Amazon's header tells);
- either table with its line breaks written as the two characters `\\n` (the model escaped the
  description twice);
- `| n | n |`: a table without figures (a few Fulfillment Inbound operations): no plan, null.
A description that mentions a usage plan, a rate limit, requests per second (or minute) or a
burst in any other form is a `ModelError`: the generator stops (and `--check` fails) rather than
ship the operation at the cautious default of 1/s, burst 1.

    python -m scripts.gen_operations [--models ../shared/spapi-models/models] [--check]

`--check` exits 1 if the shipped file differs from what the models give, or a model states a plan
the generator cannot read.
"""

from __future__ import annotations

import re
from pathlib import Path

from scripts.models import JsonObject, ModelError, main, operations, render

OUTPUT = Path(__file__).resolve().parent.parent / "spproxy" / "data" / "operations.json"
MENTIONS_PLAN = re.compile(
    r"usage plan|rate limit|requests? per (second|minute)|\bburst\b", re.IGNORECASE
)
RATE_COLUMN = "rate (requests per second)"
BURST_COLUMN = "burst"
PLAN_TYPE_COLUMN = "plan type"
DEFAULT_PLAN_TYPE = "default"
NO_FIGURES = ("n", "n")  # the models' placeholder row: a plan table without a plan
RATE = re.compile(r"[0-9]*\.?[0-9]+")
BURST = re.compile(r"[0-9]+")
SEPARATOR_CELL = re.compile(r":?-+:?")
TITLE_PREFIX = re.compile(r"^(the )?Selling Partner APIs? for (the )?", re.IGNORECASE)

Table = list[list[str]]  # the header's cells, then each row's


def usage_plan(description: str, where: str = "description") -> tuple[float | None, int | None]:
    """(rate, burst) as the description states them; (None, None) if it states none."""
    text = description.replace("\\n", "\n")
    tables = [table for table in _tables(text) if _is_plan(table[0])]
    if not tables:
        if MENTIONS_PLAN.search(text):
            raise ModelError(f"{where}: mentions a usage plan, but in no table the generator reads")
        return None, None
    if len(tables) > 1:
        raise ModelError(f"{where}: states {len(tables)} usage plan tables; which one applies?")
    header, *rows = tables[0]
    if PLAN_TYPE_COLUMN in header:
        plan_type = header.index(PLAN_TYPE_COLUMN)
        rows = [row for row in rows if row[plan_type].lower() == DEFAULT_PLAN_TYPE]
    if len(rows) != 1:
        raise ModelError(f"{where}: a usage plan table without exactly one plan row")
    rate, burst = rows[0][header.index(RATE_COLUMN)], rows[0][header.index(BURST_COLUMN)]
    if (rate, burst) == NO_FIGURES:
        return None, None
    if not (RATE.fullmatch(rate) and BURST.fullmatch(burst)):
        raise ModelError(f"{where}: a usage plan of {rate!r} per second, burst {burst!r}")
    return float(rate), int(burst)


def _tables(text: str) -> list[Table]:
    """The Markdown tables in the text: header cells (lower case), then rows, all stripped."""
    tables: list[Table] = []
    lines = [line.strip() for line in text.splitlines()]
    for number, line in enumerate(lines[:-1]):
        separator = _cells(lines[number + 1])
        if not (_cells(line) and separator and all(SEPARATOR_CELL.fullmatch(c) for c in separator)):
            continue
        table = [[cell.lower() for cell in _cells(line)]]
        for row in lines[number + 2 :]:
            cells = _cells(row)
            if len(cells) != len(table[0]):
                break
            table.append(cells)
        tables.append(table)
    return tables


def _cells(line: str) -> list[str]:
    if not (line.startswith("|") and line.endswith("|") and len(line) > 1):
        return []
    return [cell.strip() for cell in line[1:-1].split("|")]


def _is_plan(header: list[str]) -> bool:
    return RATE_COLUMN in header and BURST_COLUMN in header


def generate(models: Path) -> str:
    rows: list[JsonObject] = []
    unread: list[str] = []
    for name, model, path, _item, method, operation in operations(models):
        where = f"{name} {method} {path} ({operation['operationId']})"
        try:
            rate, burst = usage_plan(operation.get("description", ""), where)
        except ModelError as error:
            unread.append(str(error))
            continue
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
    if unread:
        raise ModelError("usage plans the generator cannot read:\n  " + "\n  ".join(unread))
    return render(rows, "amzn/selling-partner-api-models (Apache-2.0), see NOTICE", sort_keys=True)


if __name__ == "__main__":
    raise SystemExit(main(__doc__ or "", OUTPUT, generate, "gen_operations"))
