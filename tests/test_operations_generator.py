"""scripts/gen_operations.py: every usage plan the models state is read, or it says so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.gen_operations import generate, usage_plan
from scripts.models import ROOT, ModelError

# The forms Amazon's models use, as they write them (the figures are the operations').
PLAIN = (
    "Returns orders.\n\n**Usage Plan:**\n\n| Rate (requests per second) | Burst |\n"
    "| ---- | ---- |\n| 0.0167 | 20 |\n\nThe `x-amzn-RateLimit-Limit` response header ..."
)
ESCAPED_LINE_BREAKS = (  # listItemComplianceDetails: "\n" written as a backslash and an n
    r"List the inbound compliance details.\n\n**Usage Plan:**\n\n"
    r"| Rate (requests per second) | Burst |\n| ---- | ---- |\n| 2 | 6 |\n\nThe ..."
)
PLAN_TYPES = (  # searchDefinitionsProductTypes, getDefinitionsProductType
    "Search for product types.\n\n**Usage Plans:**\n\n"
    "| Plan type | Rate (requests per second) | Burst |\n| ---- | ---- | ---- |\n"
    "|Default| 5 | 10 |\n|Selling partner specific| Variable | Variable |\n\nThe ..."
)
NO_FIGURES = (  # the self-ship appointment operations, listPrepDetails
    "Cancels a self-ship appointment.\n\n**Usage Plan:**\n\n"
    "| Rate (requests per second) | Burst |\n| ---- | ---- |\n| n | n |\n\nThe ..."
)


@pytest.mark.parametrize(
    ("description", "plan"),
    [
        (PLAIN, (0.0167, 20)),
        (ESCAPED_LINE_BREAKS, (2.0, 6)),
        (PLAN_TYPES, (5.0, 10)),
        (NO_FIGURES, (None, None)),
        ("Returns the seller's account.", (None, None)),  # states no plan at all
    ],
)
def test_every_form_of_the_models_is_read(description: str, plan: tuple[object, object]) -> None:
    assert usage_plan(description) == plan


@pytest.mark.parametrize(
    "description",
    [
        "**Usage Plan:** 5 requests per second, with a burst of 10.",  # prose, no table
        "Throttled to one request per second.",
        "The rate limit is 30 requests per minute.",
        PLAIN.replace("| Burst |", "| Burst size |"),  # a table with other headings
        PLAIN.replace("| 0.0167 | 20 |", "| 1/60 | 20 |"),  # figures it cannot parse
        PLAN_TYPES.replace("|Default|", "|Standard|"),  # no Default row
        PLAIN + "\n\n" + PLAIN,  # two plans: which one?
    ],
)
def test_a_plan_in_any_other_form_is_an_error(description: str) -> None:
    with pytest.raises(ModelError, match="getOrders"):
        usage_plan(description, "ordersV0.json GET /orders/v0/orders (getOrders)")


def _model(tmp_path: Path, description: str) -> Path:
    """A one-operation model, laid out as Amazon's are: models/<api>-model/<file>.json."""
    models = tmp_path / "models"
    (models / "widgets-api-model").mkdir(parents=True)
    operation = {"operationId": "getWidgets", "description": description, "responses": {}}
    model = {
        "info": {"title": "Selling Partner API for Widgets", "version": "v1"},
        "paths": {"/widgets/v1/widgets": {"get": operation}},
    }
    (models / "widgets-api-model" / "widgets.json").write_text(json.dumps(model))
    return models


def test_generated_rows_carry_the_plan(tmp_path: Path) -> None:
    (row,) = json.loads(generate(_model(tmp_path, PLAN_TYPES)))["operations"]
    assert (row["operation"], row["api"], row["rate"], row["burst"]) == (
        "getWidgets",
        "Widgets",
        5.0,
        10,
    )


def test_check_fails_on_a_plan_the_generator_cannot_read(tmp_path: Path) -> None:
    """`--check` names the operation whose plan it cannot read; it writes nothing."""
    models = _model(tmp_path, "Lists widgets.\n\n**Usage Plan:** 5 requests per second, burst 10.")
    shipped = (ROOT / "spproxy" / "data" / "operations.json").read_text()
    checked = subprocess.run(
        [sys.executable, "-m", "scripts.gen_operations", "--models", str(models), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 1
    assert "usage plans the generator cannot read" in checked.stderr
    assert "widgets-api-model/widgets.json GET /widgets/v1/widgets (getWidgets)" in checked.stderr
    assert "stale" not in checked.stderr  # it failed on the plan, before any comparison
    assert (ROOT / "spproxy" / "data" / "operations.json").read_text() == shipped
