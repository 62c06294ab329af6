"""The command line's help texts: each command's environment, exit statuses and examples."""

from __future__ import annotations

import argparse
from typing import Any


def command(
    commands: Any, name: str, summary: str, description: str, epilog: str
) -> argparse.ArgumentParser:
    """A subcommand whose help keeps the epilog's lines as written."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


EXIT_STATUS = """exit status:
  0  stopped by SIGINT or SIGTERM (requests in flight finish first)
  1  a runtime failure: the port cannot be listened on
  2  an unusable configuration or command line (one line per problem)"""
SERVE_HELP = f"""environment (a flag wins over its variable, a variable over the file):
  SPPROXY_CONFIG       the config file, as --config
  SPPROXY_HOST         as --host
  SPPROXY_PORT         as --port
  SPPROXY_LOG_LEVEL    as --log-level
  SPPROXY_LOG_FORMAT   as --log-format
  SPPROXY_WORKERS      as --workers
  SPPROXY_EVENT_LOOP   as --event-loop: auto (uvloop if installed), uvloop or asyncio
  without a config file, one account from SPAPI_CLIENT_ID, SPAPI_CLIENT_SECRET,
  SPAPI_REFRESH_TOKEN, SPAPI_REGION (each secret also as *_FILE: a file holding it),
  optionally SPAPI_SANDBOX, SPAPI_ENDPOINT, SPAPI_LWA_ENDPOINT, AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_ROLE_ARN

{EXIT_STATUS}

examples:
  spproxy serve --config spproxy.yaml
  SPPROXY_PORT=0 spproxy serve           # a free port, printed in the start-up line
  curl -i http://127.0.0.1:8000/sellers/v1/marketplaceParticipations
"""
DEMO_HELP = f"""environment: SPPROXY_PORT, SPPROXY_LOG_LEVEL, SPPROXY_LOG_FORMAT and
SPPROXY_EVENT_LOOP, as the flags

{EXIT_STATUS}

example:
  spproxy demo --port 8000     # then the curl lines it prints
"""
CHECK_HELP = """environment: SPPROXY_CONFIG and the SPAPI_* variables, as for serve

exit status:
  0  every account's refresh token was exchanged
  1  an account's exchange failed (the table says why)
  2  an unusable configuration

example:
  spproxy check --config spproxy.yaml
"""
EMULATOR_HELP = """exit status:
  0  stopped by SIGINT or SIGTERM
  1  the port cannot be listened on
  2  an unusable command line

example:
  spproxy emulator --port 8100 --keys AKIDEXAMPLE:secret
"""
JOB_HELP = """environment:
  SPPROXY_HOST, SPPROXY_PORT  where spproxy listens, unless --proxy (default 127.0.0.1:8000)
  SPPROXY_KEY                 the client key (x-spproxy-key), as --key
  with --config, no spproxy need run: the command serves that config itself, on loopback

progress goes to standard error: one redrawn line (status, elapsed, polls) on a terminal, a line
per status change otherwise; polls are 1 s apart, then twice as far each time, up to 15 s

exit status:
  0    {done}
  1    {failed}
  2    an unusable command line, or --config's configuration
  130  interrupted (Ctrl-C): a job still IN_QUEUE is cancelled ({cancel}); nothing is written"""
REPORT_HELP = (
    JOB_HELP.format(
        done="the report's document was written (to -o FILE whole, or to standard output)",
        failed="the report ended FATAL or CANCELLED, spproxy or Amazon refused a call (an unknown\n"
        "       report type), spproxy cannot be reached, or the download broke off; -o FILE is\n"
        "       never left partial",
        cancel="cancelReport",
    )
    + """

examples:
  spproxy report GET_MERCHANT_LISTINGS_ALL_DATA --marketplace ATVPDKIKX0DER -o listings.tsv
  spproxy report GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL --marketplace ATVPDKIKX0DER \\
    --start 2026-11-01T00:00:00Z --end 2026-11-08T00:00:00Z --account acme-us > orders.tsv
"""
)
FEED_HELP = (
    JOB_HELP.format(
        done="the feed is DONE and its processing report written (it lists failed messages)",
        failed="the feed ended FATAL (its processing report written) or CANCELLED, a call was\n"
        "       refused (a feed over 64 MiB: 413), spproxy cannot be reached, or the download\n"
        "       broke off",
        cancel="cancelFeed",
    )
    + """

example:
  spproxy feed JSON_LISTINGS_FEED listings.json --marketplace ATVPDKIKX0DER -o report.json
"""
)
