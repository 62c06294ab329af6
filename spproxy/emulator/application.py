"""The application the emulated Amazon knows, as registered in Solution Provider Portal: its id
and name, draft or published, the roles it asks for, and its OAuth login and redirect URIs.

The portal takes only HTTPS login and redirect URIs (an Amazon answer in selling-partner-api-docs
issue #26, "only https links are valid for login and redirect URIs"), without a fragment (RFC 6749
section 3.1.2; Amazon's Authorization Errors page, MD5110). The emulator refuses the same when an
`Application` is made, with one deliberate deviation: plain HTTP on a loopback host
(`http://127.0.0.1:PORT/...`, `[::1]`, `localhost`), so that tests and `spproxy authorize` can
receive the redirect on this machine without a certificate.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

DEMO_APPLICATION_ID = "amzn1.sp.solution.spproxydemo"
DEMO_APPLICATION_NAME = "spproxy demo"
# Placeholders until a test or `spproxy demo` registers its own: nothing listens there.
DEMO_LOGIN_URI = "https://app.example.com/amazon/login"
DEMO_REDIRECT_URI = "https://app.example.com/amazon/callback"

# The seller roles of the SP-API Roles guide, restricted ones last (Direct-to-Consumer Shipping,
# Tax Invoicing, Tax Remittance): the emulated app has them all, as its Tokens API assumes.
SELLER_ROLES = (
    "Amazon Fulfillment",
    "Amazon Logistics",
    "Amazon Warehousing and Distribution",
    "Brand Analytics",
    "Buyer Communication",
    "Buyer Solicitation",
    "Finance and Accounting",
    "Inventory and Order Tracking",
    "Pricing",
    "Product Listing",
    "Selling Partner Insights",
    "Direct-to-Consumer Shipping",
    "Tax Invoicing",
    "Tax Remittance",
)


@dataclass(frozen=True)
class Application:
    """One SP-API application. `published` False is a draft: Amazon authorises it only in a test
    workflow, one whose URIs carry `version=beta`. The first redirect URI is the default one. An
    empty `redirect_uris` or `login_uri` is an app registered without them (Amazon's MD9100)."""

    application_id: str = DEMO_APPLICATION_ID
    name: str = DEMO_APPLICATION_NAME
    published: bool = False
    roles: tuple[str, ...] = SELLER_ROLES
    login_uri: str = DEMO_LOGIN_URI
    redirect_uris: tuple[str, ...] = (DEMO_REDIRECT_URI,)

    def __post_init__(self) -> None:
        if not self.application_id or not self.name:
            raise ValueError("An Application needs an application_id and a name.")
        login = (self.login_uri,) if self.login_uri else ()  # none: MD9100 when it is needed
        for uri in (*self.redirect_uris, *login):
            check_registered_uri(uri)


def check_registered_uri(uri: str) -> None:
    """Refuse a login or redirect URI the portal would not take (loopback HTTP aside)."""
    parts = urlsplit(uri)
    if "#" in uri:
        raise ValueError(f"{uri!r}: a login or redirect URI has no fragment (#).")
    if not parts.hostname:
        raise ValueError(f"{uri!r}: a login or redirect URI is an absolute https:// URL.")
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname)):
        return
    raise ValueError(
        f"{uri!r}: Amazon takes only https:// login and redirect URIs (the emulator also takes "
        "http:// on 127.0.0.1, [::1] or localhost)."
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
