"""The SP-API operations the emulator serves, one module per API; OPERATIONS is the registry:
the rows declared here (most with a handler of their own), then a row for every other operation
of Amazon's models, answered from its published sandbox examples only (sandbox.py)."""

from __future__ import annotations

from spproxy.emulator.apis import (
    application_management,
    catalog,
    easy_ship,
    emulator_helpers,
    fba_inventory,
    feeds,
    merchant_fulfillment,
    notifications,
    orders,
    reports,
    sellers,
    shipment_invoicing,
    shipping,
    tokens,
    vendor_direct_fulfillment,
)
from spproxy.emulator.operations import Operation
from spproxy.emulator.sandbox import examples_only_operations

DECLARED: tuple[Operation, ...] = (
    *sellers.OPERATIONS,
    *orders.OPERATIONS,
    *catalog.OPERATIONS,
    *feeds.OPERATIONS,
    *fba_inventory.OPERATIONS,
    *reports.OPERATIONS,
    *tokens.OPERATIONS,
    *merchant_fulfillment.OPERATIONS,
    *shipping.OPERATIONS,
    *shipment_invoicing.OPERATIONS,
    *easy_ship.OPERATIONS,
    *vendor_direct_fulfillment.OPERATIONS,
    *notifications.OPERATIONS,
    *application_management.OPERATIONS,
    *emulator_helpers.OPERATIONS,
)

OPERATIONS: tuple[Operation, ...] = (*DECLARED, *examples_only_operations(DECLARED))
