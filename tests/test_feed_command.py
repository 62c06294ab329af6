"""`spproxy feed` against the emulator, through the proxy: upload, createFeed, the report."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pytest_aiohttp import AiohttpClient

from spproxy.app import make_app
from spproxy.emulator import EmulatorConfig
from spproxy.feed_command import add_feed_options, feed
from spproxy.feeddocuments import LIMIT
from tests.emulator.conftest import FakeClock
from tests.harness import Harness, StartHarness, proxy_config
from tests.jobs import Ran, run

LISTINGS = b'{"header":{"sellerId":"A1","version":"2.0"},"messages":[]}'
MARKETPLACE = ["--marketplace", "ATVPDKIKX0DER"]


async def started(start: StartHarness, **emulator: Any) -> tuple[Harness, FakeClock]:
    clock = FakeClock()
    return await start(emulator=EmulatorConfig(clock=clock, **emulator)), clock


async def feed_run(harness: Harness, clock: FakeClock, argv: list[str], **options: Any) -> Ran:
    return await run(harness, clock, "feed", feed, add_feed_options, argv, **options)


def feed_file(folder: Path, name: str = "listings.json", content: bytes = LISTINGS) -> str:
    path = folder / name
    path.write_bytes(content)
    return str(path)


async def test_a_feed_is_uploaded_processed_and_its_report_written(
    start: StartHarness, tmp_path: Path
) -> None:
    harness, clock = await started(start)
    out = tmp_path / "report.xml"
    argv = ["JSON_LISTINGS_FEED", feed_file(tmp_path), *MARKETPLACE, "-o", str(out)]
    ran = await feed_run(harness, clock, argv)
    assert ran.status == 0, ran.stderr
    (job,) = harness.amazon.feeds.jobs.values()
    assert job.spec == {"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": ["ATVPDKIKX0DER"]}
    uploaded = [d for d in harness.amazon.documents.documents.values() if d.uploaded]
    assert [(d.content, d.content_type) for d in uploaded] == [(LISTINGS, "application/json")]
    assert b"<MessagesWithError>0</MessagesWithError>" in out.read_bytes()
    assert ran.stderr.splitlines()[-1] == (
        f"feed {job.job_id}: DONE, processing report {job.document_id} written to {out}"
    )


async def test_a_fatal_feed_writes_its_report_and_exits_1(
    start: StartHarness, tmp_path: Path
) -> None:
    harness, clock = await started(start, fatal_feed_types=frozenset({"JSON_LISTINGS_FEED"}))
    ran = await feed_run(harness, clock, ["JSON_LISTINGS_FEED", feed_file(tmp_path), *MARKETPLACE])
    assert ran.status == 1
    assert b"<ResultCode>Error</ResultCode>" in ran.stdout
    assert ": FATAL, processing report " in ran.stderr.splitlines()[-1]


async def test_a_feed_over_the_limit_is_refused_before_any_document(
    aiohttp_client: AiohttpClient, start: StartHarness, tmp_path: Path
) -> None:
    harness, clock = await started(start)
    app = make_app(proxy_config(str(harness.emulator.make_url("")).rstrip("/")))
    app[LIMIT] = 16
    small = Harness(harness.emulator, await aiohttp_client(app), harness.config)
    ran = await feed_run(small, clock, ["JSON_LISTINGS_FEED", feed_file(tmp_path), *MARKETPLACE])
    assert ran.status == 1
    assert ran.stderr == (
        "spproxy feed: feed upload: 413 RequestEntityTooLarge: A feed upload takes at most 16 "
        "bytes, with a Content-Length. (Send a smaller feed, whole (no chunked transfer), or "
        "split it into several feeds.)\n"
    )
    assert harness.amazon.documents.documents == {} and harness.amazon.requests == []


async def test_ctrl_c_while_queued_cancels_the_feed(start: StartHarness, tmp_path: Path) -> None:
    harness, clock = await started(start)

    def interrupt(poll: int) -> None:
        raise asyncio.CancelledError  # what asyncio.run makes of SIGINT, in the wait

    argv = ["JSON_LISTINGS_FEED", feed_file(tmp_path), *MARKETPLACE]
    ran = await feed_run(harness, clock, argv, hook=interrupt)
    assert ran.status == 130
    (job,) = harness.amazon.feeds.jobs.values()
    assert job.cancelled
    assert ran.stderr.splitlines()[-1] == f"interrupted: feed {job.job_id} cancelled (cancelFeed)"


async def test_a_feed_cancelled_elsewhere_exits_1(start: StartHarness, tmp_path: Path) -> None:
    harness, clock = await started(start)

    def cancel_it(poll: int) -> None:
        for job in harness.amazon.feeds.jobs.values():
            job.cancelled = True

    argv = ["JSON_LISTINGS_FEED", feed_file(tmp_path), *MARKETPLACE]
    ran = await feed_run(harness, clock, argv, hook=cancel_it)
    assert ran.status == 1 and "was CANCELLED" in ran.stderr and ran.stdout == b""


async def test_a_missing_file_or_unknown_extension_says_so(
    start: StartHarness, tmp_path: Path
) -> None:
    harness, clock = await started(start)
    missing = str(tmp_path / "missing.json")
    ran = await feed_run(harness, clock, ["JSON_LISTINGS_FEED", missing, *MARKETPLACE])
    assert (ran.status, ran.stderr) == (1, f"spproxy feed: {missing}: No such file or directory\n")
    odd = feed_file(tmp_path, "listings.bin")
    ran = await feed_run(harness, clock, ["JSON_LISTINGS_FEED", odd, *MARKETPLACE])
    assert ran.status == 2 and "give --content-type" in ran.stderr
    argv = ["JSON_LISTINGS_FEED", odd, *MARKETPLACE, "--content-type", "application/json"]
    assert (await feed_run(harness, clock, argv)).status == 0
    assert len(harness.amazon.feeds.jobs) == 1
