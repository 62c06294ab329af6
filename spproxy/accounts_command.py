"""`spproxy accounts list | remove NAME | rename OLD NEW`: the account store the config names
(`account_store:`), from the command line. Every spproxy serving from the store follows a change
within `account_store.poll_s`: a removed account is refused from then on and its tokens dropped.
No token is ever printed."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from spproxy.addresses import redact_url
from spproxy.check import print_table
from spproxy.config import Config, ConfigError, regional

if TYPE_CHECKING:
    from spproxy.accountstore import AccountStore, StoredAccount

ACCOUNTS_HELP = """environment: SPPROXY_CONFIG and the SPAPI_* variables, as for serve; the
config must name an account store (account_store:)

exit status:
  0  done
  1  refused (no such stored account, a name taken), or the store cannot be reached
  2  an unusable configuration (no account_store:, a key that does not open the store)

examples:
  spproxy accounts list
  spproxy accounts rename acme acme-us
  spproxy accounts remove acme-us   # every spproxy on the store refuses it within poll_s
"""


def add_accounts_commands(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", help="YAML config (as for serve)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="the stored accounts (never a token)")
    remove = actions.add_parser("remove", help="remove an account: every replica refuses it")
    remove.add_argument("name", metavar="NAME")
    rename = actions.add_parser("rename", help="give a stored account another name")
    rename.add_argument("old", metavar="OLD")
    rename.add_argument("new", metavar="NEW")


def run_accounts(config: Config, args: argparse.Namespace) -> int:
    if config.account_store is None:
        raise ConfigError(["account_store: not configured (spproxy accounts works on the store)"])
    return asyncio.run(_run(config, args))


async def _run(config: Config, args: argparse.Namespace) -> int:
    from spproxy.accountstore import AccountStore, StoreError, WrongKey

    assert config.account_store is not None
    try:
        store = await AccountStore.open(config.account_store)
    except WrongKey as error:
        raise ConfigError([f"account_store: {error}"]) from None
    except StoreError as error:
        print(f"spproxy: accounts: {error}", file=sys.stderr)
        return 1
    try:
        if args.action == "list":
            return await _list(store)
        return await _change(store, config, args)
    except StoreError as error:  # refused (nothing changed), or the store failed
        print(f"spproxy: accounts: {error}", file=sys.stderr)
        return 1
    finally:
        await store.aclose()


async def _list(store: AccountStore) -> int:
    """A table of the stored accounts; exit 1 if a token does not open."""
    accounts = await store.accounts()
    heading = ("name", "selling partner id", "region", "endpoint", "added", "refresh token")
    rows = [heading, *(_row(account) for account in accounts)]
    count = f"{len(accounts)} account{'' if len(accounts) == 1 else 's'}"
    print(f"account store: {store.where}; {count}")
    print_table(rows)
    return 0 if all(account.refresh_token for account in accounts) else 1


def _row(account: StoredAccount) -> tuple[str, ...]:
    endpoint = regional({"region": account.region, "endpoint": account.endpoint})["endpoint"]
    return (
        account.name,
        account.selling_partner_id,
        account.region,
        redact_url(endpoint),
        account.created_at.strftime("%Y-%m-%d %H:%M:%SZ"),
        "sealed" if account.refresh_token else "DOES NOT OPEN (altered, or another row's)",
    )


async def _change(store: AccountStore, config: Config, args: argparse.Namespace) -> int:
    from spproxy.accountstore import StoreRefused
    from spproxy.storedaccounts import file_clash

    name = args.name if args.action == "remove" else args.old
    if name in config.accounts:
        where = f"accounts.{name} in {config.source}"
        raise StoreRefused(f"account {name!r} is the config file's ({where}), not the store's")
    assert config.account_store is not None
    within = f"within {config.account_store.poll_s:g} s (account_store.poll_s)"
    if args.action == "remove":
        removed = await store.remove(name)
        print(
            f"removed account {name!r} (selling partner {removed.selling_partner_id}); every "
            f"spproxy on this store refuses it {within}"
        )
        return 0
    if clash := file_clash(config, args.new):
        raise StoreRefused(clash)
    renamed = await store.rename(args.old, args.new)
    print(
        f"renamed account {args.old!r} to {args.new!r} (selling partner "
        f"{renamed.selling_partner_id}); every spproxy on this store serves it by its new name "
        f"{within}"
    )
    return 0
