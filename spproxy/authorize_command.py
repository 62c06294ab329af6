"""`spproxy authorize --marketplace ID [--name NAME] [--vendor] [--port N]`: a developer
authorizes their own seller account once, without deploying the website workflow.

spproxy's own app listens on 127.0.0.1:PORT alone, with the loopback redirect URI in place of
onboarding.redirect_uri (that one is the deployment's HTTPS callback, which would not come back
to this process). The command makes a ticket as an admin client would, prints the link, and
waits for the real flow (start, Amazon's consent page, callback) to end; the callback's
`finished` hook says how, so nothing is polled. No token or code is ever printed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from typing import Any

from spproxy.app import make_app
from spproxy.authorizations import TTL_S, Authorization
from spproxy.config import Config, ConfigError, Listen
from spproxy.errors import BadRequest
from spproxy.logs import configure_logging
from spproxy.onboarding import Onboarding, Step
from spproxy.onboardingroutes import PREFIX, loopback_uri
from spproxy.proxy import PROXY
from spproxy.serve import start_serving, until_stopped

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8000
STARTED_BY = "spproxy authorize"  # the audit log's client; no configured client has a space
CANCELLED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C
AUTHORIZE_HELP = f"""Before the first run, add http://{LOOPBACK}:PORT{PREFIX}/callback
(PORT: --port, {DEFAULT_PORT}) to your app's OAuth redirect URIs in Solution Provider Portal:
this command uses it instead of onboarding.redirect_uri. A draft app needs onboarding.draft: true.

environment: SPPROXY_CONFIG, as for serve; the config needs account_store: and onboarding:
(application_id)

exit status:
  0    the seller was stored (spproxy serve on the same store serves it within poll_s)
  1    nothing stored: declined, refused by LWA, the name or the seller taken, no answer
       within {TTL_S / 60:g} minutes (the link's life), or the port cannot be listened on
  2    an unusable configuration or command line
  130  cancelled (Ctrl-C or SIGTERM)

example:
  spproxy authorize --marketplace ATVPDKIKX0DER --name acme-us
"""


def add_authorize_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--marketplace",
        metavar="ID",
        required=True,
        help="the marketplace whose Seller Central asks (e.g. ATVPDKIKX0DER, Amazon.com)",
    )
    parser.add_argument("--name", help="the account's name (default seller-SELLINGPARTNERID)")
    parser.add_argument("--vendor", action="store_true", help="Vendor Central, not Seller Central")
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"listen on {LOOPBACK}:PORT; the redirect URI names it (default {DEFAULT_PORT})",
    )
    parser.add_argument("--config", metavar="PATH", help="YAML config (as for serve)")


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, got {text!r}")
    return int(text)


def run_authorize(config: Config, args: argparse.Namespace) -> int:
    if config.onboarding is None:  # configread: onboarding: needs account_store: too
        raise ConfigError(["onboarding: not configured (spproxy authorize needs application_id)"])
    configure_logging("warning")  # a store or token problem, not every request
    try:
        status = asyncio.run(_authorize(_on_loopback(config, args.port), args))
    except KeyboardInterrupt:  # Ctrl-C before the wait began; during it, until_stopped
        status = CANCELLED
    if status == CANCELLED:
        print("spproxy: authorize: cancelled; nothing was stored", file=sys.stderr)
    return status


def _on_loopback(config: Config, port: int) -> Config:
    """`config` listening on the loopback port alone (plain HTTP: the browser comes back to this
    machine), with Amazon sending the browser back there."""
    assert config.onboarding is not None
    onboarding = dataclasses.replace(config.onboarding, redirect_uri=loopback_uri(port, "callback"))
    return dataclasses.replace(
        config, listen=Listen(host=LOOPBACK, port=port), onboarding=onboarding
    )


async def _authorize(config: Config, args: argparse.Namespace) -> int:
    app = make_app(config)
    runner = await start_serving(app, config)
    if runner is None:
        return 1
    try:
        onboarding = app[PROXY].onboarding
        assert onboarding is not None  # onboarding: and account_store: are configured
        return await _onboard(onboarding, args)
    finally:
        await runner.cleanup()  # requests in flight finish first: the browser gets its page


async def _onboard(onboarding: Onboarding, args: argparse.Namespace) -> int:
    finished: asyncio.Future[Step] = asyncio.get_running_loop().create_future()

    def on_finished(authorization: Authorization, step: Step) -> None:
        if authorization.started_by == STARTED_BY and not finished.done():
            finished.set_result(step)

    onboarding.finished.append(on_finished)
    try:
        ticket = await onboarding.ticket(args.marketplace, args.name, args.vendor, STARTED_BY)
    except BadRequest as refused:  # an unknown marketplace, a name spproxy does not take
        print(f"spproxy: authorize: {refused.message} {refused.details}".rstrip(), file=sys.stderr)
        return 2
    print(_invitation(onboarding, args, ticket), flush=True)
    return await _outcome(finished, onboarding.pending.ttl_s)


def _invitation(onboarding: Onboarding, args: argparse.Namespace, ticket: str) -> str:
    """The link to open, where it leads, and where Amazon sends the browser back."""
    central = "Vendor Central" if args.vendor else "Seller Central"
    consent = onboarding.consent_page(args.marketplace, args.vendor)
    callback, waiting = loopback_uri(args.port, "callback"), _minutes(onboarding.pending.ttl_s)
    return (
        f"open in a browser: {loopback_uri(args.port, 'start')}?ticket={ticket} "
        f"(then {central}, {consent}, for marketplace {args.marketplace}; back to "
        f"{callback}); waiting up to {waiting}"
    )


async def _outcome(finished: asyncio.Future[Step], timeout_s: float) -> int:
    """How the authorization ended, in one line, as the exit status; bounded by `timeout_s`,
    the link's life."""
    stopped = asyncio.ensure_future(until_stopped())
    either: set[asyncio.Future[Any]] = {finished, stopped}
    done, _ = await asyncio.wait(either, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if finished not in done:
        if stopped in done:
            return CANCELLED
        print(f"spproxy: authorize: no answer within {_minutes(timeout_s)}", file=sys.stderr)
        return 1
    step = finished.result()
    if step.status != 200:  # declined, refused by LWA, a conflict, another browser
        print(f"spproxy: authorize: {step.title}: {step.message}", file=sys.stderr)
        return 1
    print(step.message)
    return 0


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} minutes"
