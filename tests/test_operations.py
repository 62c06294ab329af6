from __future__ import annotations

import re
from pathlib import Path

import pytest

from spproxy.operations import (
    GRANTLESS_SCOPES,
    ORDER_DATA_ELEMENTS,
    RESTRICTED,
    RESTRICTED_REPORT_TYPES,
    SANDBOX_PLAN,
    Kind,
    Operation,
    OperationTable,
    load_operations,
    load_table,
    usage_plan,
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
    test = TABLE.classify(
        "POST", "/notifications/v1/subscriptions/ANY_OFFER_CHANGED/testNotification"
    )
    assert test is not None and test.name == "sendTestNotification"
    assert (test.kind, test.scope) == (Kind.GRANTLESS, "sellingpartnerapi::notifications")
    subscriptions = TABLE.classify("GET", "/notifications/v1/subscriptions/ANY_OFFER_CHANGED")
    assert subscriptions is not None and subscriptions.kind is Kind.ORDINARY  # seller-authorised


@pytest.mark.skipif(not MODELS.is_dir(), reason="needs ../shared/spapi-models beside the repo")
def test_what_the_models_call_grantless_is_grantless_here_and_in_the_emulator() -> None:
    """The Notifications model says it of seven operations ("The `sendTestNotification` API is
    grantless"); the emulator asks for the same scopes spproxy sends."""
    from scripts.models import operations
    from spproxy.emulator.apis import OPERATIONS as EMULATED

    said = {
        (method, path)
        for _name, _model, path, _item, method, operation in operations(MODELS)
        if re.search(r"\bis grantless\b", operation.get("description", ""))
    }
    assert len(said) == 7
    assert said <= set(GRANTLESS_SCOPES)
    emulated = {(o.method, o.path): o.grantless_scope for o in EMULATED if o.grantless_scope}
    assert emulated == dict(GRANTLESS_SCOPES)


def test_every_operation_of_the_models_is_in_the_table() -> None:
    operations = load_operations()
    assert len(operations) == 371  # the models' 370 and cancelShipmentOld
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
    # The models' other forms: a Default row among plan types, escaped line breaks, no figures.
    product_types = "/definitions/2020-09-01/productTypes"
    assert usage[("searchDefinitionsProductTypes", product_types)] == (5.0, 10)
    assert usage[("getDefinitionsProductType", product_types + "/{productType}")] == (5.0, 10)
    items = "/inbound/fba/2024-03-20/items"
    assert usage[("listItemComplianceDetails", items + "/compliance")] == (2.0, 6)
    assert usage[("listPrepDetails", items + "/prepDetails")] == (None, None)


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


def test_restricted_operations_exist_in_the_official_models() -> None:
    """Every restricted row names a real operation: method and path as Amazon's models have them.

    cancelShipmentOld is the exception: the Tokens guide still lists it as restricted, but the
    Merchant Fulfillment model dropped its path, so the table carries it by hand.
    """
    from_models = {
        (o.method, o.path): o for o in load_operations() if o.name != "cancelShipmentOld"
    }
    for key in RESTRICTED:
        if key == ("PUT", "/mfn/v0/shipments/{shipmentId}/cancel"):
            continue
        assert key in from_models, key
        assert from_models[key].kind is Kind.RESTRICTED


def test_restricted_rows_agree_with_the_cross_check_table() -> None:
    import csv

    reference = Path(__file__).resolve().parents[2] / "shared" / "reference"
    if not reference.is_dir():
        pytest.skip("needs ../shared/reference beside the repo")
    rows = list(
        csv.DictReader((reference / "spapi_restricted_operations.csv").read_text().splitlines())
    )
    assert {(r["method"], r["path_template"]) for r in rows} == set(RESTRICTED)
    for row in rows:
        restriction = RESTRICTED[(row["method"], row["path_template"])]
        assert restriction.generic_path == (not row["generic_path_rdt_ok"].startswith("NO")), row
        if row["operationId"] in ("getOrder", "getOrders") and row["api"] == "Orders":
            assert restriction.data_elements == ORDER_DATA_ELEMENTS
        elif row["operationId"] == "getOrderItems":
            assert restriction.data_elements == {"buyerInfo"}
        else:
            assert restriction.data_elements == frozenset(), row


def test_orders_2026_needs_no_rdt_and_v0_does() -> None:
    new = [o for o in load_operations() if o.path.startswith("/orders/2026-01-01/")]
    assert new and all(o.kind is Kind.ORDINARY for o in new)
    order = TABLE.classify("GET", "/orders/v0/orders/123-1234567-1234567")
    assert order is not None and order.kind is Kind.RESTRICTED
    document = TABLE.classify("GET", "/reports/2021-06-30/documents/amzn1.spdoc.1")
    assert document is not None and document.restriction is not None
    assert document.restriction.generic_path is False
    assert len(RESTRICTED_REPORT_TYPES) == 16


def test_a_sandbox_account_has_the_sandboxs_plan_for_every_operation() -> None:
    get_orders = TABLE.classify("GET", "/orders/v0/orders")
    assert get_orders is not None
    assert usage_plan(get_orders, sandbox=False) == (0.0167, 20)
    assert usage_plan(get_orders, sandbox=True) == SANDBOX_PLAN == (5.0, 15)
    assert usage_plan(None, sandbox=True) == SANDBOX_PLAN  # unknown paths too
    assert usage_plan(None, sandbox=False) == (None, None)
