"""The shape of the package: every module has its test file; dependencies flow one way."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "spproxy"
# Leaves know nothing of the layers above them; the emulator knows nothing of the proxy.
LAYERS = {
    "headers": set(),
    "errors": {"headers"},
    "pathindex": set(),
    "config": set(),
    "operations": {"pathindex"},
    "urlcanon": set(),
    "logs": set(),
    "target": {"errors", "urlcanon"},
    "lwa": {"config", "errors"},
    "signing": {"config", "errors"},
    "ratelimit": {"errors", "operations"},
    "keeper": {"config", "errors", "lwa"},
    "upstream": {"headers", "config", "errors", "operations", "ratelimit", "target"},
    "reports": {"operations"},
    "rdt": {"config", "errors", "lwa", "operations", "target", "upstream"},
    "credentials": {
        "headers",
        "config",
        "errors",
        "lwa",
        "operations",
        "rdt",
        "reports",
        "target",
        "upstream",
    },
    "clients": {"headers", "config", "credentials", "errors", "operations", "reports", "target"},
    "body": {"errors"},
    "audit": {"config", "logs"},
    "metrics": {"errors", "logs", "operations", "ratelimit"},
    "proxy": {
        "headers",
        "audit",
        "clients",
        "config",
        "credentials",
        "errors",
        "keeper",
        "lwa",
        "metrics",
        "operations",
        "ratelimit",
        "rdt",
        "reports",
        "signing",
        "upstream",
    },
    "reserved": {"body", "clients", "config", "errors", "metrics", "proxy", "target"},
    "app": {
        "relay",
        "headers",
        "body",
        "config",
        "credentials",
        "errors",
        "logs",
        "operations",
        "proxy",
        "reserved",
        "target",
        "upstream",
    },
    "relay": {"errors", "upstream"},
    "server": {"config", "errors", "logs"},
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("spproxy"):
            parts = node.module.split(".")
            names.add(parts[1] if len(parts) > 1 else node.names[0].name)
    return names - {"__version__"}  # the package root itself, not a layer


def test_every_module_has_its_test_file() -> None:
    tests = Path(__file__).parent
    modules = [p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("__")]
    missing = [m for m in modules if not (tests / f"test_{m}.py").is_file()]
    assert missing == []


def test_dependencies_flow_one_way() -> None:
    for module, allowed in LAYERS.items():
        assert _imports(PACKAGE / f"{module}.py") <= allowed, module
    for path in (PACKAGE / "emulator").rglob("*.py"):
        assert _imports(path) <= {"emulator", "pathindex"}, path  # pathindex: a generic leaf
