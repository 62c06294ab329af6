"""Amazon's marketplaces: each id's country, SP-API region, Seller Central and Vendor Central.

The table is data, `data/marketplaces.json` (where each entry comes from: `data/NOTICE`). It
serves the consent URLs of the authorization workflows, and one check on the request path: an
SP-API endpoint serves only its own region's marketplaces, and Amazon answers a call naming
another region's with an error that does not say so. spproxy answers it with a 400 that does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from urllib.parse import unquote, urlsplit

from spproxy.config import Account
from spproxy.errors import BadRequest
from spproxy.regions import REGIONS

# Every query parameter that names marketplaces in Amazon's models; a value is one id or a
# comma-separated list, and a client may repeat the parameter.
MARKETPLACE_PARAMETERS = ("MarketplaceIds", "marketplaceIds", "MarketplaceId", "marketplaceId")
# Most queries name none of them, and are not parsed at all.
_NAMES_ONE = re.compile(f"(?:^|&)(?:{'|'.join(map(re.escape, MARKETPLACE_PARAMETERS))})=")
CONSENT_PATH = "/apps/authorize/consent"


@dataclass(frozen=True, slots=True)
class Marketplace:
    id: str
    country: str
    country_code: str
    region: str  # a key of regions.REGIONS
    seller_central: str
    vendor_central: str | None  # None: Amazon's docs name none (see data/NOTICE)


def _load() -> Mapping[str, Marketplace]:
    text = resources.files("spproxy").joinpath("data/marketplaces.json").read_text()
    rows = json.loads(text)["marketplaces"]
    return MappingProxyType({row["id"]: Marketplace(**row) for row in rows})


MARKETPLACES = _load()
_CENTRAL_REGIONS = MappingProxyType(
    {
        central: marketplace.region
        for marketplace in MARKETPLACES.values()
        for central in (marketplace.seller_central, marketplace.vendor_central)
        if central is not None
    }
)
# Each region's endpoints, sandbox or not: the region an account's calls reach.
_ENDPOINT_REGIONS = MappingProxyType(
    {
        endpoint: name
        for name, region in REGIONS.items()
        for endpoint in (region.endpoint, region.sandbox_endpoint)
    }
)


def region_of(marketplace_id: str) -> str | None:
    """The SP-API region serving a marketplace; None for an id not in the table."""
    marketplace = MARKETPLACES.get(marketplace_id)
    return marketplace.region if marketplace else None


def central_url(marketplace_id: str, *, vendor: bool) -> str:
    """The marketplace's Seller Central URL, or its Vendor Central URL; LookupError if unknown."""
    marketplace = MARKETPLACES.get(marketplace_id)
    if marketplace is None:
        raise LookupError(f"unknown marketplace id {marketplace_id!r}")
    if not vendor:
        return marketplace.seller_central
    if marketplace.vendor_central is None:
        raise LookupError(f"no Vendor Central URL is known for {marketplace.country}")
    return marketplace.vendor_central


def consent_url(marketplace_id: str, *, vendor: bool) -> str:
    """Where a selling partner consents to an app (without its query: application_id, state,
    version=beta); LookupError for an unknown id or a Vendor Central Amazon's docs do not name."""
    return central_url(marketplace_id, vendor=vendor) + CONSENT_PATH


def central_region(url: str) -> str | None:
    """The region of the Seller or Vendor Central `url` is on (scheme and host exactly, any
    path); None for any other URL: where the Appstore workflow may send a browser back to."""
    where = urlsplit(url)
    origin = f"{where.scheme}://{where.netloc}"
    return _CENTRAL_REGIONS.get(origin)


def account_region(account: Account) -> str:
    """The region an account's calls reach: its endpoint's; for an endpoint that is no
    region's (the emulator, a test host), its configured region."""
    return _ENDPOINT_REGIONS.get(account.endpoint, account.region)


def check_marketplaces(query: str, account: Account) -> None:
    """400 if the query names a marketplace of another region than the account's endpoint.

    `query` is the canonical query (`target.Target.query`): names literal, values
    percent-encoded (a comma is %2C). An id not in the table is left to Amazon.
    """
    if _NAMES_ONE.search(query) is None:
        return
    region = account_region(account)
    for field in query.split("&"):
        name, _, value = field.partition("=")
        if name not in MARKETPLACE_PARAMETERS:
            continue
        for marketplace_id in unquote(value).split(","):
            marketplace = MARKETPLACES.get(marketplace_id.strip())
            if marketplace is not None and marketplace.region != region:
                raise _foreign(name, marketplace, account, region)


def _foreign(name: str, marketplace: Marketplace, account: Account, region: str) -> BadRequest:
    # Names only the marketplace, from the table: other query values may be PII.
    return BadRequest(
        f"{name} names {marketplace.id} ({marketplace.country}), a marketplace of SP-API region "
        f"{marketplace.region}; account {account.name!r} calls region {region}.",
        f"Each regional endpoint serves only its own marketplaces: send the call with an account "
        f"of region {marketplace.region} (x-spproxy-account), or without {marketplace.id}.",
    )
