"""What a release ships: one version everywhere, the licence in the sdist and the wheel, and a
changelog entry for the version."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.parser import HeaderParser
from pathlib import Path

from spproxy import __version__
from tests.harness import Harness

ROOT = Path(__file__).resolve().parents[1]


def test_the_version_is_written_once_in_spproxy_init() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "spproxy.__version__"}
    # What pip installed says the same (a stale install: pip install -e . again).
    assert importlib.metadata.version("spproxy") == __version__
    # The image label cannot read it at build time, nor a manifest its image tag: they stay equal.
    assert f"ARG VERSION={__version__}\n" in (ROOT / "Dockerfile").read_text()
    manifest = (ROOT / "deploy" / "kubernetes" / "spproxy-sidecar.yaml").read_text()
    assert set(re.findall(r"/spproxy:([\w.]+)", manifest)) == {__version__}
    # Keep a Changelog: the released version has its section, with its date.
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[{re.escape(__version__)}\] - \d{{4}}-\d\d-\d\d$", changelog, re.M)


async def test_status_and_user_agent_show_the_version(harness: Harness) -> None:
    status = await (await harness.proxy.get("/_spproxy/status")).json()
    assert status["version"] == __version__
    assert (await harness.proxy.get("/sellers/v1/marketplaceParticipations")).status == 200
    user_agent = harness.amazon.requests[-1].headers["user-agent"]
    assert user_agent.startswith(f"spproxy/{__version__} (Language=Python/")


def test_sdist_and_wheel_carry_the_licence_and_the_version(tmp_path: Path) -> None:
    # Built as pip builds from PyPI: the sdist from the tree, then the wheel from the sdist.
    # From a copy of what the build reads, so the checkout gets no build/ or egg-info.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "spproxy", source / "spproxy", ignore=ignore)
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    licence = (ROOT / "LICENSE").read_text()
    assert licence.split()[:4] == ["Apache", "License", "Version", "2.0,"]

    (sdist,) = dist.glob("*.tar.gz")
    assert sdist.name == f"spproxy-{__version__}.tar.gz"
    with tarfile.open(sdist) as archive:
        member = archive.extractfile(f"spproxy-{__version__}/LICENSE")
        assert member is not None and member.read().decode() == licence

    (wheel,) = dist.glob("*.whl")
    assert wheel.name == f"spproxy-{__version__}-py3-none-any.whl"
    info = f"spproxy-{__version__}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read(f"{info}/licenses/LICENSE").decode() == licence
        metadata = HeaderParser().parsestr(archive.read(f"{info}/METADATA").decode())
        assert "spproxy/data/operations.json" in archive.namelist()
        # The emulator's data (and its notice) ship too: `spproxy emulator` reads them.
        shipped = {
            path.relative_to(ROOT).as_posix()
            for path in (ROOT / "spproxy" / "emulator" / "data").iterdir()
        }
        assert shipped >= {"spproxy/emulator/data/orders.json", "spproxy/emulator/data/NOTICE"}
        assert shipped <= set(archive.namelist())
    assert metadata["Version"] == __version__
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["License-File"] == "LICENSE"
