"""`spproxy emulator`: the built-in Amazon emulator alone, to test a client of one's own against;
its flags, an access line per request, and what a client needs to know printed at start-up."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from spproxy.demo import start_emulator
from spproxy.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    DEMO_SELLER_ID,
    Application,
    EmulatorConfig,
)
from spproxy.emulator.application import DEMO_LOGIN_URI, DEMO_REDIRECT_URI, check_registered_uri
from spproxy.logs import TextFormatter
from spproxy.serve import cannot_listen, until_stopped

EMULATOR_PORT = 8100


def add_emulator_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=EMULATOR_PORT, help=f"port (default {EMULATOR_PORT})"
    )
    parser.add_argument(
        "--keys",
        metavar="AKID:SECRET",
        action="append",
        type=_aws_key,
        help="verify SigV4 with these AWS keys (repeatable); without, signatures are ignored",
    )
    parser.add_argument(
        "--no-rate-limits",
        dest="rate_limits",
        action="store_false",
        help="do not enforce SP-API usage plans (429 QuotaExceeded)",
    )
    parser.add_argument(
        "--redirect-uri",
        metavar="URI",
        action="append",
        type=_registered_uri,
        help="an OAuth redirect URI of the emulated app (repeatable; the first is the default): "
        "https://, or http:// on loopback",
    )
    parser.add_argument(
        "--login-uri",
        metavar="URI",
        type=_registered_uri,
        help="the emulated app's OAuth login URI, for the Appstore workflow",
    )
    answers = parser.add_mutually_exclusive_group()
    answers.add_argument(
        "--no-examples",
        dest="examples",
        action="store_false",
        help="do not answer from Amazon's published sandbox examples",
    )
    answers.add_argument(
        "--sandbox",
        action="store_true",
        help="behave as Amazon's static sandbox: published examples only, any live token, "
        "5 requests/s burst 15",
    )


def _aws_key(value: str) -> tuple[str, str]:
    key_id, _, secret = value.partition(":")
    if not key_id or not secret:
        raise argparse.ArgumentTypeError("expected AKID:SECRET, an access key id and its secret")
    return key_id, secret


def _registered_uri(value: str) -> str:
    try:
        check_registered_uri(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def run_emulator(args: argparse.Namespace) -> int:
    application = Application(
        login_uri=args.login_uri or DEMO_LOGIN_URI,
        redirect_uris=tuple(args.redirect_uri or (DEMO_REDIRECT_URI,)),
    )
    config = EmulatorConfig(
        application=application,
        aws_keys=dict(args.keys) if args.keys else None,
        rate_limits=args.rate_limits,
        sandbox_examples=args.examples,
        static_sandbox=args.sandbox,
    )
    # A line per request on stderr: what a client under test sent, and what it got.
    access = logging.getLogger("spproxy.emulator.access")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TextFormatter("%(asctime)s %(message)s"))
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    try:
        return asyncio.run(_serve_emulator(config, args.host, args.port, access))
    finally:
        access.removeHandler(handler)


async def _serve_emulator(
    config: EmulatorConfig, host: str, port: int, access: logging.Logger
) -> int:
    """Serve the emulator alone until SIGINT/SIGTERM."""
    try:
        emulator = await start_emulator(port, config, host=host, access_log=access)
    except OSError as exc:
        cannot_listen(host, port, exc)
        return 1
    _announce_emulator(emulator.url, config)
    try:
        await until_stopped()
    finally:
        await emulator.runner.cleanup()
    return 0


def _announce_emulator(base: str, config: EmulatorConfig) -> None:
    keys = ", ".join(config.aws_keys or ())
    signing = f"verified, keys {keys}" if keys else "not checked (SP-API ignores signatures)"
    credentials = (
        f"-d grant_type=refresh_token --data-urlencode 'refresh_token={DEMO_REFRESH_TOKEN}' "
        f"-d client_id={DEMO_CLIENT_ID} -d client_secret={DEMO_CLIENT_SECRET}"
    )
    extract = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'"
    orders = f"{base}/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER&CreatedAfter=TEST_CASE_200"
    plans = "enforced (429 QuotaExceeded)" if config.rate_limits else "off"
    examples = "on" if config.sandbox_examples else "off"
    restricted = (
        "Restricted operations (getOrderAddress, ...) want a Restricted Data Token from\n"
        f"POST {base}/tokens/2021-03-01/restrictedDataToken."
    )
    if config.static_sandbox:
        plans = "the sandbox's, 5 requests/s burst 15" if config.rate_limits else "off"
        examples = "only: Amazon's static sandbox (no emulated seller data)"
        restricted = (
            "As in Amazon's static sandbox, any live token gets the published examples,\n"
            'restricted ones too (curl -i -H "x-amz-access-token: $TOKEN" '
            f"{base}/orders/v0/orders/TEST_CASE_200/address)."
        )
    print(
        f"""spproxy emulator: a fake Amazon on {base} (LWA, STS, Tokens API and every SP-API
operation, answering Amazon's published sandbox examples); no account, no network.

  SP-API endpoint  {base}
  LWA token URL    {base}/auth/o2/token
  client id        {DEMO_CLIENT_ID}
  client secret    {DEMO_CLIENT_SECRET}
  refresh token    {DEMO_REFRESH_TOKEN}   (seller {DEMO_SELLER_ID})
  SigV4            {signing}
  usage plans      {plans}
  examples         {examples}
{_authorization_lines(base, config.application)}
Try:

  TOKEN=$(curl -s {base}/auth/o2/token {credentials} | {extract})
  curl -i -H "x-amz-access-token: $TOKEN" {base}/sellers/v1/marketplaceParticipations
  curl -i -H "x-amz-access-token: $TOKEN" '{orders}'

{restricted} Ctrl-C stops.
""",
        flush=True,
    )


def _authorization_lines(base: str, application: Application) -> str:
    """Where a seller authorises the emulated app, and where Amazon then sends the browser."""
    beta = "" if application.published else "&version=beta"
    query = f"application_id={application.application_id}&state=STATE{beta}"
    return f"""  authorize        {base}/apps/authorize/consent?{query}
  Appstore         {base}/apps/authorize/appstore?application_id={application.application_id}{beta}
  redirect URIs    {", ".join(application.redirect_uris)}
  login URI        {application.login_uri}
"""
