"""The shape of the package: every module has its test file; dependencies flow one way."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "spproxy"
# Leaves know nothing of the layers above them; the emulator knows nothing of the proxy.
LAYERS = {
    "errors": set(),
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
    "upstream": {"config", "errors", "operations", "ratelimit", "target"},
    "reports": {"operations"},
    "rdt": {"config", "errors", "lwa", "operations", "target", "upstream"},
    "credentials": {
        "config",
        "errors",
        "lwa",
        "operations",
        "rdt",
        "reports",
        "target",
        "upstream",
    },
    "clients": {"config", "credentials", "errors", "operations", "reports", "target"},
    "body": {"errors"},
    "audit": {"config", "logs"},
    "metrics": {"errors", "logs", "operations", "ratelimit"},
    "proxy": {
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


def _emulator_imports() -> dict[str, set[str]]:
    """Each emulator module's imports of other emulator modules, `if TYPE_CHECKING:` ones too."""
    paths = {
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(
            ".__init__"
        ): path
        for path in (PACKAGE / "emulator").rglob("*.py")
    }
    graph = {}
    for module, path in paths.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:  # `from package import submodule` names the submodule
                    submodule = f"{node.module}.{alias.name}"
                    targets.add(submodule if submodule in paths else node.module)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[module] = {target for target in targets if target in paths and target != module}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle in `graph`, as the modules along it; [] if there is none."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str]:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return []
        for target in sorted(graph[module]):
            if cycle := visit(target, [*path, module]):
                return cycle
        done.add(module)
        return []

    for module in sorted(graph):
        if cycle := visit(module, []):
            return cycle
    return []


def test_the_emulators_imports_have_no_cycle() -> None:
    graph = _emulator_imports()
    assert "spproxy.emulator.faults" in graph["spproxy.emulator.state"]  # the graph is read
    assert _cycle(graph) == []


def test_a_cycle_is_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []
