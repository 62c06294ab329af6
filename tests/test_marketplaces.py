"""The marketplace table against Amazon's docs and the regions; consent URLs; and, through the
real proxy, a call naming another region's marketplace answered 400 before Amazon sees it."""

from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources
from urllib.parse import urlsplit

import pytest

from spproxy.config import Account, Secret
from spproxy.marketplaces import (
    MARKETPLACES,
    account_region,
    central_url,
    consent_url,
    region_of,
)
from spproxy.regions import REGIONS
from tests.harness import Harness, raw_request

US, CANADA, UK, GERMANY, JAPAN = (
    "ATVPDKIKX0DER",
    "A2EUQ1WTGCTBG2",
    "A1F83G8C2ARO7P",
    "A1PA6795UKMFR9",
    "A1VC38T7YXB528",
)
ORDERS = "/orders/v0/orders?CreatedAfter=2024-01-01T00%3A00%3A00Z&MarketplaceIds="
INVENTORY = "/fba/inventory/v1/summaries?granularityType=Marketplace&granularityId={0}"
INVENTORY += "&marketplaceIds={0}"


def test_the_table_has_each_region_its_marketplaces_as_amazons_endpoints_page_lists() -> None:
    by_region = {
        name: {m.country_code for m in MARKETPLACES.values() if m.region == name}
        for name in REGIONS
    }
    europe = {"IE", "ES", "UK", "FR", "BE", "NL", "DE", "IT", "SE", "ZA", "PL", "EG", "TR", "SA"}
    assert by_region == {
        "na": {"CA", "US", "MX", "BR"},
        "eu": europe | {"AE", "IN"},
        "fe": {"SG", "AU", "JP"},
    }


def test_the_tables_rows_are_unique_known_and_https() -> None:
    text = resources.files("spproxy").joinpath("data/marketplaces.json").read_text()
    rows = json.loads(text)["marketplaces"]
    assert len({row["id"] for row in rows}) == len(rows) == len(MARKETPLACES)
    assert len({row["country_code"] for row in rows}) == len(rows)
    for marketplace in MARKETPLACES.values():
        assert marketplace.region in REGIONS
        for url in (marketplace.seller_central, marketplace.vendor_central):
            if url is not None:  # a bare origin: consent_url appends the path
                parts = urlsplit(url)
                assert (parts.scheme, parts.path, parts.query) == ("https", "", ""), url
                assert ".amazon." in (parts.hostname or ""), url


def test_lookups_by_id() -> None:
    assert (region_of(US), region_of(UK), region_of(JAPAN)) == ("na", "eu", "fe")
    assert region_of("NOTAMARKETPLACE") is None
    assert MARKETPLACES[GERMANY].country == "Germany"
    assert central_url(GERMANY, vendor=False) == "https://sellercentral-europe.amazon.com"
    assert central_url(GERMANY, vendor=True) == "https://vendorcentral.amazon.de"


def test_consent_urls_for_sellers_and_vendors() -> None:
    assert (
        consent_url(US, vendor=False) == "https://sellercentral.amazon.com/apps/authorize/consent"
    )
    assert (
        consent_url(UK, vendor=True) == "https://vendorcentral.amazon.co.uk/apps/authorize/consent"
    )
    assert consent_url("A28R8C7NBKEWEA", vendor=False) == (
        "https://sellercentral.amazon.ie/apps/authorize/consent"
    )
    with pytest.raises(LookupError, match="unknown marketplace id 'NOPE'"):
        consent_url("NOPE", vendor=False)
    with pytest.raises(LookupError, match="no Vendor Central URL is known for Ireland"):
        consent_url("A28R8C7NBKEWEA", vendor=True)  # Amazon's docs name none (data/NOTICE)


def test_an_accounts_region_is_its_endpoints_else_its_configured_one() -> None:
    account = Account("main", Secret("Atzr|x"), "na", REGIONS["na"].endpoint, "us-east-1")
    assert account_region(account) == "na"
    # The endpoint decides where the call goes: an EU host serves EU marketplaces.
    assert account_region(replace(account, endpoint=REGIONS["eu"].endpoint)) == "eu"
    sandbox = replace(account, region="fe", endpoint=REGIONS["fe"].sandbox_endpoint, sandbox=True)
    assert account_region(sandbox) == "fe"
    assert account_region(replace(account, endpoint="http://127.0.0.1:9999")) == "na"


def sent(harness: Harness) -> list[str | None]:
    """The operations that reached Amazon, RDT mints aside."""
    requests = harness.amazon.requests
    return [r.operation for r in requests if r.operation != "createRestrictedDataToken"]


async def assert_refused_naming_both_regions(harness: Harness, target: str, foreign: str) -> None:
    answer = await harness.proxy.get(target)
    assert answer.status == 400 and answer.headers["x-spproxy-origin"] == "proxy"
    error = (await answer.json())["errors"][0]
    assert error["code"] == "InvalidInput"
    country = MARKETPLACES[foreign].country
    assert f"{foreign} ({country}), a marketplace of SP-API region eu" in error["message"]
    assert "account 'main' calls region na" in error["message"]
    assert "2024" not in error["message"] + error["details"]  # no other query value echoed
    assert harness.amazon.requests == []  # Amazon never saw it


async def test_a_us_account_calling_with_a_uk_marketplace_gets_a_400_and_amazon_nothing(
    harness: Harness,
) -> None:
    await assert_refused_naming_both_regions(harness, ORDERS + UK, UK)
    answer = await harness.proxy.get(ORDERS + UK)
    assert answer.headers["x-spproxy-operation"] == "getOrders"  # classified first


@pytest.mark.parametrize(
    "marketplaces",
    [
        f"{US},{GERMANY}",  # a list, as clients write it
        f"{US}%2C{GERMANY}",  # the comma encoded
        f"{US}%2c%20{GERMANY}",  # lower-case escape, a space after the comma
        f"{US}&MarketplaceIds={GERMANY}",  # the parameter repeated
    ],
)
async def test_another_regions_marketplace_anywhere_in_the_list_is_refused(
    harness: Harness, marketplaces: str
) -> None:
    await assert_refused_naming_both_regions(harness, ORDERS + marketplaces, GERMANY)


async def test_the_same_calls_with_the_accounts_own_marketplaces_go_through(
    harness: Harness,
) -> None:
    for target in (ORDERS + US, ORDERS + f"{US},{CANADA}", INVENTORY.format(US)):
        answer = await harness.proxy.get(target)
        assert answer.status == 200, target
    assert sent(harness) == ["getOrders", "getOrders", "getInventorySummaries"]


async def test_other_parameter_spellings_are_checked_and_unknown_ids_left_to_amazon(
    harness: Harness,
) -> None:
    refused = await harness.proxy.get(INVENTORY.format(JAPAN))  # marketplaceIds, granularityId
    assert refused.status == 400 and "region fe" in (await refused.json())["errors"][0]["message"]
    single = await harness.proxy.get(f"/listings/2021-08-01/items/SELLER/SKU?marketplaceId={UK}")
    assert single.status == 400
    assert harness.amazon.requests == []
    unknown = await harness.proxy.get(ORDERS + "A1NEWMARKETPLACE")  # not in the table: Amazon's
    assert unknown.headers.get("x-spproxy-origin") != "proxy"
    assert sent(harness) == ["getOrders"]


@pytest.mark.parametrize(
    "query",
    [
        "MarketplaceIds=" + ",".join([US] * 500),  # near the longest request line aiohttp takes
        "&".join([f"MarketplaceIds={US}"] * 250),  # repeated hundreds of times
        "MarketplaceIds=%FF%FE%2C%C3%28",  # not UTF-8 once decoded
        f"MarketplaceIds=%FF%2C{UK}",  # ... before another region's id
        "MarketplaceIds=%2C%2C,,&MarketplaceIds&MarketplaceIds=",  # empty values, no '='
        "MarketplaceIds=%E2%80%AEATVPDKIKX0DER",  # a bidi control before an id
        "MarketplaceIds=%25%32%43",  # an encoded '%2C': one id, not a list
        "marketplaceId=" + "A" * 6000,
    ],
)
async def test_hostile_marketplace_queries_never_fail_the_proxy(
    harness: Harness, query: str
) -> None:
    answer = await harness.proxy.get(f"/orders/v0/orders?{query}")
    assert answer.status in (200, 400), await answer.text()


async def test_raw_bytes_that_are_not_utf8_in_the_query_are_a_400_not_a_500(
    harness: Harness,
) -> None:
    port = harness.proxy.port
    assert port is not None
    request = b"GET /orders/v0/orders?MarketplaceIds=\xff\xfe%2CATVPDKIKX0DER HTTP/1.1\r\n"
    answer = await raw_request(port, request + b"Host: x\r\nConnection: close\r\n\r\n")
    assert answer.split(b" ", 2)[1] == b"400"  # refused by the request-line parser
    assert harness.amazon.requests == []
