"""Addresses as spproxy shows and judges them: URLs with their credentials masked, and the hosts
and peers only this machine can use."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def redact_url(url: str) -> str:
    """A URL as status and logs show it: any user or password in it masked."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()


def is_loopback(address: str | None) -> bool:
    """A listen host or a peer address that only this machine can use."""
    if address == "localhost":
        return True
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
