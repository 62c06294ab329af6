from __future__ import annotations

from pathlib import Path

import pytest

from spproxy.operations import (
    GRANTLESS_SCOPES,
    Kind,
    Operation,
    OperationTable,
    load_operations,
    load_table,
)

MODELS = Path(__file__).resolve().parents[2] / "shared" / "spapi-models" / "models"
TABLE = load_table()


@pytest.mark.parametrize(
    ("method", "path", "name", "template"),
    [
        ("GET", "/orders/v0/orders", "getOrders", "/orders/v0/orders"),
        ("GET", "/orders/v0/orders/123-1234567-1234567", "getOrder", "/orders/v0/orders/{orderId}"),
        ("GET", "/orders/v0/orders/1/orderItems/buyerInfo", "getOrderItemsBuyerInfo", None),
        ("GET", "/orders/v0/orders/1/orderItems", "getOrderItems", None),
        ("GET", "/orders/2026-01-01/orders/1", "getOrder", "/orders/2026-01-01/orders/{orderId}"),
        ("DELETE", "/mfn/v0/shipments/abc", "cancelShipment", None),
        ("GET", "/mfn/v0/shipments/abc", "getShipment", None),
        ("GET", "/shipping/v1/shipments/abc", "getShipment", "/shipping/v1/shipments/{shipmentId}"),
        ("PUT", "/listings/2021-08-01/items/S1/SKU%2F1", "putListingsItem", None),
        ("GET", "/catalog/2022-04-01/items/B0001", "getCatalogItem", None),
        (
            "GET",
            "/catalog/2020-12-01/items/B0001",
            "getCatalogItem",
            "/catalog/2020-12-01/items/{asin}",
        ),
    ],
)
def test_classify(method: str, path: str, name: str, template: str | None) -> None:
    operation = TABLE.classify(method, path)
    assert operation is not None and operation.name == name
    if template:
        assert operation.path == template


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/orders/v0"),
        ("GET", "/orders/v0/orders/1/unknown"),
        ("PATCH", "/orders/v0/orders"),
        ("GET", "/orders/v0/orders//orderItems"),  # an empty segment is no {orderId}
        ("GET", "/"),
        ("GET", "/_spproxy/health"),
    ],
)
def test_unknown_operations(method: str, path: str) -> None:
    assert TABLE.classify(method, path) is None


def test_literal_segments_win_over_variables_with_backtracking() -> None:
    table = OperationTable(
        [
            Operation("byId", "GET", "/a/{id}/c", "t", "v"),
            Operation("literal", "GET", "/a/b/d", "t", "v"),
        ]
    )
    assert table.classify("GET", "/a/b/d").name == "literal"  # type: ignore[union-attr]
    assert table.classify("GET", "/a/b/c").name == "byId"  # type: ignore[union-attr]


def test_grantless_operations_and_their_scopes() -> None:
    grantless = {(o.method, o.path): o for o in load_operations() if o.kind is Kind.GRANTLESS}
    assert set(grantless) == set(GRANTLESS_SCOPES)  # every grantless row names a real operation
    assert grantless[("GET", "/notifications/v1/destinations")].scope == (
        "sellingpartnerapi::notifications"
    )
    assert grantless[("POST", "/applications/2023-11-30/clientSecret")].scope == (
        "sellingpartnerapi::client_credential:rotation"
    )
    subscriptions = TABLE.classify("GET", "/notifications/v1/subscriptions/ANY_OFFER_CHANGED")
    assert subscriptions is not None and subscriptions.kind is Kind.ORDINARY  # seller-authorised


def test_every_operation_of_the_models_is_in_the_table() -> None:
    operations = load_operations()
    assert len(operations) == 370
    for operation in operations:
        concrete = "/".join("x" if s.startswith("{") else s for s in operation.path.split("/"))
        found = TABLE.classify(operation.method, concrete)
        assert found is not None and (found.method, found.path) == (
            operation.method,
            operation.path,
        )
    usage = {(o.name, o.path): (o.rate, o.burst) for o in operations}
    assert usage[("getOrders", "/orders/v0/orders")] == (0.0167, 20)
    assert usage[("getInventorySummaries", "/fba/inventory/v1/summaries")] == (2.0, 2)


@pytest.mark.skipif(not MODELS.is_dir(), reason="needs ../shared/spapi-models beside the repo")
def test_generated_table_is_up_to_date_with_the_models() -> None:
    from scripts.gen_operations import OUTPUT, generate

    assert OUTPUT.read_text() == generate(MODELS)


@pytest.mark.skipif(not MODELS.is_dir(), reason="needs ../shared/reference beside the repo")
def test_usage_plans_agree_with_the_cross_check_table() -> None:
    import csv

    reference = MODELS.parents[1] / "reference" / "spapi_rate_limits_core.csv"
    rows = list(csv.DictReader(reference.read_text().splitlines()))
    by_key = {(o.method, o.path): o for o in load_operations()}
    for row in rows:
        operation = by_key[(row["method"], row["path"])]
        assert operation.name == row["operationId"]
        expected = (float(row["rate_per_sec"]), int(row["burst"])) if row["burst"] else (None, None)
        assert (operation.rate, operation.burst) == expected, row
