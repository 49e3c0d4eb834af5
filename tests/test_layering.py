"""STYLE 1.1: imports point inward. Pure packages never import I/O libraries or outer layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "nenscope"

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
