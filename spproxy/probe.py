"""`python -m spproxy.probe [health|ready]`: the container health check, without curl or wget.

Asks the spproxy in the same container or pod, on 127.0.0.1 and port `$SPPROXY_PORT` (8000 when
unset or empty, as `${SPPROXY_PORT:-8000}`), for `/_spproxy/health` (the default: the process
serves) or `/_spproxy/ready` (its token exchanges succeed). Exit 0 on a 200; 1 otherwise, with
one line saying why (Docker keeps it in the health log). The Dockerfile's HEALTHCHECK, the
compose healthcheck and the Kubernetes probes in deploy/ all run it.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

ENDPOINTS = ("health", "ready")
TIMEOUT_S = 3  # below every timeout the health checks in deploy/ and the Dockerfile allow


def probe_url(endpoint: str, env: Mapping[str, str]) -> str:
    return f"http://127.0.0.1:{env.get('SPPROXY_PORT') or '8000'}/_spproxy/{endpoint}"


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] = os.environ) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if len(args) > 1 or (args and args[0] not in ENDPOINTS):
        print("usage: python -m spproxy.probe [health|ready]", file=sys.stderr)
        return 2
    url = probe_url(args[0] if args else "health", env)
    # No proxy: an HTTP_PROXY in the environment must not catch a loopback address.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=TIMEOUT_S) as answer:
            if answer.status == 200:
                return 0
            status, reason = answer.status, answer.read(300)
    except urllib.error.HTTPError as error:  # a non-2xx answer: /ready's 503 with its reason
        with error:
            status, reason = error.code, error.read(300)
    except (OSError, ValueError) as error:  # refused, timed out, a port that is no number
        print(f"{url}: {error}")
        return 1
    print(f"{url}: {status} {reason.decode(errors='replace')}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
