"""The SP-API pipeline: request ids, unknown paths, what is recorded as received and answered."""

from __future__ import annotations

from typing import Any

from yarl import URL

from spproxy.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
)
from tests.emulator.conftest import Client, grantless_token, seller_token, spapi_error, state_of

NOTIFICATIONS = "sellingpartnerapi::notifications"


async def lwa(client: Client, **form: str) -> tuple[int, dict[str, Any]]:
    credentials = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}
    response = await client.post("/auth/o2/token", data={**credentials, **form})
    return response.status, await response.json()


PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"


def seller(client: Client) -> dict[str, str]:
    token = state_of(client).issue_token("lwa", selling_partner_id="A1SELLER")
    return {"x-amz-access-token": token}


async def test_every_answer_has_a_fresh_request_id(amazon: Client) -> None:
    answers = [
        await amazon.get("/sellers/v1/marketplaceParticipations", headers=seller_token(amazon)),
        await amazon.get("/sellers/v1/marketplaceParticipations"),
        await amazon.get("/no/such/operation", headers=seller_token(amazon)),
        await amazon.post("/auth/o2/token", data={}),
    ]
    request_ids = [answer.headers.get("x-amzn-RequestId") for answer in answers]
    assert all(request_ids)
    assert len(set(request_ids)) == len(answers)


async def test_unknown_path_is_404_in_spapi_shape(amazon: Client) -> None:
    for method, path in [("GET", "/orders/v1/nothing"), ("DELETE", "/sellers/v1/x"), ("GET", "/")]:
        response = await amazon.request(method, path, headers=seller_token(amazon))
        assert response.status == 404
        assert (await spapi_error(response))["code"] == "NotFound"
        assert "x-amzn-RequestId" in response.headers


async def test_requests_are_recorded_as_received(amazon: Client) -> None:
    headers = {**seller_token(amazon), "x-custom": "kept", "Content-Type": "text/plain"}
    as_on_the_wire = amazon.make_url("").join(
        URL("/_emulator/echo/a%2Fb?x=1,2&y=%3A", encoded=True)
    )
    await amazon.session.post(as_on_the_wire, data=b"hello", headers=headers)
    await amazon.get("/sellers/v1/marketplaceParticipations")
    await amazon.get("/nowhere", headers=grantless_token(amazon, NOTIFICATIONS))

    echoed, refused, unknown = state_of(amazon).requests
    assert (echoed.method, echoed.raw_path, echoed.query_string) == (
        "POST",
        "/_emulator/echo/a%2Fb",
        "x=1,2&y=%3A",
    )
    assert echoed.headers["x-custom"] == "kept"
    assert echoed.headers["x-amz-access-token"] == headers["x-amz-access-token"]
    assert echoed.body == b"hello"
    assert (echoed.token_kind, echoed.signature) == ("lwa", "absent")
    assert (refused.raw_path, refused.token_kind) == ("/sellers/v1/marketplaceParticipations", None)
    assert (unknown.raw_path, unknown.token_kind) == ("/nowhere", "grantless")


async def test_lwa_calls_are_not_recorded_as_spapi_requests(amazon: Client) -> None:
    await lwa(amazon, grant_type="refresh_token", refresh_token=DEMO_REFRESH_TOKEN)
    assert state_of(amazon).requests == []


async def test_every_recorded_call_carries_the_status_amazon_answered(amazon: Client) -> None:
    headers = seller(amazon)
    await amazon.get(PARTICIPATIONS, headers=headers)
    await amazon.get(PARTICIPATIONS)
    await amazon.get("/no/such/operation", headers=headers)
    received = state_of(amazon).requests
    assert [(r.operation, r.status) for r in received] == [
        ("getMarketplaceParticipations", 200),
        ("getMarketplaceParticipations", 403),
        (None, 404),
    ]
