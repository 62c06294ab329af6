"""`spproxy check` as a user runs it: a real process against the emulator."""

from __future__ import annotations

from pathlib import Path

from spproxy.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    make_emulator_app,
)
from tests.harness import ServerFactory, finish, start_spproxy


async def test_check_prints_a_masked_table_and_fails_on_a_refused_account(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    emulator = await aiohttp_server(make_emulator_app())
    url = str(emulator.make_url("")).rstrip("/")
    config = tmp_path / "spproxy.yaml"
    config.write_text(
        f"lwa: {{client_id: {DEMO_CLIENT_ID}, client_secret: {DEMO_CLIENT_SECRET}, "
        f"endpoint: '{url}/auth/o2/token'}}\n"
        "accounts:\n"
        f"  main: {{refresh_token: '{DEMO_REFRESH_TOKEN}', region: na, endpoint: '{url}'}}\n"
        f"  old: {{refresh_token: 'Atzr|revoked-long-token-1234', region: eu, endpoint: '{url}'}}\n"
    )
    code, out, err = await finish(await start_spproxy("check", "--config", str(config)))
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0].startswith(f"config: {config}; LWA client ...")
    assert lines[1].split() == ["account", "region", "endpoint", "refresh", "token", "outcome"]
    assert lines[2].split()[:4] == ["main", "na", url, f"...{DEMO_REFRESH_TOKEN[-4:]}"]
    assert "ok (token valid 3" in lines[2]
    assert lines[3].split()[:4] == ["old", "eu", url, "...1234"]
    assert "FAILED: LWA refused the token request for account 'old': invalid_grant." in lines[3]
    for secret in (DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, "Atzr|revoked"):
        assert secret not in out + err
