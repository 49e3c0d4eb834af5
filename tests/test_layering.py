"""STYLE 1.1: imports point inward. Pure packages never import I/O libraries or outer layers.

Every module belongs to a layer (its top-level package under ``nenscope/``); a module may import
only layers of its own rank or below (:data:`LAYERS`, DESIGN.md "Layers"), and the packages'
import graph has no cycle. Names match by prefix: ``nenscope.pipeline_report`` is not
``nenscope.pipeline`` (a module outside every known layer fails the test until it is placed).
``NENSCOPE_LAYERING_SRC`` points the test at another source tree (to show that it fails on an
older layout).
"""

from __future__ import annotations

import ast
import os
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(
    os.environ.get("NENSCOPE_LAYERING_SRC")
    or Path(__file__).resolve().parents[1] / "src" / "nenscope"
)

LAYERS: dict[str, int] = {
    "core": 0,
    # pure computation: core, numpy and scipy only
    "quantification": 1,
    "segmentation": 1,
    "radiomics": 1,
    "scoring": 1,
    "knowledge": 2,
    "examples": 2,  # scenario files (package data) of the recommender
    "dicom": 3,
    "reporting": 4,
    "registration": 4,
    "pipeline": 5,
    "api": 6,
    "store": 7,
    "pacs": 7,
    "cohort": 8,
    "models": 8,
    "jobs": 8,  # background analyses of the service (store + api below, web above)
    "cli": 9,
    "web": 9,
    "_console": 9,  # the console script's entry point: loads the cli when called
}
"""Rank of each top-level package: a package imports only packages of rank <= its own (and
the package root ``nenscope`` itself, which holds ``__version__`` only). DESIGN.md lists
knowledge before the pure packages; by import, knowledge uses quantification (radionuclides),
so the pure packages rank directly above core."""

PURE = ("core", "quantification", "segmentation", "radiomics", "scoring")
FORBIDDEN_IN_PURE = (
    "pydicom",
    "highdicom",
    "nibabel",
    "SimpleITK",
    "fastapi",
    "typer",
    "rich",
    "jinja2",
    "matplotlib",
    "sqlalchemy",
    "nenscope.dicom",
    "nenscope.reporting",
    "nenscope.pipeline",
    "nenscope.registration",
    "nenscope.api",
    "nenscope.cli",
    "nenscope.web",
    "nenscope.knowledge",
)
FORBIDDEN_IN_CORE = (
    *FORBIDDEN_IN_PURE,
    "nenscope.quantification",
    "nenscope.segmentation",
    "nenscope.radiomics",
    "nenscope.scoring",
    "scipy",
)


def _imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _cases() -> list[tuple[str, Path]]:
    return [(pkg, p) for pkg in PURE for p in sorted((SRC / pkg).rglob("*.py"))]


@pytest.mark.parametrize(("package", "path"), _cases(), ids=lambda v: str(v))
def test_pure_package_imports_point_inward(package: str, path: Path) -> None:
    forbidden = FORBIDDEN_IN_CORE if package == "core" else FORBIDDEN_IN_PURE
    bad = [
        name
        for name in _imported_modules(path)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]
    assert not bad, f"{path.relative_to(SRC)} imports {bad}, which breaks STYLE 1.1"


def test_only_dicom_layer_uses_pydicom() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts[0] == "dicom":
            continue
        for name in _imported_modules(path):
            if name.split(".")[0] in {"pydicom", "highdicom"}:
                offenders.append(f"{rel}: {name}")
    assert not offenders, f"pydicom/highdicom used outside nenscope.dicom: {offenders}"


def _layer_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return (
        rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 or rel.name != "__init__.py" else ""
    )


def _nenscope_imports(path: Path) -> list[str]:
    """The nenscope packages a module imports (first name after ``nenscope.``)."""
    out = []
    for name in _imported_modules(path):
        parts = name.split(".")
        if parts[0] == "nenscope" and len(parts) > 1:
            out.append(parts[1])
    return out


def _all_modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_every_module_belongs_to_a_layer() -> None:
    unknown = sorted(
        {
            str(p.relative_to(SRC))
            for p in _all_modules()
            if _layer_of(p) and _layer_of(p) not in LAYERS
        }
    )
    assert not unknown, (
        f"{unknown} are outside every layer of LAYERS; put them into a layer's package "
        "(e.g. nenscope/pipeline/) or add the new package to LAYERS with its rank."
    )


def test_no_upward_import() -> None:
    bad = []
    for path in _all_modules():
        layer = _layer_of(path)
        if not layer or layer not in LAYERS:
            continue
        for target in _nenscope_imports(path):
            rank = LAYERS.get(target)
            if rank is None or rank > LAYERS[layer]:
                bad.append(f"{path.relative_to(SRC)} imports nenscope.{target}")
    assert not bad, f"imports that point outward (STYLE 1.1): {bad}"


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_between_packages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in _all_modules():
        layer = _layer_of(path)
        if not layer:
            continue
        graph[layer].update(t for t in _nenscope_imports(path) if t != layer)
    cycle = _cycle(graph)
    assert cycle is None, f"import cycle between packages: {' -> '.join(cycle or [])}"


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
