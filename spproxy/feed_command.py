"""`spproxy feed TYPE FILE --marketplace ID [--content-type TYPE] [-o FILE]`: a feed, from its
upload to its processing report, through a running spproxy (or, with --config, one of its own:
jobproxy).

FILE goes up through POST /_spproxy/documents/feeds (createFeedDocument and the presigned PUT,
64 MiB at most), createFeed names the document, getFeed is polled until the feed ends (jobwatch:
paced polls, progress, Ctrl-C cancelling it while IN_QUEUE), then the processing report comes
through GET /_spproxy/documents/feeds/{resultFeedDocumentId} to FILE (whole or not at all) or
standard output. DONE exits 0 (the report says which messages failed); FATAL exits 1 once its
processing report is written; CANCELLED exits 1.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from spproxy.jobwatch import INTERRUPTED, Terminal, follow, run_command
from spproxy.proxyclient import Failed, ProxyClient, add_client_options, output, written_to

FEEDS = "/feeds/2021-06-30/feeds"
FEED_UPLOAD = "/_spproxy/documents/feeds"
FEED_DOCUMENTS = "/_spproxy/documents/feeds/"
# By the file's extension, as Amazon's feed types take them; others need --content-type.
CONTENT_TYPES = {
    ".json": "application/json",
    ".xml": "text/xml; charset=UTF-8",
    ".tsv": "text/tab-separated-values; charset=UTF-8",
    ".txt": "text/tab-separated-values; charset=UTF-8",
}
USAGE = 2


def add_feed_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("feed_type", metavar="TYPE", help="e.g. JSON_LISTINGS_FEED")
    parser.add_argument("file", metavar="FILE", help="the feed's content")
    parser.add_argument(
        "--content-type",
        metavar="TYPE",
        help="the feed's content type (default by FILE's extension: .json, .xml, .tsv, .txt)",
    )
    add_client_options(parser)


def run_feed(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> int:
    return run_command("feed", feed, args, env)


async def feed(client: ProxyClient, args: argparse.Namespace, terminal: Terminal) -> int:
    file = Path(args.file)
    content_type = args.content_type or CONTENT_TYPES.get(file.suffix.lower())
    if content_type is None:
        terminal.say(f"spproxy feed: {file}: give --content-type (no default for its extension)")
        return USAGE
    document_id = await _upload(client, file, content_type)
    spec = {
        "feedType": args.feed_type,
        "marketplaceIds": args.marketplace,
        "inputFeedDocumentId": document_id,
    }
    created = await client.call("createFeed", "POST", FEEDS, spec)
    feed_id = created.get("feedId")
    if not isinstance(feed_id, str):
        raise Failed("createFeed answered without a feedId")
    label = f"feed {feed_id}"
    path = f"{FEEDS}/{quote(feed_id, safe='')}"
    ended = await follow(client, ("getFeed", "cancelFeed"), path, label, terminal)
    if ended is None:
        return INTERRUPTED
    return await _finish(client, args, ended, label, terminal)


async def _upload(client: ProxyClient, file: Path, content_type: str) -> str:
    try:
        content = file.open("rb")
    except OSError as exc:
        raise Failed(f"{file}: {exc.strerror}") from None
    with content:
        size = os.fstat(content.fileno()).st_size
        uploaded = await client.upload("feed upload", FEED_UPLOAD, content, size, content_type)
    document_id = uploaded.get("feedDocumentId")
    if not isinstance(document_id, str):
        raise Failed("the feed upload answered without a feedDocumentId")
    return document_id


async def _finish(
    client: ProxyClient,
    args: argparse.Namespace,
    ended: dict[str, Any],
    label: str,
    terminal: Terminal,
) -> int:
    status, result = ended.get("processingStatus"), ended.get("resultFeedDocumentId")
    if status == "CANCELLED":
        terminal.say(f"{label} was CANCELLED (at Amazon, or by another client): no report")
        return 1
    if not isinstance(result, str):
        raise Failed(f"{label} is {status} without a resultFeedDocumentId")
    with output(args.output, terminal.stdout) as sink:
        where = FEED_DOCUMENTS + quote(result, safe="")
        await client.download("getFeedDocument", where, sink)
    written = written_to(args.output)
    terminal.say(f"{label}: {status}, processing report {result}{written}")
    return 0 if status == "DONE" else 1
