"""The spproxy a job goes through: the running one, or with --config one in the process."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from spproxy.config import ConfigError
from spproxy.emulator import STATE_KEY, EmulatorConfig, make_emulator_app
from spproxy.jobproxy import reached
from spproxy.jobwatch import Terminal, run_job
from spproxy.report_command import add_report_options, report
from tests.emulator.conftest import FakeClock
from tests.harness import ServerFactory, serve_yaml


def parsed(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_report_options(parser)
    return parser.parse_args(["GET_MERCHANT_LISTINGS_ALL_DATA", "--marketplace", "X", *argv])


async def test_without_a_config_the_running_spproxy() -> None:
    async with reached(parsed(), {"SPPROXY_PORT": "9100"}) as base:
        assert base == "http://127.0.0.1:9100"
    async with reached(parsed("--proxy", "http://10.0.0.7:8000"), {}) as base:
        assert base == "http://10.0.0.7:8000"


def test_proxy_and_config_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as usage:
        parsed("--proxy", "http://127.0.0.1:8000", "--config", "spproxy.yaml")
    assert usage.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


async def test_with_a_config_a_spproxy_of_its_own(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    clock = FakeClock()
    emulator = await aiohttp_server(make_emulator_app(EmulatorConfig(clock=clock)))
    config = tmp_path / "spproxy.yaml"
    config.write_text(serve_yaml(str(emulator.make_url("")).rstrip("/"), 8000))  # port ignored
    out = tmp_path / "listings.tsv"

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    stderr = io.StringIO()
    terminal = Terminal(io.BytesIO(), stderr, False, sleep=sleep, clock=clock)
    args = parsed("--config", str(config), "-o", str(out))
    assert await run_job("report", report, args, {}, terminal) == 0, stderr.getvalue()
    assert out.read_bytes().startswith(b"report-type\t")
    assert emulator.app[STATE_KEY].requests[0].operation == "createReport"


async def test_an_unusable_config_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        async with reached(parsed("--config", str(tmp_path / "missing.yaml")), {}):
            pass
