"""The emulator's operation table: restricted operations and rates as Amazon's references state
them."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from spproxy.emulator.apis import OPERATIONS

SHARED = Path(__file__).resolve().parents[3] / "shared"
MODELS = SHARED / "spapi-models" / "models"
REFERENCE = SHARED / "reference" / "spapi_restricted_operations.csv"
GET_ORDER = "/orders/v0/orders/{orderId}"
RESTRICTED = {(op.method, op.path): op for op in OPERATIONS if op.restricted}


def _model_rates() -> dict[tuple[str, str], float]:
    rates = {}
    for model in MODELS.rglob("*.json"):
        paths = json.loads(model.read_text()).get("paths", {})
        for path, methods in paths.items():
            for method, operation in methods.items():
                if not isinstance(operation, dict):
                    continue  # path-level parameters
                plan = re.search(r"\|\s*([\d.]+)\s*\|\s*\d+\s*\|", operation.get("description", ""))
                if plan:
                    rates[method.upper(), path] = float(plan.group(1))
    return rates


@pytest.mark.skipif(not REFERENCE.is_file(), reason="needs ../shared/reference beside the repo")
def test_restricted_operations_are_those_of_the_reference_table() -> None:
    with REFERENCE.open() as table:
        rows = list(csv.DictReader(table))
    assert {(row["method"], row["path_template"]) for row in rows} == set(RESTRICTED)
    for row in rows:
        operation = RESTRICTED[row["method"], row["path_template"]]
        assert operation.name == row["operationId"]
        assert operation.generic_path_allowed == (not row["generic_path_rdt_ok"].startswith("NO"))
    takes_elements = {op.name for op in RESTRICTED.values() if op.data_elements}
    assert takes_elements == {"getOrders", "getOrder", "getOrderItems"}
    assert RESTRICTED["GET", f"{GET_ORDER}/orderItems"].data_elements == {"buyerInfo"}
    answering_lwa = {op.name for op in RESTRICTED.values() if op.answers_lwa_token}
    assert answering_lwa == {"getOrders", "getOrder", "getOrderItems", "getReportDocument"}


@pytest.mark.skipif(not MODELS.is_dir(), reason="needs ../shared/spapi-models beside the repo")
def test_rates_are_the_models_usage_plans() -> None:
    rates = _model_rates()
    served = [op for op in OPERATIONS if op.rate is not None]
    assert len(served) > 40
    for operation in served:
        if operation.name == "cancelShipmentOld":  # gone from the model; its old plan was 1
            assert operation.rate == 1
            continue
        assert rates[operation.method, operation.path] == operation.rate, operation.name
