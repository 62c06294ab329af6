"""The SP-API operations the emulator serves, one module per API; OPERATIONS is the registry."""

from __future__ import annotations

from spproxy.emulator.apis import (
    application_management,
    catalog,
    emulator_helpers,
    feeds,
    notifications,
    orders,
    sellers,
)
from spproxy.emulator.operations import Operation

OPERATIONS: tuple[Operation, ...] = (
    *sellers.OPERATIONS,
    *orders.OPERATIONS,
    *catalog.OPERATIONS,
    *feeds.OPERATIONS,
    *notifications.OPERATIONS,
    *application_management.OPERATIONS,
    *emulator_helpers.OPERATIONS,
)
