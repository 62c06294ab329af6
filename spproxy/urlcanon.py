"""The query string in AWS canonical encoding (SigV4 "Create a canonical request", step 3).

spproxy puts the query on the wire in exactly the encoding SigV4 signs, signed or not, so the
bytes Amazon receives are the bytes that were signed and no client library can re-encode them on
the way: RFC 3986 unreserved characters `A-Za-z0-9-_.~` stay literal, every other byte becomes
`%XX` with uppercase hex (comma `%2C`, space `%20`, colon `%3A`). Build the upstream URL with
`yarl.URL(..., encoded=True)` so yarl keeps these bytes as they are.

Imports nothing from `signing`: the unsigned path uses it too, and must never load botocore.
"""

from __future__ import annotations

import re
from urllib.parse import quote_from_bytes, unquote_to_bytes

# A '%' not followed by two hex digits: RFC 3986 2.1 has no meaning for it, so refuse rather
# than guess which bytes the client meant.
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def canonical_query(raw_query: str) -> str:
    """Re-encode a client's raw query string canonically, keeping order and repeated keys.

    Each `&`-separated field splits at its first `=`; keys and values are percent-decoded
    (`+` meaning space, as in HTML form encoding) and encoded again canonically. A field without
    `=` becomes `key=` (SigV4 signs it so); empty fields (`a=1&&b=2`) are dropped. Order is kept:
    signers sort for the signature, the wire keeps what the client sent.

    Raises `ValueError` for a malformed percent-escape (the message holds no query data).
    """
    fields = []
    for field in raw_query.split("&"):
        if not field:
            continue
        key, _, value = field.partition("=")
        fields.append(f"{_reencode(key)}={_reencode(value)}")
    return "&".join(fields)


def _reencode(text: str) -> str:
    return encode_component(decode_component(text.replace("+", " ")))


def decode_component(text: str) -> bytes:
    """Percent-decode a path segment or query field; `ValueError` if it cannot be decoded."""
    if _BAD_ESCAPE.search(text):
        raise ValueError(
            "a '%' is not followed by two hex digits; percent-encode a literal '%' as %25"
        )
    try:
        return unquote_to_bytes(text)
    except UnicodeEncodeError:  # a lone surrogate: undecodable bytes in the request line
        raise ValueError("not valid UTF-8") from None


def encode_component(raw: bytes) -> str:
    """RFC 3986's strictest form: unreserved characters literal, every other byte %XX."""
    # quote_from_bytes keeps exactly RFC 3986's unreserved set when safe is empty.
    return quote_from_bytes(raw, safe="")
