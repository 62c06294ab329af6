"""The shape of the package: every module has its test file; dependencies flow one way."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "spproxy"
# Leaves know nothing of the layers above them; the emulator knows nothing of the proxy.
LAYERS = {
    "headers": set(),
    "clihelp": set(),
    "tokencache": set(),
    "sealing": set(),
    "redispipe": set(),
    "sharedstate": {"config", "redispipe", "sealing"},
    "authorizations": {"sharedstate"},
    "sharedtokens": {"sharedstate"},
    "sharedfacts": {"sharedstate"},
    "http1": set(),
    "http1pool": {"http1"},
    "wire": {"config", "http1", "operations", "target"},
    "errors": {"headers"},
    "pathindex": set(),
    "regions": set(),
    "addresses": set(),
    "configbase": set(),
    "configstorage": {"configbase"},
    "config": {"configbase", "configstorage", "regions"},
    "marketplaces": {"config", "errors", "regions"},
    "configkeys": {"config"},
    "configvalues": {"config"},
    "configread": {"addresses", "config", "configkeys", "configstorage", "configvalues", "sealing"},
    "configyaml": set(),
    "configload": {"config", "configread", "configyaml"},
    "configref": {"config", "configkeys"},
    "operations": {"pathindex"},
    "urlcanon": set(),
    "logs": set(),
    "target": {"errors", "urlcanon"},
    "lwa": {"addresses", "config", "errors", "sharedstate", "sharedtokens", "tokencache"},
    "signing": {"addresses", "config", "errors", "tokencache"},
    "sharedlimit": {"operations", "sharedstate"},
    "ratelimit": {"errors", "operations", "sharedlimit", "sharedstate"},
    "keeper": {"config", "errors", "lwa"},
    "upstream": {
        "wire",
        "headers",
        "config",
        "errors",
        "http1",
        "http1pool",
        "operations",
        "ratelimit",
        "signing",
        "target",
    },
    "reports": {"operations", "sharedfacts", "sharedstate", "sharedtokens"},
    "tokensapi": {"config", "errors", "lwa", "operations", "target", "wire"},
    "rdt": {
        "config",
        "errors",
        "sharedfacts",
        "sharedstate",
        "sharedtokens",
        "tokencache",
        "tokensapi",
    },
    "credentials": {
        "headers",
        "config",
        "errors",
        "lwa",
        "operations",
        "rdt",
        "reports",
        "target",
        "tokensapi",
        "wire",
    },
    "issued": {"config", "sharedstate"},
    "clients": {
        "headers",
        "config",
        "credentials",
        "errors",
        "issued",
        "operations",
        "reports",
        "sharedstate",
        "target",
    },
    "body": {"errors"},
    "audit": {"config", "logs"},
    "metrics": {"errors", "logs", "operations", "ratelimit"},
    "outbound": {"config", "http1pool", "ratelimit", "sharedstate", "signing", "upstream"},
    "storeengine": {"configstorage"},
    "accountstore": {"config", "regions", "sealing", "storeengine"},
    "storedaccounts": {"accountstore", "config"},
    "proxy": {
        "onboarding",
        "outbound",
        "storedaccounts",
        "sharedstate",
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
        "tokensapi",
        "upstream",
    },
    "status": {"addresses", "config", "proxy"},
    "onboarding": {
        "accountstore",
        "authorizations",
        "config",
        "errors",
        "marketplaces",
        "proxy",
        "storedaccounts",
    },
    "onboardingroutes": {"addresses", "body", "errors", "headers", "onboarding", "proxy", "target"},
    "reserved": {"addresses", "body", "errors", "issued", "metrics", "proxy", "status", "target"},
    "documents": {"errors", "proxy", "relay", "target", "wire"},
    "feeddocuments": {"documents", "errors", "proxy", "relay", "target"},
    "app": {
        "documents",
        "feeddocuments",
        "onboarding",
        "onboardingroutes",
        "storedaccounts",
        "wire",
        "relay",
        "headers",
        "body",
        "config",
        "credentials",
        "errors",
        "logs",
        "marketplaces",
        "operations",
        "proxy",
        "reserved",
        "target",
        "upstream",
    },
    "relay": {"errors", "http1", "upstream", "wire"},
    "server": {"config", "errors", "logs"},
    "eventloop": {"config"},
    "serve": {"addresses", "app", "config", "eventloop", "proxy", "server"},
    "workers": {"config"},
    "check": {"addresses", "config", "errors", "lwa", "storedaccounts"},
    "accounts_command": {"accountstore", "addresses", "check", "config", "storedaccounts"},
    "authorize_command": {
        "app",
        "authorizations",
        "config",
        "errors",
        "logs",
        "onboarding",
        "onboardingroutes",
        "proxy",
        "serve",
    },
    "emulator_command": {"demo", "emulator", "logs", "serve"},
    "proxyclient": set(),
    "jobproxy": {"app", "configload", "proxyclient", "serve"},
    "jobwatch": {"jobproxy", "proxyclient"},
    "report_command": {"jobwatch", "proxyclient"},
    "feed_command": {"jobwatch", "proxyclient"},
}
COMMAND_LINE = {"cli", "demo", "probe"}  # the top: each may import any layer


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("spproxy"):
            parts = node.module.split(".")
            names.add(parts[1] if len(parts) > 1 else node.names[0].name)
    return names - {"__version__"}  # the package root itself, not a layer


TESTS = Path(__file__).parent
# Tests of no one module: what users touch end to end, the build, the generators in scripts/.
CROSS_CUTTING = {
    "test_browser.py",  # onboarding in a real headless Chromium
    "test_deploy.py",  # deploy/ against its tools' schemas
    "test_hostile.py",  # hostile clients and upstreams against the whole proxy
    "test_layout.py",
    "test_networks.py",  # TLS and forward proxies between the parts
    "test_operations_generator.py",  # scripts/gen_operations.py
    "test_packaging.py",  # the sdist and wheel
    "test_replicas.py",  # several spproxy processes sharing one Redis
    "test_sandbox_examples.py",  # every published example through the proxy
    "test_sandbox_generator.py",  # scripts/gen_sandbox.py
    "test_sdk.py",  # SDKs, unmodified, through the proxy
    "test_signed_forwarding.py",  # SigV4 signing, forwarding and the emulator's check together
    "test_target_property.py",  # random targets through a real proxy
}


def test_every_module_has_its_test_module() -> None:
    # spproxy/emulator/apis/orders.py -> tests/emulator/apis/test_orders.py
    modules = [p.relative_to(PACKAGE) for p in PACKAGE.rglob("*.py") if not p.stem.startswith("__")]
    missing = [str(m) for m in modules if not (TESTS / m.parent / f"test_{m.name}").is_file()]
    assert sorted(missing) == []


def test_every_test_module_has_its_module() -> None:
    tests = [p.relative_to(TESTS) for p in TESTS.rglob("test_*.py")]
    orphans = [
        str(test)
        for test in tests
        if str(test) not in CROSS_CUTTING
        and not (PACKAGE / test.parent / test.name.removeprefix("test_")).is_file()
    ]
    assert sorted(orphans) == []
    assert {str(test) for test in tests} >= CROSS_CUTTING  # the list names only what exists


def test_every_test_folder_is_a_package() -> None:
    # Same-named test modules (tests/test_lwa.py, tests/emulator/test_lwa.py) need packages.
    folders = {p.parent for p in TESTS.rglob("test_*.py")}
    assert [str(f) for f in sorted(folders) if not (f / "__init__.py").is_file()] == []


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


MODULE_LINES = 300  # a module longer than this does more than one thing
FUNCTION_LINES = 60  # a function longer than this hides its steps


def test_modules_and_functions_stay_small() -> None:
    long_modules, long_functions = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text()
        name = str(path.relative_to(PACKAGE))
        if source.count("\n") > MODULE_LINES:
            long_modules.append(name)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                if node.end_lineno - node.lineno + 1 > FUNCTION_LINES:
                    long_functions.append(f"{name}:{node.name}")
    assert long_modules == []
    assert long_functions == []


def test_every_module_has_its_place_in_the_layers() -> None:
    top_level = {p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("__")}
    assert sorted(top_level - set(LAYERS) - COMMAND_LINE) == []
    assert sorted((set(LAYERS) | COMMAND_LINE) - top_level) == []  # the table names what exists
