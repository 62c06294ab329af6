"""The event loop: uvloop's when installed and not turned off, asyncio's otherwise; the choice
made in-process, and `spproxy serve` as a user runs it, naming its loop in the start-up line."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from spproxy.config import ConfigError
from spproxy.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN
from spproxy.eventloop import loop_factory, run, running
from tests.harness import ServerFactory, finish, free_port, start_spproxy, until_serving


async def _which() -> str:
    await asyncio.sleep(0)
    return running()


@pytest.fixture
def without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    """`import uvloop` fails, as where it is not installed."""
    monkeypatch.setitem(sys.modules, "uvloop", None)


def test_asyncio_is_asyncios_own_loop() -> None:
    assert loop_factory("asyncio") is None
    assert run(_which(), None) == "asyncio"


def test_uvloop_when_installed() -> None:
    uvloop = pytest.importorskip("uvloop")
    for choice in ("auto", "uvloop"):
        factory = loop_factory(choice)
        assert factory is uvloop.new_event_loop
        assert run(_which(), factory) == "uvloop"


@pytest.mark.usefixtures("without_uvloop")
def test_without_uvloop_auto_is_asyncio_and_uvloop_a_config_error() -> None:
    assert loop_factory("auto") is None
    with pytest.raises(ConfigError) as raised:
        loop_factory("uvloop", "SPPROXY_EVENT_LOOP")
    assert raised.value.problems == [
        "SPPROXY_EVENT_LOOP: uvloop is not installed (pip install 'spproxy[speed]')"
    ]


def _config(tmp_path: Path, url: str) -> Path:
    config = tmp_path / "spproxy.yaml"
    config.write_text(
        f"lwa: {{client_id: {DEMO_CLIENT_ID}, client_secret: '{DEMO_CLIENT_SECRET}', "
        f"endpoint: '{url}/auth/o2/token'}}\n"
        f"accounts: {{main: {{refresh_token: '{DEMO_REFRESH_TOKEN}', region: na, "
        f"endpoint: '{url}'}}}}\n"
    )
    return config


async def _serve_once(config: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """`spproxy serve` started, one SP-API call through it (200), stopped: its stderr."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = await start_spproxy(
        "serve", "--config", str(config), "--port", str(port), *args, env=env
    )
    try:
        await until_serving(base, serve)
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{base}/sellers/v1/marketplaceParticipations") as answer,
        ):
            assert answer.status == 200
    finally:
        serve.send_signal(signal.SIGTERM)
    code, _, err = await finish(serve)
    assert code == 0, err
    return err


async def test_serve_runs_on_uvloop_when_installed_and_says_so(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    pytest.importorskip("uvloop")
    from spproxy.emulator import make_emulator_app

    emulator = await aiohttp_server(make_emulator_app())
    config = _config(tmp_path, str(emulator.make_url("")).rstrip("/"))
    err = await _serve_once(config)
    assert "; SigV4 signing off; event loop uvloop\n" in err
    turned_off = await _serve_once(config, env={"SPPROXY_EVENT_LOOP": "asyncio"})
    assert "; SigV4 signing off; event loop asyncio\n" in turned_off
    flag_wins = await _serve_once(
        config, "--event-loop", "uvloop", env={"SPPROXY_EVENT_LOOP": "asyncio"}
    )
    assert "; event loop uvloop\n" in flag_wins


async def test_an_unknown_event_loop_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = _config(tmp_path, "http://127.0.0.1:9")
    env = {"SPPROXY_EVENT_LOOP": "trio"}
    code, out, err = await finish(await start_spproxy("serve", "--config", str(config), env=env))
    assert (code, out) == (2, "")
    assert (
        err
        == "spproxy: config: SPPROXY_EVENT_LOOP: must be one of auto, uvloop, asyncio, got 'trio'\n"
    )
