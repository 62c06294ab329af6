"""The emulator app: body size limit, every operation of the models routed, the role-denial config
checked."""

from __future__ import annotations

import io

import pytest

from spproxy.emulator import (
    EmulatorConfig,
    make_emulator_app,
)
from spproxy.emulator.apis import OPERATIONS
from spproxy.emulator.app import MAX_BODY_BYTES
from spproxy.emulator.examples import published
from tests.emulator.conftest import Client, seller_token, spapi_error


async def test_a_64_mib_body_is_accepted(amazon: Client) -> None:
    body = io.BytesIO(bytes(MAX_BODY_BYTES))
    response = await amazon.post("/_emulator/echo/big", data=body, headers=seller_token(amazon))
    assert response.status == 200
    assert len(await response.read()) == MAX_BODY_BYTES == 64 * 1024 * 1024


async def test_body_over_64_mib_is_413_in_spapi_shape(amazon: Client) -> None:
    body = io.BytesIO(bytes(MAX_BODY_BYTES + 1))
    response = await amazon.post("/_emulator/echo/big", data=body, headers=seller_token(amazon))
    assert response.status == 413
    assert (await spapi_error(response))["code"] == "RequestEntityTooLarge"


@pytest.mark.parametrize(
    "config",
    [
        EmulatorConfig(denied_paths=frozenset({"/mfn/v0/shipments/{id}"})),
        EmulatorConfig(denied_paths=frozenset({"/reports/2021-06-30/reports/{reportId}"})),
        EmulatorConfig(denied_data_elements=frozenset({"buyerPhone"})),
    ],
)
def test_a_denied_role_must_name_something_restricted(config: EmulatorConfig) -> None:
    with pytest.raises(ValueError, match="denies what no restricted operation has"):
        make_emulator_app(config)


def test_every_operation_of_the_models_is_routed() -> None:
    routed = {(op.method, op.path) for op in OPERATIONS}
    assert set(published()) <= routed
    assert len(published()) == 370
