"""The command line as a user runs it: real processes, real ports. The parser, its help, flags
against their environment variables; what each command does is tested with its own module."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from spproxy import __version__
from spproxy.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    make_emulator_app,
)
from tests.harness import ServerFactory, finish, free_port, start_spproxy, until_serving


async def test_version() -> None:
    code, out, _ = await finish(await start_spproxy("--version"))
    assert (code, out) == (0, f"spproxy {__version__}\n")


@pytest.mark.parametrize(
    ("args", "env", "problem"),
    [
        (("--port", "70000"), {}, "--port: must be a port number between 0 and 65535, got '70000'"),
        (
            (),
            {"SPPROXY_PORT": "eighty"},
            "SPPROXY_PORT: must be a port number between 0 and 65535, got 'eighty'",
        ),
        (
            ("--log-level", "loud"),
            {},
            "--log-level: must be one of debug, info, warning, error, got 'loud'",
        ),
        (
            (),
            {"SPPROXY_LOG_FORMAT": "xml"},
            "SPPROXY_LOG_FORMAT: must be one of text, json, got 'xml'",
        ),
    ],
)
async def test_flags_and_their_variables_are_checked_in_one_line(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], problem: str
) -> None:
    config = tmp_path / "spproxy.yaml"
    config.write_text(
        "lwa: {client_id: a, client_secret: b}\naccounts: {m: {refresh_token: r, region: na}}\n"
    )
    code, out, err = await finish(
        await start_spproxy("serve", "--config", str(config), *args, env=env)
    )
    assert (code, out, err) == (2, "", f"spproxy: config: {problem}\n")


async def test_flags_win_over_variables_which_win_over_the_file(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    emulator = await aiohttp_server(make_emulator_app())
    url = str(emulator.make_url("")).rstrip("/")
    in_file, in_env, in_flag = free_port(), free_port(), free_port()
    lwa = f"{url}/auth/o2/token"
    config = tmp_path / "spproxy.yaml"
    config.write_text(
        f"""
listen: {{host: 127.0.0.2, port: {in_file}}}
lwa: {{client_id: {DEMO_CLIENT_ID}, client_secret: "{DEMO_CLIENT_SECRET}", endpoint: "{lwa}"}}
accounts: {{main: {{refresh_token: "{DEMO_REFRESH_TOKEN}", region: na, endpoint: "{url}"}}}}
"""
    )
    env = {
        "SPPROXY_HOST": "127.0.0.1",
        "SPPROXY_PORT": str(in_env),
        "SPPROXY_LOG_FORMAT": "json",
        "SPPROXY_LOG_LEVEL": "error",
    }
    for args, port in (((), in_env), (("--port", str(in_flag), "--log-level", "info"), in_flag)):
        serve = await start_spproxy("serve", "--config", str(config), *args, env=env)
        try:
            await until_serving(f"http://127.0.0.1:{port}", serve)
        finally:
            serve.send_signal(signal.SIGTERM)
        code, _, err = await finish(serve)
        assert code == 0
        lines = [json.loads(line) for line in err.splitlines()]  # JSON, from SPPROXY_LOG_FORMAT
        if args:  # --log-level info beat SPPROXY_LOG_LEVEL=error
            assert f"listening on http://127.0.0.1:{port};" in lines[0]["message"]
        else:
            assert lines == []


@pytest.mark.parametrize("command", ["serve", "demo", "check", "emulator"])
async def test_every_command_says_what_it_does_its_variables_exit_codes_and_an_example(
    command: str,
) -> None:
    code, out, _ = await finish(await start_spproxy(command, "--help"))
    assert code == 0
    assert "exit status:" in out and ("example:" in out or "examples:" in out)
    if command in ("serve", "demo"):
        assert "SPPROXY_PORT" in out and "SPPROXY_LOG_LEVEL" in out
    if command == "serve":
        assert "SPPROXY_HOST" in out and "SPPROXY_LOG_FORMAT" in out and "_FILE" in out


def _shipped_example() -> str:
    return (Path(__file__).resolve().parents[1] / "config.example.yaml").read_text()


async def test_a_newcomer_serves_and_checks_the_shipped_example(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    """config.example.yaml copied as it ships, the variables it names exported; only LWA's and
    the account's endpoints point at the emulator (there is no Amazon here)."""
    emulator = await aiohttp_server(make_emulator_app())
    url = str(emulator.make_url("")).rstrip("/")
    local = (
        _shipped_example()
        .replace(
            "  # endpoint: https://api.amazon.com/auth/o2/token", f"  endpoint: {url}/auth/o2/token"
        )
        .replace("    # endpoint: https://sellingpartnerapi-na.amazon.com", f"    endpoint: {url}")
    )
    assert local.count(url) == 2
    config = tmp_path / "spproxy.yaml"
    config.write_text(local)
    env = {
        "SPAPI_CLIENT_ID": DEMO_CLIENT_ID,
        "SPAPI_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "SPAPI_REFRESH_TOKEN": DEMO_REFRESH_TOKEN,
        "SPPROXY_PORT": str(free_port()),
    }
    serve = await start_spproxy("serve", "--config", str(config), env=env)
    try:
        await until_serving(f"http://127.0.0.1:{env['SPPROXY_PORT']}", serve)
    finally:
        serve.send_signal(signal.SIGTERM)
    assert (await finish(serve))[0] == 0
    code, out, _ = await finish(await start_spproxy("check", "--config", str(config), env=env))
    assert code == 0 and "ok (token valid" in out
