"""Shared state: calls go to a real Redis while it answers; when it does not, None at once, one
log line, and Redis tried again after retry_s."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis.asyncio
import trustme

from spproxy.config import Secret, StateConfig
from spproxy.sealing import Sealer
from spproxy.sharedstate import MAX_CONNECTIONS, SharedState, connect
from tests.harness import free_port
from tests.redis_server import wait_for_port


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def piped(state: SharedState, *command: str | bytes) -> object:
    """`command` through the state's pipe, as every request's reservation goes."""
    pipe = state.pipe
    assert pipe is not None
    return await state.call(lambda _: pipe.execute(pipe.pack(*command)))


def state_at(url: str, clock: FakeClock) -> SharedState:
    client = redis.asyncio.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return SharedState(client, "test-app", Sealer(os.urandom(32)), retry_s=5, clock=clock)


async def test_keys_are_namespaced_in_one_cluster_slot(redis_url: str) -> None:
    state = state_at(redis_url, FakeClock())
    try:
        assert state.key("lwa", "main") == "spproxy:{test-app}:lwa:main"
        assert await state.call(lambda r: r.set(state.key("x"), b"1")) is True
        assert await state.call(lambda r: r.get(state.key("x"))) == b"1"
        assert state.up and state.snapshot()["up"] is True
    finally:
        await state.aclose()


async def test_an_unreachable_redis_is_skipped_until_retry_s_then_tried_again(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    down = state_at(f"redis://127.0.0.1:{free_port()}/0", clock)  # nothing listens there
    try:
        with caplog.at_level(logging.WARNING, "spproxy.state"):
            assert await down.call(lambda r: r.ping()) is None
            assert await down.call(lambda r: r.ping()) is None  # skipped: not tried again yet
        assert (down.up, down.failures) == (False, 1)
        assert [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()] == [
            "shared state: Redis unavailable (ConnectionError); serving with local state and a "
            "share of each plan until it answers again"
        ]
        clock.now += 3
        assert down.snapshot()["down_for_s"] == 3
        clock.now += 3  # past retry_s: tried again, still down, counted, not logged again
        assert await down.call(lambda r: r.ping()) is None
        assert down.failures == 2 and len(caplog.records) == 1
        # The same state pointed at a Redis that answers: back by itself at the next try.
        unreachable, down.client = down.client, redis.asyncio.Redis.from_url(redis_url)
        await unreachable.aclose()
        clock.now += 6
        with caplog.at_level(logging.WARNING, "spproxy.state"):
            assert await down.call(lambda r: r.ping()) is True
        assert down.up and "answers again after 12 s" in caplog.records[-1].getMessage()
    finally:
        await down.aclose()


KEY = base64.b64encode(os.urandom(32)).decode()


def _start(args: list[str], folder: Path, port: int) -> subprocess.Popen[bytes]:
    """A redis-server (or sentinel) from PATH, listening on `port` (skipped without one)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server on PATH")
    process = subprocess.Popen([binary, *args], cwd=folder, stdout=subprocess.DEVNULL)
    wait_for_port(port, process)
    return process


async def test_connect_with_an_acl_user_and_password(redis_url: str) -> None:
    admin = redis.asyncio.Redis.from_url(redis_url)
    await admin.acl_setuser(
        "spproxy-test", enabled=True, passwords=["+s3cret-pw"], keys=["*"], commands=["+@all"]
    )
    config = StateConfig(redis_url, Secret(KEY), "spproxy-test", Secret("s3cret-pw"))
    state = connect(config, "app")
    wrong = connect(replace(config, password=Secret("wrong")), "app")
    try:
        assert await state.call(lambda r: r.acl_whoami()) == "spproxy-test"
        assert await piped(state, "ACL", "WHOAMI") == b"spproxy-test"  # the pipe logs in too
        assert await wrong.call(lambda r: r.ping()) is None and not wrong.up  # refused: local
        refused = connect(replace(config, password=Secret("wrong")), "app")
        assert await piped(refused, "PING") is None  # the pipe's connection is refused too
        await refused.aclose()
    finally:
        await state.aclose()
        await wrong.aclose()
        await admin.acl_deluser("spproxy-test")
        await admin.aclose()


def test_the_namespace_is_the_apps_unless_named() -> None:
    config = StateConfig("redis://r:6379/0", Secret(KEY))
    one = connect(config, "amzn1.application-oa2-client.one")
    assert one.namespace == connect(config, "amzn1.application-oa2-client.one").namespace
    assert one.namespace != connect(config, "amzn1.application-oa2-client.two").namespace
    assert "amzn1" not in one.namespace and len(one.namespace) == 16
    assert connect(replace(config, namespace="shop"), "x").key("a") == "spproxy:{shop}:a"


async def test_connect_over_tls_verifies_the_server(tmp_path: Path) -> None:
    authority = trustme.CA()
    server = authority.issue_cert("127.0.0.1")
    server.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    port = free_port()
    process = _start(
        [
            "--port",
            "0",
            "--tls-port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--tls-cert-file",
            "server.pem",
            "--tls-key-file",
            "server.pem",
            "--tls-ca-cert-file",
            "ca.pem",
            "--tls-auth-clients",
            "no",
        ],
        tmp_path,
        port,
    )
    try:
        config = StateConfig(
            f"rediss://127.0.0.1:{port}/0", Secret(KEY), tls_ca_file=str(tmp_path / "ca.pem")
        )
        state = connect(config, "app")
        assert await state.call(lambda r: r.ping()) is True
        assert await piped(state, "PING") == b"PONG"
        await state.aclose()
        stranger = trustme.CA()  # a server certificate no configured CA signed: refused
        stranger.cert_pem.write_to_path(str(tmp_path / "other-ca.pem"))
        untrusting = connect(replace(config, tls_ca_file=str(tmp_path / "other-ca.pem")), "app")
        assert await untrusting.call(lambda r: r.ping()) is None
        assert await piped(untrusting, "PING") is None
        await untrusting.aclose()
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_connect_through_a_sentinel_finds_the_master(
    redis_server: str, tmp_path: Path
) -> None:
    master_port = urlsplit(redis_server).port
    port = free_port()
    (tmp_path / "sentinel.conf").write_text(
        f"port {port}\nbind 127.0.0.1\nsentinel monitor spproxy-master 127.0.0.1 {master_port} 1\n"
    )
    process = _start(["sentinel.conf", "--sentinel"], tmp_path, port)
    try:
        config = StateConfig(
            f"redis://127.0.0.1:{port}", Secret(KEY), sentinel_service="spproxy-master"
        )
        state = connect(config, "app")
        assert await state.call(lambda r: r.set(state.key("via-sentinel"), b"1")) is True
        assert await piped(state, "SET", state.key("piped-via-sentinel"), b"1") == b"OK"
        direct = redis.asyncio.Redis.from_url(redis_server)
        assert await direct.get(state.key("via-sentinel")) == b"1"  # it reached the master
        assert await direct.get(state.key("piped-via-sentinel")) == b"1"
        await direct.aclose()
        await state.aclose()
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_a_burst_of_calls_shares_a_bounded_pool(redis_url: str) -> None:
    state = connect(StateConfig(redis_url, Secret(KEY)), "app")
    admin = redis.asyncio.Redis.from_url(redis_url)
    try:
        results = await asyncio.gather(*(state.call(lambda r: r.ping()) for _ in range(300)))
        assert results == [True] * 300 and state.up
        clients = await admin.client_list()
        assert len(clients) - 1 <= MAX_CONNECTIONS  # the admin's own connection aside
    finally:
        await state.aclose()
        await admin.aclose()


async def test_a_full_or_forbidding_redis_means_local_not_a_failed_request(redis_url: str) -> None:
    admin = redis.asyncio.Redis.from_url(redis_url)
    await admin.acl_setuser(
        "spproxy-narrow",
        enabled=True,
        passwords=["+pw-narrow"],
        keys=["other:*"],
        commands=["+@all"],
    )
    state = connect(StateConfig(redis_url, Secret(KEY), "spproxy-narrow", Secret("pw-narrow")), "a")
    try:
        assert await state.call(lambda r: r.set(state.key("k"), b"1")) is None  # NOPERM
        assert not state.up and state.failures == 1
    finally:
        await state.aclose()
        await admin.acl_deluser("spproxy-narrow")
        await admin.aclose()


async def test_connect_to_a_cluster_runs_the_scripts_on_the_namespaces_slot(tmp_path: Path) -> None:
    port = free_port()
    process = _start(
        [
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--cluster-enabled",
            "yes",
            # The bus port defaults to port + 10000, past 65535 for a high free port: name one.
            "--cluster-port",
            str(free_port()),
            "--cluster-config-file",
            "nodes.conf",
        ],
        tmp_path,
        port,
    )
    admin = redis.asyncio.Redis(port=port)
    try:
        await admin.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)  # type: ignore[no-untyped-call]
        for _ in range(300):  # bounded: ~30 s for the one-node cluster to say ok
            info = await admin.execute_command("CLUSTER", "INFO")  # type: ignore[no-untyped-call]
            if b"cluster_state:ok" in info and b"cluster_slots_ok:16384" in info:
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the one-node cluster never said ok")
        config = StateConfig(f"redis://127.0.0.1:{port}/0", Secret(KEY), cluster=True)
        state = connect(config, "app")
        script = state.client.register_script("return redis.call('GET', KEYS[1])")
        keys = [state.key("lwa", "main"), state.key("lwa", "main", "lock")]
        assert await state.call(lambda r: r.set(keys[0], b"sealed")) is True
        assert await state.call(lambda r: r.mget(keys)) == [b"sealed", None]  # one slot
        assert await state.call(lambda r: script(keys=keys, client=r)) == b"sealed"
        assert state.pipe is None  # RedisCluster routes every call, the reservations too
        assert state.up
        await state.aclose()
    finally:
        await admin.aclose()
        process.terminate()
        process.wait(timeout=10)


def test_redis_and_cryptography_load_only_with_shared_state() -> None:
    # Without state: they would cost every start-up ~100 ms and ~14 MiB (python -m bench).
    code = (
        "import sys, spproxy.cli, spproxy.app, spproxy.configload\n"
        "loaded = {'redis', 'cryptography', 'spproxy.sharedstate'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
