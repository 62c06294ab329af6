"""Every header name spproxy reads or writes, in one place.

x-spproxy-*               spproxy's own: read from clients, written on answers, never sent
                          to Amazon (upstream drops every header with the prefix)
x-amz-access-token        the token Amazon wants; a client's is replaced, never forwarded
x-amzn-*                  Amazon's, relayed as they came
"""

from __future__ import annotations

SPPROXY_PREFIX = "x-spproxy-"

# read from clients
ACCOUNT_HEADER = "x-spproxy-account"  # which configured account (else the default)
KEY_HEADER = "x-spproxy-key"  # the client's key (clients:)
DATA_ELEMENTS_HEADER = "x-spproxy-data-elements"  # narrows an RDT's PII, or "none"
DELEGATED_RDT_HEADER = "x-spproxy-rdt"  # an RDT a delegator handed over, used as it is
REPORT_TYPE_HEADER = "x-spproxy-report-type"  # a report document's type, if spproxy cannot know

# written on answers
OPERATION_HEADER = "x-spproxy-operation"  # the operation from Amazon's models, or "unknown"
CREDENTIAL_HEADER = "x-spproxy-credential"  # lwa | grantless | rdt-cached | rdt-minted | ...
ORIGIN_HEADER = "x-spproxy-origin"  # "proxy" on every answer spproxy made itself

# Amazon's
ACCESS_TOKEN_HEADER = "x-amz-access-token"  # noqa: S105 - a header name
RATE_LIMIT_HEADER = "x-amzn-RateLimit-Limit"  # the rate Amazon applied to the call
REQUEST_ID_HEADER = "x-amzn-RequestId"
