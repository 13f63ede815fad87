"""The house rules that keep the code base layered (docs/adr/0006-layers.md), checked on the
real import graph. `make boundaries` runs import-linter with the layers contracts; these
tests say the same rules in plain terms, so a broken rule fails the suite with its name."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kejiyun"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("kejiyun", include_external_packages=False)


def _apps(graph: grimp.ImportGraph) -> list[str]:
    return sorted(m for m in graph.find_children("kejiyun"))


def _app_edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    apps = _apps(graph)
    edges: dict[str, set[str]] = {a: set() for a in apps}
    for a in apps:
        for b in apps:
            if a != b and graph.direct_import_exists(importer=a, imported=b, as_packages=True):
                edges[a].add(b)
    return edges


def test_no_import_cycle_between_apps(graph: grimp.ImportGraph) -> None:
    edges = _app_edges(graph)
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycle.extend([*path[path.index(nxt) :], nxt])
                return True
            if nxt not in state and visit(nxt, [*path, nxt]):
                return True
        state[node] = 2
        return False

    for app in sorted(edges):
        if app not in state and visit(app, [app]):
            break
    assert cycle == [], " → ".join(cycle)


def test_common_imports_no_kejiyun_app(graph: grimp.ImportGraph) -> None:
    imported = {
        imp.split(".")[1]
        for module in graph.find_descendants("kejiyun.common") | {"kejiyun.common"}
        for imp in graph.find_modules_directly_imported_by(module)
        if imp.startswith("kejiyun.") and not imp.startswith("kejiyun.common")
    }
    assert imported == set()


def test_only_the_demo_package_and_the_project_wiring_use_demo_code(
    graph: grimp.ImportGraph,
) -> None:
    users = {
        module
        for module in graph.find_downstream_modules("kejiyun.demo", as_package=True)
        if not module.startswith("kejiyun.demo")
    }
    assert users == set()


def test_no_demo_module_outside_the_demo_package() -> None:
    stray = [
        str(path.relative_to(ROOT))
        for path in PACKAGE.rglob("*demo*.py")
        if "demo" not in path.relative_to(PACKAGE).parts[:1] and "migrations" not in path.parts
    ]
    assert stray == []


def test_settings_are_read_directly_never_with_a_default_at_the_point_of_use() -> None:
    """Every setting is declared in kejiyun/settings.py; code reads `settings.NAME`."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"getattr", "hasattr"}
                and node.args
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id == "settings"
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
